#!/usr/bin/env bash
# `autoscale train` and the model registry, as a user runs them: training twice gives byte-identical weights in two
# versions (never overwritten); `models list` and `models show` read them back; a damaged artifact, a bad training
# file and a wrong reference exit 2 naming the file and field; `autoscale run` refuses a training file; a predictive
# controller runs on a registry model (`model = "name@version"`) in a scenario.
# Usage: train.sh AUTOSCALE_BINARY REPOSITORY_ROOT
set -u
AS=$1
ROOT=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fail=1; fi; }

# A small model on the WorldCup98 trace, trained in seconds.
cat >"$T/small.toml" <<EOF
name = "wc_small"
[data]
traces = ["$ROOT/traces/worldcup98_5min.csv"]
step_s = 300
test_horizons_s = [300, 900]
[model]
kind = "gru"
input_steps = 24
max_horizon_steps = 3
hidden = 8
epochs = 2
seed = 7
EOF
"$AS" train "$T/small.toml" --out "$T/models" --json >"$T/a.json" 2>"$T/a.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"model": "wc_small@1"' "$T/a.json" && grep -q 'epoch   1/2' "$T/a.err" && r=ok || r=no
check "train: version 1, progress per epoch on stderr" $r "rc=$rc $(cat "$T/a.err" "$T/a.json")"
"$AS" train "$T/small.toml" --out "$T/models" --quiet >"$T/b.out" 2>"$T/b.err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$T/b.err" ] && grep -q 'wc_small@2' "$T/b.out" && r=ok || r=no
check "train again: version 2, quiet" $r "rc=$rc $(cat "$T/b.err" "$T/b.out")"
cmp -s "$T/models/wc_small/1/weights.pt" "$T/models/wc_small/2/weights.pt" && r=ok || r=no
check "same file, data and seed: byte-identical weights" $r "weights differ"
"$AS" train "$T/small.toml" --out "$T/models" --quiet --seed 8 >/dev/null 2>&1
cmp -s "$T/models/wc_small/1/weights.pt" "$T/models/wc_small/3/weights.pt" && r=no || r=ok
check "--seed 8: other weights, version 3" $r "the same weights with another seed"
for k in sha256 train_fraction best_epoch validation_loss coverage_80 project_version; do
  grep -q "\"$k\"" "$T/models/wc_small/1/model.json" || { check "model.json has $k" no "missing"; }
done

"$AS" models list --models "$T/models" >"$T/list" 2>&1
[ "$(grep -c '^wc_small@' "$T/list")" -eq 3 ] && grep -q worldcup98_5min.csv "$T/list" && r=ok || r=no
check "models list: three versions with their data" $r "$(cat "$T/list")"
AUTOSCALE_MODELS="$T/models" "$AS" models show wc_small@2 >"$T/show" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^ok: wc_small@2' "$T/show" && r=ok || r=no
check "models show NAME@VERSION (registry from \$AUTOSCALE_MODELS)" $r "rc=$rc $(tail -3 "$T/show")"
"$AS" models show "$T/models/wc_small/1" >/dev/null 2>&1 && r=ok || r=no
check "models show DIR" $r ""

