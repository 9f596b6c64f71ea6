#!/usr/bin/env bash
# `autoscale bench`, as a user runs it: controllers (inline and a scenario's runs) x scenarios x seeds; the JSON
# (means, intervals, paired differences, ranks, Pareto front); the HDF5 layout /bench/<scenario>/<controller>/<seed>
# with the same summaries as the JSON; the same data whether the runs went one at a time or in parallel; common
# random numbers (every controller sees the same arrivals at a seed); intervals that shrink with more seeds; bad
# bench files exit 2 naming the file, line and key, and write nothing.
# Usage: bench.sh AUTOSCALE_BINARY REPOSITORY_ROOT
set -u
AS=$1
ROOT=$2
PY=/usr/bin/python3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
check() { if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fail=1; fi; }

cat >"$T/b.toml" <<EOF
name = "small"
seeds = 3
baseline = "reactive"
metrics = ["sla_violation_fraction", "cost_usd", "latency_p95_s", "requests_total"]

[[scenario]]
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=1800"]

[[scenario]]
name = "worldcup_slow_boot"
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=1800", "services.web.startup.boot_s=120"]

[[controller]]
name = "reactive"
run = "reactive"

[[controller]]
name = "peak_fleet"
run = "peak_fleet"

[[controller]]
name = "hpa"
kind = "hpa"
minReplicas = 2
maxReplicas = 40
[[controller.metrics]]
type = "Resource"
[controller.metrics.resource]
name = "cpu"
[controller.metrics.resource.target]
type = "Utilization"
averageUtilization = 60
EOF
"$AS" bench "$T/b.toml" --out "$T/b1.h5" --jobs 1 --json >"$T/b1.json" 2>"$T/b1.err"
rc=$?
[ $rc -eq 0 ] && r=ok || r=no
check "bench runs 2 scenarios x 3 controllers x 3 seeds" $r "rc=$rc $(tail -5 "$T/b1.err")"
"$AS" bench "$T/b.toml" --out "$T/b2.h5" --jobs 2 --quiet >"$T/b2.txt" 2>"$T/b2.err"
rc=$?
[ $rc -eq 0 ] && grep -q "pareto front" "$T/b2.txt" && grep -q "^results: " "$T/b2.txt" && [ ! -s "$T/b2.err" ] && r=ok || r=no
check "the table on stdout, quiet stderr" $r "rc=$rc $(cat "$T/b2.err" "$T/b2.txt" | tail -5)"

$PY - "$T/b1.json" "$T/b1.h5" "$T/b2.h5" <<'EOF' >"$T/py.out" 2>&1
import json, sys
import h5py, numpy as np
j = json.load(open(sys.argv[1]))
problems = []
for k in ("bench", "output", "wall_s", "scenarios", "pareto", "vs_baseline", "ranks"):
    if k not in j: problems.append("json lacks " + k)
sc = j["scenarios"]
if sorted(sc) != ["worldcup", "worldcup_slow_boot"]: problems.append("scenarios %s" % sorted(sc))
for s in sc:
    if sorted(sc[s]) != ["hpa", "peak_fleet", "reactive"]: problems.append("controllers %s" % sorted(sc[s]))
    for c in sc[s]:
        for m, v in sc[s][c].items():
            if v["n"] != 3: problems.append("%s/%s/%s n=%s" % (s, c, m, v["n"]))
            if not (v["ci95_low"] <= v["mean"] <= v["ci95_high"]): problems.append("interval order %s/%s/%s" % (s, c, m))
    # common random numbers: every controller is offered the same requests at a seed
    tot = {c: sc[s][c]["requests_total"] for c in sc[s]}
    if len({round(t["mean"], 9) for t in tot.values()}) != 1: problems.append("requests_total differ across controllers: %s" % tot)
    # the baseline against itself: exactly zero
    d = j["vs_baseline"][s]["reactive"]["cost_usd"]
    if not (d["mean"] == 0 and d["ci95_low"] == 0 and d["ci95_high"] == 0): problems.append("baseline - baseline %s" % d)
    if not j["pareto"][s]: problems.append("empty pareto front")
f1, f2 = h5py.File(sys.argv[2], "r"), h5py.File(sys.argv[3], "r")
for s in sc:
    for c in sc[s]:
        vals = []
        for seed in ("1", "2", "3"):
            g = f1["bench/%s/%s/%s" % (s, c, seed)]
            vals.append(float(g["summary"].attrs["cost_usd"]) if "summary" in g and "cost_usd" in g["summary"].attrs else float(g.attrs.get("cost_usd", np.nan)))
        if not np.isclose(np.mean(vals), sc[s][c]["cost_usd"]["mean"]): problems.append("HDF5 cost %s/%s: %s vs %s" % (s, c, np.mean(vals), sc[s][c]["cost_usd"]["mean"]))
    st = f1["bench/%s/stats" % s]
    if [x.decode() if isinstance(x, bytes) else x for x in st["controllers"][()]] != ["reactive", "peak_fleet", "hpa"]: problems.append("stats/controllers")
