#!/usr/bin/env bash
# Every class of bad input exits with status 2, names the file, the line and the key, and writes no result. Each
# command is bounded by `timeout 20`: input that hangs fails the test instead of hanging it.
# Usage: bad_input.sh AUTOSCALE_BINARY SOURCE_DIR
set -u
AS=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
base="$SRC/scenarios/slow_startup.toml"
trace="$SRC/traces/nasa_http_1995.csv"

# expect NAME FILE PATTERN...: exit 2, every pattern (extended regex) in the message, no output file.
expect() {
  local name=$1 file=$2; shift 2
  expect_args "$name" "$file" "" "$@"
}

# expect_args NAME FILE ARGS PATTERN...: the same, with more arguments (ARGS, split on spaces) after the file.
expect_args() {
  local name=$1 file=$2 args=$3; shift 3
  rm -f "$T/out.h5"
  # shellcheck disable=SC2086
  timeout 20 "$AS" run "$file" $args --out "$T/out.h5" --quiet >"$T/msg" 2>&1
  local rc=$?
  local ok=1
  [ $rc -eq 2 ] || ok=0
  for p in "$@"; do grep -qE -- "$p" "$T/msg" || ok=0; done
  [ ! -e "$T/out.h5" ] || ok=0
  if [ $ok -eq 1 ]; then echo "ok   $name"; else echo "FAIL $name (rc=$rc): $(cat "$T/msg")"; fail=1; fi
}

# A scenario with a trace source, written next to its trace so that relative paths work.
with_trace() {  # $1: trace file path to use
  sed -e 's|^kind = "constant"|kind = "trace"\npath = "'"$1"'"|' -e 's|^rate_rps = 30$||' "$base"
}

# Unknown key, with a hint and the line of the key.
{ cat "$base"; echo; echo "[monitoring]"; echo "scrape_intervall_s = 10"; } >"$T/unknown.toml"
line=$(grep -n scrape_intervall_s "$T/unknown.toml" | cut -d: -f1)
expect "unknown key" "$T/unknown.toml" "unknown.toml:$line" "scrape_intervall_s" "did you mean 'scrape_interval_s'"

# Wrong type.
sed 's|^workers = 4|workers = "four"|' "$base" >"$T/type.toml"
line=$(grep -n 'workers = "four"' "$T/type.toml" | cut -d: -f1)
expect "wrong type" "$T/type.toml" "type.toml:$line" "services\.api\.workers" "expected an integer"

# Negative duration.
sed 's|^launch_s = 5|launch_s = -5|' "$base" >"$T/neg.toml"
line=$(grep -n 'launch_s = -5' "$T/neg.toml" | cut -d: -f1)
expect "negative duration" "$T/neg.toml" "neg.toml:$line" "launch_s" "value -5 is out of range" "in \[0, 31536000\]"

# TOML syntax error.
{ head -5 "$base"; echo "x = [1, 2"; } >"$T/syntax.toml"
expect "TOML syntax" "$T/syntax.toml" "syntax.toml:[0-9]+" "TOML syntax error"

# Unknown controller kind.
sed 's|^kind = "threshold"|kind = "threshhold"|' "$base" >"$T/kind.toml"
expect "unknown controller kind" "$T/kind.toml" "kind.toml:[0-9]+" "did you mean 'threshold'"

# Missing trace file.
with_trace "$T/missing_trace.csv" >"$T/missing.toml"
expect "missing trace file" "$T/missing.toml" "missing_trace.csv" "cannot open"

# Malformed trace row.
{ echo "t_s,rps"; echo "0,1.5"; echo "60,abc"; echo "120,2"; } >"$T/malformed.csv"
with_trace "$T/malformed.csv" >"$T/malformed.toml"
expect "malformed trace row" "$T/malformed.toml" "malformed.csv:3" "expected a finite number"

# Non-monotone trace.
{ echo "t_s,rps"; echo "0,1"; echo "60,1"; echo "30,1"; } >"$T/nonmono.csv"
with_trace "$T/nonmono.csv" >"$T/nonmono.toml"
expect "non-monotone trace" "$T/nonmono.toml" "nonmono.csv:4" "strictly ascending"

# Negative trace row.
{ echo "t_s,rps"; echo "0,1"; echo "60,-3"; } >"$T/negative.csv"
with_trace "$T/negative.csv" >"$T/negtrace.toml"
expect "negative trace row" "$T/negtrace.toml" "negative.csv:3" "negative rate"

