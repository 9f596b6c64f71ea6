#!/bin/bash
# `autoscale train-rl` through the real binary: a small PPO training (fluid mode, a shortened rl_env.toml) into a
# fresh registry, what model.json records (features and their training range, the reward, the curve, the data's
# SHA-256), bit-reproducibility for a seed, the `rl` controller running the policy in a scenario (every decision
# the policy's or a named fallback's), DQN, and bad input exiting 2 with file, line and key.
set -euo pipefail
BIN="$1"
SRC="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

"$BIN" validate "$SRC/scenarios/train_rl.toml" | grep -q "5 training runs, ppo"

cat >"$TMP/mini.toml" <<TOML
name = "mini"
seed = 5
[env]
scenarios = ["$SRC/scenarios/rl_env.toml"]
set = ["duration_s=3600"]
fidelity = "fluid"
num_envs = 2
day_s = 21600
max_step = 2
lambda_usd_per_violation_s = 0.01
mu_usd_per_change = 0.002
[[curriculum]]
runs = ["nasa_jul04"]
steps = 512
[[curriculum]]
runs = ["nasa_jul04", "eu_day2"]
steps = 1
[algorithm]
kind = "ppo"
total_steps = 2048
rollout_steps = 128
minibatch = 64
[eval]
every_updates = 4
seeds = [99]
TOML
"$BIN" train-rl "$TMP/mini.toml" --out "$TMP/models" --json --quiet >"$TMP/a.json"
"$BIN" train-rl "$TMP/mini.toml" --out "$TMP/models" --json --quiet >"$TMP/b.json"
/usr/bin/python3 - "$TMP" <<'PY'
import json, sys
tmp = sys.argv[1]
a, b = json.load(open(tmp + "/a.json")), json.load(open(tmp + "/b.json"))
assert (a["name"], a["version"], b["version"]) == ("mini", 1, 2), (a, b)
assert a["steps"] >= 2048 and a["updates"] == 8 and a["final_eval_reward"] is not None
m1 = json.load(open(tmp + "/models/mini/1/model.json"))
m2 = json.load(open(tmp + "/models/mini/2/model.json"))
assert m1["kind"] == "rl_policy"
# Bit-reproducible: the same seed gives the same weights.
assert m1["weights"]["sha256"] == m2["weights"]["sha256"], (m1["weights"], m2["weights"])
f = m1["features"]
assert len(f["names"]) == 20 and f["names"][1] == "arrival_rps"
assert all(lo <= hi for lo, hi in zip(f["feature_min"], f["feature_max"]))
assert f["options"]["day_s"] == 21600 and f["options"]["interval_s"] == 60
# rps_scale: 40 instances x 2 cores x 2.5/2.5 Gflop/s / 0.1 s of work = 800 rps.
assert abs(f["scales"]["rps_scale"] - 800) < 1e-9, f["scales"]
assert m1["env"]["lambda_usd_per_violation_s"] == 0.01 and m1["env"]["fidelity"] == "fluid"
assert len(m1["data"]) == 1 and len(m1["data"][0]["sha256"]) == 64
assert len(m1["metrics"]["curve"]) == 8
print("train-rl: eval reward", a["final_eval_reward"])
PY

# The policy in a scenario (rl_vs_reactive.toml without its expectations, which are about the shipped policy; fast
# mode, shortened): every decision is the policy's or the fallback's, with reasons.
/usr/bin/python3 -c "import sys; s = open(sys.argv[1]).read().replace('../traces/', sys.argv[3] + '/traces/')
open(sys.argv[2], 'w').write(s[:s.index('[[expect]]')])" "$SRC/scenarios/rl_vs_reactive.toml" "$TMP/vs.toml" "$SRC"
"$BIN" run "$TMP/vs.toml" --set duration_s=1800 --set 'fidelity="fast"' \
  --set "controller.model=\"$TMP/models/mini/1\"" --quiet --json --out "$TMP/run.h5" >"$TMP/run.json"
/usr/bin/python3 - "$TMP/run.h5" <<'PY'
import collections, sys
import h5py
d = h5py.File(sys.argv[1], "r")["runs/rl/decisions"][:]
rules = collections.Counter(r["rule"].decode().split(",")[0].split(":")[0] for r in d)
assert len(d) == 30 and set(rules) <= {"rl", "fallback"}, rules
print("rl controller decisions:", dict(rules))
PY

# [[expect]] on the training's result: one that cannot hold fails the command (exit 1), the model stored anyway.
cat "$TMP/mini.toml" - >"$TMP/expect.toml" <<TOML
[[expect]]
metric = "final_eval_reward"
op = ">"
value = 1e9
TOML
set +e
"$BIN" train-rl "$TMP/expect.toml" --out "$TMP/models" --quiet 2>&1 | tee "$TMP/expect.out"
rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 1 ] && grep -q "expectation failed: .*expect.toml:26: final_eval_reward > 1e9" "$TMP/expect.out" &&
  [ -f "$TMP/models/mini/3/model.json" ] || { echo "check failed: line 92"; exit 1; }

# DQN trains too.
sed -e 's/kind = "ppo"/kind = "dqn"\nlearning_starts = 256/' -e 's/^name = "mini"/name = "mini_dqn"/' \
  "$TMP/mini.toml" >"$TMP/dqn.toml"
"$BIN" train-rl "$TMP/dqn.toml" --out "$TMP/models" --quiet | grep -q "trained mini_dqn@1 (dqn"

# Bad input: exit 2, naming the file, the line and the key.
check_bad() {  # sed expression, expected text
  sed -e "$1" "$TMP/mini.toml" >"$TMP/bad.toml"
  set +e
  "$BIN" train-rl "$TMP/bad.toml" --out "$TMP/models" --quiet 2>"$TMP/err"
  local rc=$?
  set -e
  [ "$rc" = 2 ] || { echo "exit $rc for $1"; cat "$TMP/err"; exit 1; }
  grep -q -- "$2" "$TMP/err" || { echo "no '$2' for $1:"; cat "$TMP/err"; exit 1; }
}
check_bad 's/kind = "ppo"/kind = "a2c"/' "bad.toml:19.*algorithm.kind"
check_bad 's/minibatch = 64/minibatch = 64\nbatch_siz = 3/' "bad.toml:23.*batch_siz"
check_bad 's/max_step = 2/max_step = 0/' "bad.toml:9.*env.max_step"
check_bad 's/runs = \["nasa_jul04"\]/runs = ["nasa_jul05"]/' "curriculum.runs"
check_bad 's/kind = "ppo"/kind = "dqn"/; s/max_step = 2/max_step = 2\naction = "continuous"/' "algorithm"
set +e
"$BIN" run "$TMP/mini.toml" 2>"$TMP/err"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "autoscale train-rl" "$TMP/err" || { echo "check failed: line 119"; exit 1; }
echo "train-rl: ok"
