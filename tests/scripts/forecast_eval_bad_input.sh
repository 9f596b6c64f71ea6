#!/usr/bin/env bash
# `autoscale forecast-eval`: every class of bad input exits with status 2, names the file, the line and the key,
# and writes nothing (no result file, no results/ directory, no temporary file). Each command is bounded by
# `timeout 60`.
# Usage: forecast_eval_bad_input.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
cp "$SRC/traces/worldcup98_5min.csv" "$T/wc.csv"
cd "$T" || exit 1

# expect NAME FILE PATTERN...: exit 2, every pattern (extended regex) in the message, nothing written.
expect() {
  local name=$1 file=$2
  shift 2
  rm -rf "$T/out" "$T/results"
  mkdir "$T/out"
  timeout 60 "$AS" forecast-eval "$file" --out "$T/out/eval.h5" --quiet >"$T/msg" 2>&1
  local rc=$?
  local ok=1
  [ $rc -eq 2 ] || ok=0
  for p in "$@"; do grep -qE -- "$p" "$T/msg" || ok=0; done
  [ -z "$(ls -A "$T/out")" ] || ok=0
  [ ! -e "$T/results" ] || ok=0
  if [ $ok -eq 1 ]; then echo "ok   $name"; else
    echo "FAIL $name (rc=$rc): $(cat "$T/msg"); written: $(ls -A "$T/out")"
    fail=1
  fi
}

# write FILE: the file from stdin.
write() { cat >"$T/$1"; }

write unknown_kind.toml <<'EOF'
[trace]
path = "wc.csv"
[[forecaster]]
name = "mine"
kind = "arima"
EOF
expect "unknown forecaster kind" unknown_kind.toml "unknown_kind\.toml:5: 'forecaster\.mine\.kind'" "forecaster kind"

write typo.toml <<'EOF'
[trace]
path = "wc.csv"
[evaluation]
horizon_s = [300]
EOF
expect "unknown key, with a hint" typo.toml "typo\.toml:4: 'evaluation\.horizon_s'" "did you mean 'horizons_s'"

write horizon.toml <<'EOF'
[trace]
path = "wc.csv"
[evaluation]
horizons_s = [300, 0]
EOF
expect "horizon not positive" horizon.toml "horizon\.toml:4: 'evaluation\.horizons_s'" "out of range" "\(0, "

write negative.toml <<'EOF'
[trace]
path = "wc.csv"
[evaluation]
horizons_s = [-900]
EOF
expect "negative horizon" negative.toml "negative\.toml:4: 'evaluation\.horizons_s'"

write step.toml <<'EOF'
[trace]
path = "wc.csv"
step_s = 450
EOF
expect "step not a multiple of the trace's bin" step.toml "step\.toml:3: 'trace\.step_s'" "whole multiple of the trace's 300-s bins"

printf 't_s,rps\n0,1\n300,2\n600,two\n900,4\n' >"$T/badrow.csv"
write badrow.toml <<'EOF'
[trace]
path = "badrow.csv"
EOF
expect "trace with a bad row" badrow.toml "badrow\.csv:4: 'rps'" "expected a finite number"

write missing_trace.toml <<'EOF'
[trace]
path = "nowhere.csv"
EOF
expect "missing trace file" missing_trace.toml "nowhere\.csv" "cannot open trace file"

write no_trace.toml <<'EOF'
[evaluation]
horizons_s = [300]
EOF
expect "no [trace]" no_trace.toml "no_trace\.toml:1: 'trace'" "required"

write both.toml <<'EOF'
[trace]
path = "wc.csv"
[evaluation]
train_fraction = 0.5
train_until_s = 100000
EOF
expect "train_fraction and train_until_s" both.toml "both\.toml:5: 'evaluation\.train_until_s'" "not both"

write window.toml <<'EOF'
[trace]
path = "wc.csv"
start_s = 99999999
EOF
expect "start outside the trace" window.toml "window\.toml:3: 'trace\.start_s'" "inside the trace"