# Empty trace (header only) and an empty file.
echo "t_s,rps" >"$T/empty.csv"
with_trace "$T/empty.csv" >"$T/empty.toml"
expect "empty trace" "$T/empty.toml" "empty.csv" "no data rows"
: >"$T/void.csv"
with_trace "$T/void.csv" >"$T/void.toml"
expect "empty trace file" "$T/void.toml" "void.csv:1" "empty trace file"

# Capacity that can never exist: a fixed pool larger than the hosts, a pod larger than its nodes.
k8s="$SRC/scenarios/flash_crowd.toml"
sed 's|^nodes = 10|nodes = 30|' "$k8s" >"$T/pool.toml"
line=$(grep -n '^nodes = 30' "$T/pool.toml" | cut -d: -f1)
expect "fixed pool larger than the hosts" "$T/pool.toml" "pool.toml:$line" "node_pools\.workers\.nodes" "room for only 16"
sed 's|^cpu_request = 1.0|cpu_request = 9|' "$k8s" >"$T/pod.toml"
line=$(grep -n '^cpu_request = 9' "$T/pod.toml" | cut -d: -f1)
expect "pod larger than its nodes" "$T/pod.toml" "pod.toml:$line" "services\.frontend\.cpu_request" "at most the 8 vCPU"

# Integers are range-checked before they are narrowed: 2^32 workers is not 0 workers.
sed 's|^workers = 4|workers = 4294967296|' "$base" >"$T/narrow.toml"
line=$(grep -n '^workers = 4294967296' "$T/narrow.toml" | cut -d: -f1)
expect "integer too large for its key" "$T/narrow.toml" "narrow.toml:$line" "services\.api\.workers" \
  "4294967296 is out of range" "\[1, 10000\]"

# NaN and infinity in controller settings (read through Params).
sed 's|^scale_out_above = 0.7|scale_out_above = nan|' "$base" >"$T/nan.toml"
line=$(grep -n '^scale_out_above = nan' "$T/nan.toml" | cut -d: -f1)
expect "nan in a controller setting" "$T/nan.toml" "nan.toml:$line" "controller\.scale_out_above" "not a finite number"
sed 's|^cooldown_s = 120|cooldown_s = inf|' "$base" >"$T/inf.toml"
line=$(grep -n '^cooldown_s = inf' "$T/inf.toml" | cut -d: -f1)
expect "inf in a controller setting" "$T/inf.toml" "inf.toml:$line" "controller\.cooldown_s" "not a finite number"

# Intervals too small for time to advance, or too many of them.
{ cat "$base"; echo; echo "[monitoring]"; echo "scrape_interval_s = 1e-300"; } >"$T/scrape.toml"
line=$(grep -n 'scrape_interval_s = 1e-300' "$T/scrape.toml" | cut -d: -f1)
expect "tiny scrape interval" "$T/scrape.toml" "scrape.toml:$line" "monitoring\.scrape_interval_s" "\[0\.001, 86400\]"
sed -e 's|^duration_s = 5400|duration_s = 100000|' -e 's|^record_interval_s = 30|record_interval_s = 0.001|' \
  "$base" >"$T/rows.toml"
line=$(grep -n '^record_interval_s = 0.001' "$T/rows.toml" | cut -d: -f1)
expect "too many time-series rows" "$T/rows.toml" "rows.toml:$line" "'record_interval_s'" "at most 10000000"
sed 's|^interval_s = 60|interval_s = 1e-9|' "$base" >"$T/tick.toml"
expect "tiny controller interval" "$T/tick.toml" "tick.toml:[0-9]+" "controller\.interval_s" "\[0\.001, 86400\]"

# Sizes that would exhaust memory or time.
sed 's|^count = 8|count = 1000000000|' "$base" >"$T/hosts.toml"
line=$(grep -n '^count = 1000000000' "$T/hosts.toml" | cut -d: -f1)
expect "a billion hosts" "$T/hosts.toml" "hosts.toml:$line" "cluster\.hosts\.count" "\[1, 10000\]"
sed 's|^duration_s = 5400|duration_s = 1e300|' "$base" >"$T/forever.toml"
expect "endless duration" "$T/forever.toml" "forever.toml:7" "'duration_s'" "\(0, 31536000\]"
sed 's|^max_instances = 40|max_instances = 1000000000|' "$base" >"$T/fleet.toml"
expect "a billion instances" "$T/fleet.toml" "fleet.toml:[0-9]+" "services\.api\.max_instances" "\[0, 10000\]"

