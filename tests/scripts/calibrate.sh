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

# [[expect]]: the winner against the rule as written; one that cannot hold fails the command (exit 1), after the
# table; the search's own numbers decide (improvement = 1 - best / as written, recomputed here).
cat "$TMP/cal.toml" - >"$TMP/expect.toml" <<TOML
[[expect]]
metric = "improvement"
op = ">"
value = 0.999
[[expect]]
metric = "best_objective"
op = "<="
value = 1e9
TOML
set +e
"$BIN" calibrate "$TMP/expect.toml" --json --quiet >"$TMP/e.json" 2>"$TMP/e.err"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q "expectation failed: .*expect.toml:18: improvement > 0.999" "$TMP/e.err" || { echo "check failed: line 70"; exit 1; }
/usr/bin/python3 - "$TMP/e.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
imp = 1 - d["best"]["objective"] / d["as_written"]["objective"]
e = d["expectations"]
assert [x["ok"] for x in e] == [False, True], e
assert abs(e[0]["actual"] - imp) < 1e-12, (e[0], imp)
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
[ "$rc1" = 2 ] && grep -q "bad1.toml:17" "$TMP/e1" && grep -q "grid.scale_in_below" "$TMP/e1" || { echo "check failed: line 89"; exit 1; }
[ "$rc2" = 2 ] && grep -q "bad2.toml:7" "$TMP/e2" && grep -q "mu_usd_per_change" "$TMP/e2" || { echo "check failed: line 90"; exit 1; }
echo "calibrate: ok"