write dup.toml <<'EOF'
[trace]
path = "wc.csv"
[[forecaster]]
name = "a"
kind = "naive"
[[forecaster]]
name = "a"
kind = "ewma"
EOF
expect "duplicate forecaster name" dup.toml "dup\.toml:7: 'forecaster\.a\.name'" "another \[\[forecaster\]\]"

write range.toml <<'EOF'
[trace]
path = "wc.csv"
[[forecaster]]
name = "ar"
kind = "ar"
order = 100
EOF
expect "forecaster key out of range" range.toml "range\.toml:6: 'forecaster\.ar\.order'" "\[1, 64\]"

write intervals.toml <<'EOF'
[trace]
path = "wc.csv"
[[forecaster]]
name = "ar"
kind = "ar"
intervals = "conformal"
EOF
expect "unknown intervals" intervals.toml "intervals\.toml:6: 'forecaster\.ar\.intervals'" "\"empirical\""

write anomaly.toml <<'EOF'
[trace]
path = "wc.csv"
[anomaly]
forecaster = "nope"
EOF
expect "anomaly forecaster not evaluated" anomaly.toml "anomaly\.toml:4: 'anomaly\.forecaster'" "\"direct_ar\""

echo '{"windows": [{"start_t_s": 1}]}' >"$T/labels.json"
write labels.toml <<'EOF'
[trace]
path = "wc.csv"
[anomaly]
labels = "labels.json"
EOF
expect "labels without end_t_s" labels.toml "labels\.json: 'windows\[0\]\.end_t_s'"

printf '{"windows": [\n  {"start_t_s": 1, \n' >"$T/broken.json"
write broken.toml <<'EOF'
[trace]
path = "wc.csv"
[anomaly]
labels = "broken.json"
EOF
expect "labels not JSON" broken.toml "broken\.json:3" "invalid JSON"

write horizon_model.toml <<'EOF'
[trace]
path = "wc.csv"
[evaluation]
horizons_s = [300, 86400]
[[forecaster]]
name = "net"
kind = "lstm"
max_horizon_steps = 12
EOF
expect "horizon beyond a network's heads" horizon_model.toml \
  "horizon_model\.toml:8: 'forecaster\.net\.max_horizon_steps'" "288 steps"

# A zero in the series: multiplicative Holt-Winters refuses it while fitting; the section is named.
{ echo "t_s,rps"; for i in $(seq 0 599); do echo "$((i * 60)),$(( i % 50 == 0 ? 0 : 5 + i % 7 ))"; done; } >"$T/zeros.csv"
write zeros.toml <<'EOF'
[trace]
path = "zeros.csv"
[[forecaster]]
name = "hw"
kind = "holt_winters"
period_steps = 60
seasonality = "multiplicative"
EOF
expect "a forecaster that rejects the series" zeros.toml "zeros\.toml:5: 'forecaster\.hw\.kind'" "positive values"

# --out naming a directory.
write ok.toml <<'EOF'
[trace]
path = "wc.csv"
end_s = 400000
EOF
mkdir -p "$T/dir.h5"
timeout 60 "$AS" forecast-eval ok.toml --out "$T/dir.h5" --quiet >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q -- "--out" "$T/msg"; then echo "ok   --out is a directory"; else
  echo "FAIL --out is a directory (rc=$rc): $(cat "$T/msg")"
  fail=1
fi
# The same file is good: exit 0, the table on stdout, the file written, no temporary left beside it.
timeout 60 "$AS" forecast-eval ok.toml --out "$T/good.h5" --quiet >"$T/table" 2>"$T/msg"
rc=$?
if [ $rc -eq 0 ] && [ -s "$T/good.h5" ] && [ -z "$(ls "$T" | grep -F '.tmp.')" ] &&
  grep -qE '^direct_ar +900 ' "$T/table" && grep -q '^best per horizon' "$T/table" &&
  grep -q "^results: $T/good.h5" "$T/table"; then echo "ok   good input: the table, the file written"; else
  echo "FAIL good input (rc=$rc): $(cat "$T/msg")"
  fail=1
fi
exit $fail