# expect NAME COMMAND... : exit 2 and the last argument's pattern on stderr
expect() {
  local name=$1 pattern=$2; shift 2
  "$@" >/dev/null 2>"$T/err"
  local rc=$?
  [ $rc -eq 2 ] && grep -qE -- "$pattern" "$T/err" && check "$name" ok || check "$name" no "rc=$rc $(cat "$T/err")"
}
expect "show: unknown name" 'no model named "nope"' "$AS" models show nope --models "$T/models"
expect "show: unknown version" 'no version 9 .*versions: 1, 2, 3' "$AS" models show wc_small@9 --models "$T/models"
head -c 100 "$T/models/wc_small/3/weights.pt" >"$T/cut" && cp "$T/cut" "$T/models/wc_small/3/weights.pt"
expect "show: truncated weights" "wc_small/3/weights.pt.*truncated" "$AS" models show wc_small@3 --models "$T/models"
"$AS" models list --models "$T/models" >/dev/null 2>&1 && r=ok || r=no
check "models list still lists a registry with a damaged version" $r ""
sed 's/hidden = 8/hiden = 8/' "$T/small.toml" >"$T/typo.toml"
expect "train: unknown key" "typo.toml:[0-9]+: 'model.hiden'.*did you mean" "$AS" train "$T/typo.toml" --out "$T/m2"
[ ! -e "$T/m2/wc_small" ] && r=ok || r=no
check "train: nothing written on bad input" $r "$(ls -R "$T/m2" 2>/dev/null)"
sed 's/step_s = 300/step_s = 450/' "$T/small.toml" >"$T/step.toml"
expect "train: step not a multiple of the bin" "'data.step_s'.*whole multiple" "$AS" train "$T/step.toml" --out "$T/m2"
sed 's/kind = "gru"/kind = "ar"/' "$T/small.toml" >"$T/kind.toml"
expect "train: a kind that is not trained" "'model.kind'.*lstm" "$AS" train "$T/kind.toml" --out "$T/m2"
expect "run refuses a training file" "training file, not a scenario" "$AS" run "$ROOT/scenarios/train_lstm.toml"
"$AS" validate "$T/small.toml" "$ROOT/scenarios/train_lstm.toml" >"$T/v.out" 2>&1 && grep -q "small.toml: ok (training file" "$T/v.out" && r=ok || r=no
check "validate checks training files without training" $r "$(cat "$T/v.out")"
expect "validate names a training file's bad key" "typo.toml:[0-9]+: 'model.hiden'" "$AS" validate "$T/typo.toml"

# A predictive controller on the registry model: WorldCup98 at its own speed, one decision per 5-minute step.
cat >"$T/scenario.toml" <<EOF
name = "registry_model"
seed = 3
duration_s = 21600
[sla]
latency_s = 1.0
[cluster.hosts]
count = 4
cores = 16
[cluster.instance_types."c5.large"]
vcpu = 2
memory_gib = 4
price_per_hour_usd = 0.085
[[cluster.node_pools]]
name = "asg"
instance_type = "c5.large"
[[services]]
name = "web"
node_pool = "asg"
work_cpu_s = { dist = "exponential", mean = 0.1 }
workers = 4
initial_instances = 2
min_instances = 1
max_instances = 30
[[traffic.sources]]
kind = "trace"
path = "$ROOT/traces/worldcup98_5min.csv"
start_s = 2160000
end_s = 2181600
rate_scale = 0.05
[controller]
kind = "predictive"
interval_s = 300
rps_per_instance = 20
lead_s = 600
[controller.forecaster]
model = "wc_small@1"
models_dir = "models"
EOF
"$AS" run "$T/scenario.toml" --quiet --json --out "$T/r.h5" >"$T/run.json" 2>"$T/run.err"
rc=$?
[ $rc -eq 0 ] && grep -q '"scaling_actions"' "$T/run.json" && r=ok || r=no
check "a predictive controller runs on wc_small@1" $r "rc=$rc $(cat "$T/run.err")"
sed 's/interval_s = 300/interval_s = 60/' "$T/scenario.toml" >"$T/s60.toml"
expect "the model's step must be the controller's interval" "'controller.interval_s'.*300" "$AS" run "$T/s60.toml" --out "$T/x.h5"
sed 's/lead_s = 600/lead_s = 1800/' "$T/scenario.toml" >"$T/lead.toml"
expect "the lead must be within the model's horizon" "'controller.lead_s'.*3 intervals" "$AS" run "$T/lead.toml" --out "$T/x.h5"
sed 's/wc_small@1/wc_small@7/' "$T/scenario.toml" >"$T/v7.toml"
expect "an unknown model version names the key" "v7.toml:[0-9]+: 'controller.forecaster.model'.*no version 7" "$AS" run "$T/v7.toml" --out "$T/x.h5"
exit $fail
