#!/bin/bash
# `autoscale calibrate` through the real binary: a small grid on the RL training days (shortened), its JSON
# against an independent recomputation (each point's objective from its own means, the best the lowest), the same
# result twice (deterministic, whatever --jobs), the --out file holding the winner, and bad input exiting 2 with
# file, line and key. The shipped calibration file validates (its full search takes minutes: README).
set -euo pipefail
BIN="$1"
SRC="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$BIN" validate "$SRC/scenarios/calibrate_threshold.toml" | grep -q "108 grid points"

cat >"$TMP/cal.toml" <<TOML
name = "small"
scenarios = ["$SRC/scenarios/rl_env.toml"]
seeds = [3]
set = ["duration_s=3600"]
[objective]
lambda_usd_per_violation_s = 0.01
mu_usd_per_change = 0.002
[controller]
kind = "aws_simple"
metric = "cpu_utilization"
scale_out_above = 0.7
scale_in_below = 0.3
cooldown_s = 300
interval_s = 60
[grid]
scale_out_above = [0.6, 0.8]
scale_in_below = [0.2, 0.7]
TOML
"$BIN" calibrate "$TMP/cal.toml" --json --quiet --jobs 2 --out "$TMP/best.toml" >"$TMP/a.json"
"$BIN" calibrate "$TMP/cal.toml" --json --quiet --jobs 1 >"$TMP/b.json"
/usr/bin/python3 - "$TMP/a.json" "$TMP/b.json" "$TMP/best.toml" <<'PY'
import json, sys, tomllib
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a == b, "calibrate is not deterministic across --jobs"
assert a["runs"] == 5, a["runs"]  # the five days of rl_env.toml at one seed
points = a["points"]
assert len(points) == 3, points  # scale_in_below = 0.7 over scale_out_above = 0.6 is refused
assert len(a["skipped"]) == 1 and a["skipped"][0]["values"] == {"scale_in_below": 0.7, "scale_out_above": 0.6}
for p in points:
    want = p["cost_usd"] + 0.01 * p["violation_s"] + 0.002 * p["changes"]
    assert abs(p["objective"] - want) < 1e-9 * max(1, want), p
assert a["best"]["objective"] == min(p["objective"] for p in points)
best = tomllib.load(open(sys.argv[3], "rb"))
assert best["kind"] == "aws_simple" and best["cooldown_s"] == 300
for k, v in a["best"]["values"].items():
    assert best[k] == v, (k, best[k], v)
print("calibrate: best", a["best"]["values"], "objective", round(a["best"]["objective"], 4))
PY

# Bad input: exit 2, the file, the line and the key.
sed 's/^scale_in_below = \[0.2, 0.7\]/scale_in_below = 0.2/' "$TMP/cal.toml" >"$TMP/bad1.toml"
set +e
"$BIN" calibrate "$TMP/bad1.toml" --quiet 2>"$TMP/e1"
rc1=$?
sed 's/^mu_usd_per_change = 0.002/mu_usd_per_change = -1/' "$TMP/cal.toml" >"$TMP/bad2.toml"
"$BIN" calibrate "$TMP/bad2.toml" --quiet 2>"$TMP/e2"
rc2=$?
set -e
[ "$rc1" = 2 ] && grep -q "bad1.toml:17" "$TMP/e1" && grep -q "grid.scale_in_below" "$TMP/e1"
[ "$rc2" = 2 ] && grep -q "bad2.toml:7" "$TMP/e2" && grep -q "mu_usd_per_change" "$TMP/e2"
echo "calibrate: ok"
