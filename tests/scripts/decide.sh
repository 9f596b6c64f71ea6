#!/usr/bin/env bash
# `autoscale decide`: the same controller from TOML and JSON decides the same; every line gets its answer; a bad line
# or a bad controller file exits 2 naming the file, the line and the field, and writes nothing.
# Usage: decide.sh AUTOSCALE_BINARY
set -u
AS=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fail=1; fi; }

printf 'kind = "static"\ninstances = 4\n' >"$T/c.toml"
printf '{"kind": "static", "instances": 4}\n' >"$T/c.json"
{
  echo '{"time_s": 15, "current_replicas": 2, "pods": [{"name": "a", "ready": true, "metrics": {"cpu": 500}, "requests": {"cpu": 1000}}]}'
  echo ''
  echo '{"time_s": 30, "current_replicas": 4, "pods": [], "metrics": {"queue": [1000, 2000]}}'
} >"$T/o.jsonl"
"$AS" decide --controller "$T/c.toml" --observations "$T/o.jsonl" >"$T/toml.out" 2>"$T/err"
rc=$?
n=$(grep -c desired_replicas "$T/toml.out")
[ $rc -eq 0 ] && [ "$n" -eq 2 ] && grep -q '"desired_replicas":4' "$T/toml.out" && r=ok || r=no
check "TOML controller: one answer per line" $r "rc=$rc $(cat "$T/err")"
"$AS" decide --controller "$T/c.json" --observations "$T/o.jsonl" --out "$T/json.out" 2>"$T/err"
cmp -s "$T/toml.out" "$T/json.out" && r=ok || r=no
check "JSON controller, --out: the same lines" $r "$(cat "$T/err")"

# expect NAME PATTERN... (runs with $T/ctl and $T/obs): exit 2, the patterns in stderr, nothing written.
expect() {
  local name=$1; shift
  rm -f "$T/out"
  "$AS" decide --controller "$T/ctl" --observations "$T/obs" --out "$T/out" >/dev/null 2>"$T/err"
  local rc=$? ok=1
  [ $rc -eq 2 ] || ok=0
  for p in "$@"; do grep -qE -- "$p" "$T/err" || ok=0; done
  [ ! -e "$T/out" ] && [ ! -e "$T/out.tmp" ] || ok=0
  [ $ok -eq 1 ] && check "$name" ok || check "$name" no "rc=$rc $(cat "$T/err")"
}
cp "$T/c.json" "$T/ctl.json"
ln -sf "$T/ctl.json" "$T/ctl"
cp "$T/o.jsonl" "$T/obs"
printf '{"time_s": 45, "current_replicas": 4}\n{"time_s": 60, "current_replicas": -1}\n' >>"$T/obs"
# The controller file is chosen by extension: a symlink without one is refused.
expect "controller file without .toml/.json" "expected a \\.toml or \\.json"
mv "$T/ctl.json" "$T/ctl2.json"; rm -f "$T/ctl"
decide_with() { "$AS" decide --controller "$1" --observations "$T/obs" --out "$T/out" >/dev/null 2>"$T/err"; }
decide_with "$T/ctl2.json"; rc=$?
[ $rc -eq 2 ] && grep -qE 'obs:5: .current_replicas.: expected a non-negative integer' "$T/err" && [ ! -e "$T/out" ] && r=ok || r=no
check "a bad line 5 names the line and field, writes nothing" $r "rc=$rc $(cat "$T/err")"
printf '{"time_s": 1, "current_replicas": 1, "podz": []}\n' >"$T/obs"
decide_with "$T/ctl2.json"; rc=$?
[ $rc -eq 2 ] && grep -qE "obs:1: .podz.: unknown field \(did you mean 'pods'" "$T/err" && r=ok || r=no
check "an unknown field with a hint" $r "rc=$rc $(cat "$T/err")"
printf '{"time_s": 1, "current_replicas": 1, "pods": [{"name": "a", "phase": "Runing"}]}\n' >"$T/obs"
decide_with "$T/ctl2.json"; rc=$?
[ $rc -eq 2 ] && grep -qE "obs:1: .pods\[0\]\.phase.: expected Running" "$T/err" && r=ok || r=no
check "a bad pod field names its path" $r "rc=$rc $(cat "$T/err")"
printf '{"time_s": 1, "current_replicas": 1}\n{"time_s": 2, "current_replicas": 1' >"$T/obs"
decide_with "$T/ctl2.json"; rc=$?
[ $rc -eq 2 ] && grep -qE "obs:2: JSON syntax error" "$T/err" && r=ok || r=no
check "a truncated line 2" $r "rc=$rc $(cat "$T/err")"
printf '{"kind": "static", "instances": 4, "instancez": 5}\n' >"$T/bad.json"
printf '{"time_s": 1, "current_replicas": 1}\n' >"$T/obs"
decide_with "$T/bad.json"; rc=$?
[ $rc -eq 2 ] && grep -qE "bad.json: .instancez.: unknown key \(did you mean 'instances'" "$T/err" && r=ok || r=no
check "an unknown controller key" $r "rc=$rc $(cat "$T/err")"
printf 'kind = "static"\ninstances = -3\n' >"$T/bad.toml"
decide_with "$T/bad.toml"; rc=$?
[ $rc -eq 2 ] && grep -qE "bad.toml:2: .instances." "$T/err" && r=ok || r=no
check "an out-of-range TOML controller key names its line" $r "rc=$rc $(cat "$T/err")"
exit $fail