# the same data whichever way it ran
def walk(f):
    out = {}
    f.visititems(lambda n, o: out.__setitem__(n, o[()]) if isinstance(o, h5py.Dataset) else None)
    return out
a, b = walk(f1), walk(f2)
if sorted(a) != sorted(b): problems.append("different datasets")
for n in a:
    if "wall_time" in n: continue  # how long a decision took on this machine: measured, not simulated
    x, y = a[n], b[n]
    same = x.tolist() == y.tolist() if hasattr(x, "tolist") else x == y
    if not same: problems.append("dataset %s differs between --jobs 1 and --jobs 2" % n)
print("\n".join(problems[:20]) or "ok")
EOF
[ "$(tail -1 "$T/py.out")" = ok ] && r=ok || r=no
check "JSON and HDF5 agree; CRN; baseline - baseline = 0; --jobs 1 and --jobs 2 give the same data" $r "$(cat "$T/py.out")"

"$AS" validate "$T/b.toml" "$ROOT/scenarios/bench/standard.toml" >"$T/v.out" 2>&1 && grep -q "b.toml: ok (bench file: 2 scenarios x 3 controllers x 3 seeds)" "$T/v.out" && r=ok || r=no
check "validate checks bench files without running them" $r "$(cat "$T/v.out")"

# [[expect]] on means over the seeds: exit 0 when they hold, 1 with the failed one named when one does not.
cp "$T/b.toml" "$T/e.toml"
printf '[[expect]]\nscenario = "worldcup"\ncontroller = "peak_fleet"\nmetric = "cost_usd"\nop = ">="\nthan_controller = "reactive"\nvalue = 2\n' >>"$T/e.toml"
"$AS" bench "$T/e.toml" --out "$T/e.h5" --quiet >"$T/e.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "expectations: 1 of 1 hold" "$T/e.out" && r=ok || r=no
check "bench [[expect]] that holds: exit 0" $r "rc=$rc $(tail -3 "$T/e.out")"
sed 's/^value = 2$/value = 100/' "$T/e.toml" >"$T/e2.toml"
"$AS" bench "$T/e2.toml" --out "$T/e2.h5" --quiet >"$T/e2.out" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -qE "expectation failed: .*e2.toml:[0-9]+: worldcup/peak_fleet: mean cost_usd >= 100 x reactive's" "$T/e2.out" && [ -e "$T/e2.h5" ] && r=ok || r=no
check "bench [[expect]] that fails: exit 1 naming it, results still written" $r "rc=$rc $(tail -3 "$T/e2.out")"

"$AS" inspect "$T/b1.h5" >/dev/null 2>"$T/i.err"
rc=$?
[ $rc -eq 2 ] && grep -q "this is a bench file" "$T/i.err" && grep -q "tools/report" "$T/i.err" && r=ok || r=no
check "inspect of a bench file says what it is and where to look" $r "rc=$rc $(cat "$T/i.err")"

# Four times the seeds, about half the interval (a cheap scenario; the spread comes from the seeds).
cat >"$T/ci.toml" <<EOF
name = "ci"
metrics = ["latency_p95_s"]
[[scenario]]
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=600"]
[[controller]]
name = "peak_fleet"
run = "peak_fleet"
EOF
sed 's/name = "ci"/name = "ci4"\nseeds = 4/' "$T/ci.toml" >"$T/ci4.toml"
sed 's/name = "ci"/name = "ci16"\nseeds = 16/' "$T/ci.toml" >"$T/ci16.toml"
"$AS" bench "$T/ci4.toml" --out "$T/ci4.h5" --json --quiet >"$T/ci4.json" 2>&1 &&
  "$AS" bench "$T/ci16.toml" --out "$T/ci16.h5" --json --quiet >"$T/ci16.json" 2>&1
