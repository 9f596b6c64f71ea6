#!/usr/bin/env bash
# Same scenario and seed: identical datasets (h5diff finds nothing outside wall-time data); another seed: different.
# `inspect --json` reports exactly what `run --json` reported.
# Usage: determinism.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
s="$SRC/scenarios/quickstart.toml"
args=(--set duration_s=7200 --quiet)
"$AS" run "$s" "${args[@]}" --out "$T/a.h5" --json >"$T/a.json" || { echo "FAIL run a"; exit 1; }
"$AS" run "$s" "${args[@]}" --out "$T/b.h5" >/dev/null || { echo "FAIL run b"; exit 1; }
"$AS" run "$s" "${args[@]}" --out "$T/c.h5" --seed 99 >/dev/null || { echo "FAIL run c"; exit 1; }
wall="/runs/threshold/decisions_wall_time_s"
if h5diff -q --exclude-path "$wall" "$T/a.h5" "$T/b.h5"; then echo "ok   same seed: identical"; else echo "FAIL same seed differs"; h5diff -r --exclude-path "$wall" "$T/a.h5" "$T/b.h5" | head; fail=1; fi
if h5diff -q --exclude-path "$wall" "$T/a.h5" "$T/c.h5" >/dev/null; then echo "FAIL another seed gives the same data"; fail=1; else echo "ok   another seed: different"; fi
"$AS" inspect "$T/a.h5" --json >"$T/i.json" || { echo "FAIL inspect"; exit 1; }
if /usr/bin/python3 - "$T/a.json" "$T/i.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["runs"]; b = json.load(open(sys.argv[2]))["runs"]
sys.exit(0 if a == b and a else 1)
PY
then echo "ok   inspect --json equals run --json"; else echo "FAIL inspect --json differs from run --json"; fail=1; fi
exit $fail
