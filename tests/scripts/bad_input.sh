#!/usr/bin/env bash
# Every class of bad input exits with status 2, names the file, the line and the key, and writes no result.
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
  rm -f "$T/out.h5"
  "$AS" run "$file" --out "$T/out.h5" --quiet >"$T/msg" 2>&1
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
expect "negative duration" "$T/neg.toml" "neg.toml:$line" "launch_s" ">= 0"

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

# Bad --set and bad CLI flags.
"$AS" run "$base" --set services.nosuch.workers=3 --out "$T/out.h5" --quiet >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "nosuch" "$T/msg" && [ ! -e "$T/out.h5" ]; then echo "ok   bad --set"; else echo "FAIL bad --set (rc=$rc)"; fail=1; fi
"$AS" run "$base" --no-such-flag >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "no-such-flag" "$T/msg"; then echo "ok   bad CLI flag"; else echo "FAIL bad CLI flag (rc=$rc)"; fail=1; fi
"$AS" inspect "$T/not_there.h5" >"$T/msg" 2>&1
rc=$?
if [ $rc -eq 2 ] && grep -q "not_there.h5" "$T/msg"; then echo "ok   inspect missing file"; else echo "FAIL inspect missing file (rc=$rc)"; fail=1; fi

exit $fail