ratio=$($PY -c "
import json
w = lambda f: (lambda v: v['ci95_high'] - v['ci95_low'])(json.load(open(f))['scenarios']['worldcup']['peak_fleet']['latency_p95_s'])
print(w('$T/ci4.json') / w('$T/ci16.json'))" 2>&1)
$PY -c "import sys; r = float('$ratio'); sys.exit(0 if 1.3 < r < 4.5 else 1)" 2>/dev/null && r=ok || r=no
check "4 -> 16 seeds: the 95 % interval narrows about 2x (t-corrected: 2.8x expected; got $ratio)" $r "$ratio"

# expect NAME PATTERN: exit 2, the pattern on stderr, nothing written
expect() {
  local name=$1 pattern=$2
  rm -f "$T/x.h5"
  "$AS" bench "$T/bad.toml" --out "$T/x.h5" --quiet >/dev/null 2>"$T/err"
  local rc=$?
  [ $rc -eq 2 ] && grep -qE -- "$pattern" "$T/err" && [ ! -e "$T/x.h5" ] && check "$name" ok || check "$name" no "rc=$rc $(cat "$T/err")"
}
sed 's/kind = "hpa"/kind = "hap"/' "$T/b.toml" >"$T/bad.toml"
expect "unknown controller kind" "bad.toml:[0-9]+: 'controller.hpa.kind'.*did you mean 'hpa'"
sed 's/minReplicas = 2/minReplica = 2/' "$T/b.toml" >"$T/bad.toml"
expect "unknown controller key" "bad.toml:[0-9]+: 'controller.hpa.minReplica'.*minReplicas"
sed 's/run = "peak_fleet"/run = "peak"/' "$T/b.toml" >"$T/bad.toml"
expect "a run the scenario does not have" "'controller.peak_fleet.run'.*runs: reactive, peak_fleet"
sed 's/baseline = "reactive"/baseline = "nobody"/' "$T/b.toml" >"$T/bad.toml"
expect "unknown baseline" "bad.toml:[0-9]+: 'baseline'"
"$AS" validate "$T/bad.toml" >/dev/null 2>&1; [ $? -eq 2 ] && r=ok || r=no
check "validate refuses the same bench file" $r ""
sed 's/"cost_usd", /"cost_usdd", /' "$T/b.toml" >"$T/bad.toml"
expect "unknown metric" "'metrics'.*did you mean \"cost_usd\""
sed 's/seeds = 3/seeds = 2.5/' "$T/b.toml" >"$T/bad.toml"
expect "fractional seeds" "'seeds'.*whole numbers"
sed 's/seeds = 3/seeds = [1, 1]/' "$T/b.toml" >"$T/bad.toml"
expect "a seed twice" "'seeds'.*distinct"
sed 's|duration_s=1800", "services|duration_s=-5", "services|' "$T/b.toml" >"$T/bad.toml"
expect "a bad --set in a scenario" "duration_s"
sed 's|worldcup.toml"$|nope.toml"|' "$T/b.toml" >"$T/bad.toml"
expect "a missing scenario file" "nope.toml"
# [scenario.controllers.<name>]: one scenario's settings for a controller, merged over its section there only
cat >"$T/tuned.toml" <<EOF
name = "tuned"
seeds = 1
metrics = ["sla_violation_fraction", "cost_usd"]

[[scenario]]
name = "plain"
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=1800"]

[[scenario]]
name = "tuned"
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=1800"]
[scenario.controllers.hpa.metrics.0.resource.target]
averageUtilization = 90

[[controller]]
name = "hpa"
kind = "hpa"
minReplicas = 2
maxReplicas = 40
[[controller.metrics]]
type = "Resource"
[controller.metrics.resource]
name = "cpu"
[controller.metrics.resource.target]
type = "Utilization"
averageUtilization = 60
EOF
"$AS" bench "$T/tuned.toml" --out "$T/tuned.h5" --quiet >/dev/null 2>"$T/tuned.err"
rc=$?
r=$($PY - "$T/tuned.h5" <<'PYEOF'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
def target(s):
    c = f["bench/%s/hpa/1" % s].attrs["config_toml"]
    c = c.decode() if isinstance(c, bytes) else str(c)
    return [l.split("=")[1].strip() for l in c.splitlines() if "averageUtilization" in l]
plain, tuned = target("plain"), target("tuned")
# 90 % leaves fewer pods than 60 % on the same arrivals: a lower cost
cost = lambda s: float(f["bench/%s/hpa/1" % s].attrs["cost_usd"])
print("ok" if plain == ["60"] and tuned == ["90"] and cost("tuned") < cost("plain") else "no %s %s" % (plain, tuned))
PYEOF
)
[ $rc -eq 0 ] && [ "$r" = ok ] && r=ok || r="no"
check "a scenario's settings for a controller apply to that scenario only" "$r" "rc=$rc $(tail -3 "$T/tuned.err")"
sed 's/^\[scenario.controllers.hpa.metrics.0.resource.target\]/[scenario.controllers.hpx.metrics.0.resource.target]/' "$T/tuned.toml" >"$T/bad.toml"
expect "a scenario's settings for an unknown controller" "bad.toml:[0-9]+: 'scenario.tuned.controllers.hpx'.*inline \[\[controller\]\]"
sed 's/^averageUtilization = 90/averageUtilisation = 90/' "$T/tuned.toml" >"$T/bad.toml"
expect "an unknown key in a scenario's settings for a controller" "bad.toml:[0-9]+: '.*averageUtilisation'.*unknown key"
# the tuned scenario first: the others still check the controller's own section
$PY - "$T/tuned.toml" "$T/first.toml" <<'PYEOF'
import sys
s = open(sys.argv[1]).read()
head, rest = s.split("[[scenario]]", 1)
plain, rest = rest.split("[[scenario]]", 1)
tuned, tail = rest.split("[[controller]]", 1)
open(sys.argv[2], "w").write(head + "[[scenario]]" + tuned + "[[scenario]]" + plain + "[[controller]]" + tail)
PYEOF
"$AS" validate "$T/first.toml" >"$T/first.out" 2>&1 && grep -q "ok (bench file: 2 scenarios x 1 controllers x 1 seeds)" "$T/first.out" && r=ok || r=no
check "a tuned first scenario validates" $r "$(cat "$T/first.out")"
exit $fail