# Names that would break HDF5 paths or file names.
for bad in 'a/b' '..' 'a,b' ''; do
  sed 's|^name = "api"|name = "'"$bad"'"|' "$base" >"$T/name.toml"
  line=$(grep -n '^name = "'"$bad"'"' "$T/name.toml" | cut -d: -f1)
  expect "service name '$bad'" "$T/name.toml" "name.toml:$line" "services\..*\.name" "A-Z a-z 0-9 _ \. -"
done
sed 's|^name = "slow_startup"|name = "../elsewhere"|' "$base" >"$T/scname.toml"
expect "scenario name '../elsewhere'" "$T/scname.toml" "scname.toml:4" "'name'" "contains '/'"

# Settings that can never work: an instance type no host can take, an adjustment that changes nothing.
sed 's|^vcpu = 2|vcpu = 64|' "$base" >"$T/vcpu.toml"
expect "instance type larger than the hosts' cores" "$T/vcpu.toml" "vcpu.toml:20" "instance_types\.c5\.large\.vcpu" \
  "cores x cpu_overcommit = 16 vCPUs"
sed 's|^memory_gib = 4|memory_gib = 400|' "$base" >"$T/mem.toml"
expect "instance type larger than the hosts' memory" "$T/mem.toml" "mem.toml:21" "c5\.large\.memory_gib" \
  "hosts\.memory_gib = 64 GiB"
sed 's|^scale_out_adjustment = 3|scale_out_adjustment = 0.5|' "$base" >"$T/adj.toml"
expect "adjustment of 0.5 instances" "$T/adj.toml" "adj.toml:[0-9]+" "controller\.scale_out_adjustment" \
  "change the count by 0"

# Trace windows: starting past the trace's end is bad input; running past it only warns (validate exits 0).
{ echo "t_s,rps"; echo "0,1"; echo "60,2"; echo "120,3"; } >"$T/short.csv"
with_trace "$T/short.csv" | sed 's|^path = \(.*\)$|path = \1\nstart_s = 500|' >"$T/window.toml"
line=$(grep -n '^start_s = 500' "$T/window.toml" | cut -d: -f1)
expect "trace window past the trace's end" "$T/window.toml" "window.toml:$line" "start_s" "spans \[0, 180\) s"
with_trace "$T/short.csv" >"$T/runs_past.toml"
timeout 20 "$AS" validate "$T/runs_past.toml" >/dev/null 2>"$T/msg"
rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^warning: .*runs_past.toml:[0-9]*:.*past the trace.s end' "$T/msg")" -eq 1 ]; then
  echo "ok   trace running past its end warns once"
else
  echo "FAIL trace running past its end warns once (rc=$rc): $(cat "$T/msg")"; fail=1
fi

# --seed out of range is not wrapped; a bad --set value is blamed on --set and its key, not on the file.
for seed in -1 1e30 99999999999999999999999; do
  expect_args "--seed $seed" "$base" "--seed $seed" "--seed" "\[0, 2\^63-1\]"
done
expect_args "bad --set value" "$base" "--set services.api.workers=four" \
  "^error: --set: 'services\.api\.workers': expected an integer"
expect_args "out-of-range --set value" "$base" "--set monitoring.scrape_interval_s=1e-9" \
  "^error: --set: 'monitoring\.scrape_interval_s'"
# A pod's CPU limit cannot be modelled inside a VM (overcommitted hosts make nodes VMs).
expect_args "cpu_limit with overcommitted hosts" "$SRC/scenarios/flash_crowd.toml" \
  "--set cluster.hosts.cpu_overcommit=2" "services\.frontend\.cpu_limit" "cpu_overcommit = 1"

# Bad --set and bad CLI flags.
timeout 20 "$AS" run "$base" --set services.nosuch.workers=3 --out "$T/out.h5" --quiet >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "nosuch" "$T/msg" && [ ! -e "$T/out.h5" ]; then echo "ok   bad --set"; else echo "FAIL bad --set (rc=$rc)"; fail=1; fi
timeout 20 "$AS" run "$base" --no-such-flag >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "no-such-flag" "$T/msg"; then echo "ok   bad CLI flag"; else echo "FAIL bad CLI flag (rc=$rc)"; fail=1; fi
timeout 20 "$AS" inspect "$T/not_there.h5" >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "not_there.h5" "$T/msg"; then echo "ok   inspect missing file"; else echo "FAIL inspect missing file (rc=$rc)"; fail=1; fi

exit $fail
