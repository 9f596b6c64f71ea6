#!/usr/bin/env bash
# Same scenario and seed: identical datasets (h5diff finds nothing outside wall-time data); another seed: different.
# `inspect --json` reports exactly what `run --json` reported, and `inspect` prints `run`'s table. A run that never
# scales has no latency_p95_during_scaling_s: "no scaling" in the table, null in JSON.
# Usage: determinism.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
s="$SRC/scenarios/quickstart.toml"
args=(--set duration_s=7200 --quiet)
"$AS" run "$s" "${args[@]}" --out "$T/a.h5" --json >"$T/a.json" || [ $? -eq 1 ] || { echo "FAIL run a"; exit 1; }
"$AS" run "$s" "${args[@]}" --out "$T/b.h5" >/dev/null || [ $? -eq 1 ] || { echo "FAIL run b"; exit 1; }
"$AS" run "$s" "${args[@]}" --out "$T/c.h5" --seed 99 >/dev/null || [ $? -eq 1 ] || { echo "FAIL run c"; exit 1; }
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
# A run that never scales: latency_p95_during_scaling_s has no value (NaN in the file), the table says "no scaling"
# and JSON null; the table notes that latency percentiles leave failed requests out; inspect prints run's table.
"$AS" run "$s" --set duration_s=1800 --set 'controller={kind="static",instances=4,services=["web"]}' --quiet \
  --out "$T/s.h5" >"$T/s.txt" || [ $? -eq 1 ] || { echo "FAIL run static"; exit 1; }
"$AS" inspect "$T/s.h5" >"$T/si.txt" || { echo "FAIL inspect static"; exit 1; }
"$AS" inspect "$T/s.h5" --json >"$T/si.json" || { echo "FAIL inspect --json static"; exit 1; }
if grep -Eq '^latency_p95_during_scaling_s +no scaling$' "$T/s.txt" &&
  grep -q '^latency_\*: percentiles of completed requests only; failed requests' "$T/s.txt" &&
  /usr/bin/python3 -c 'import json, sys; sys.exit(json.load(open(sys.argv[1]))["runs"]["static"]["latency_p95_during_scaling_s"] is not None)' "$T/si.json"
then echo "ok   never scales: 'no scaling', null"; else echo "FAIL never scales: $(grep during_scaling "$T/s.txt" "$T/si.json")"; fail=1; fi
if diff <(sed -n '/^metric /,/^latency_\*/p' "$T/s.txt") <(sed -n '/^metric /,/^latency_\*/p' "$T/si.txt") &&
  grep -q '^requests_total ' "$T/si.txt"
then echo "ok   inspect prints run's table"; else echo "FAIL inspect's table differs from run's"; fail=1; fi
exit $fail
