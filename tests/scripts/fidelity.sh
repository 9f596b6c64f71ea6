#!/bin/bash
# Fast mode against exact mode through the real binary: `autoscale bench fidelity` on shipped scenarios that
# between them cover dedicated VMs, pods with CPU limits behind a call graph (composite, shortened), node
# autoscaling, spot nodes, warm pools and shadows; each compared metric within 5 % of exact mode (or below its
# floor). Then `bench engine --json` reports the fast level's speed and error. No timing is asserted.
set -euo pipefail
BIN="$1"
SRC="$2"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cd "$SRC"

"$BIN" bench fidelity scenarios/aws_step.toml scenarios/cluster_autoscaler.toml scenarios/spot.toml \
  scenarios/warm_pool.toml scenarios/shadow.toml scenarios/scryer.toml --levels exact fast --json --quiet \
  >"$TMP/a.json"
"$BIN" bench fidelity scenarios/composite.toml --set duration_s=1800 --levels exact fast --json --quiet \
  >"$TMP/b.json"
/usr/bin/python3 - "$TMP/a.json" "$TMP/b.json" <<'PY'
import json, sys
runs = 0
for path in sys.argv[1:]:
    d = json.load(open(path))
    assert d["pass"], path
    for r in d["runs"]:
        runs += 1
        fast = r["levels"]["fast"]
        assert fast["within_tolerance"], (r["scenario"], r["run"], fast)
        for name, m in fast["metrics"].items():
            # The floor: a handful of requests, a millisecond, 0.01 pp, 0.0001 USD.
            floor = {"latency_p95_s": 1e-3, "latency_p99_s": 1e-3, "sla_violation_fraction": 1e-4,
                     "requests_failed": 10, "cost_usd": 1e-4}[name]
            diff = abs(m["value"] - m["exact"])
            assert diff <= floor or diff <= 0.05 * abs(m["exact"]), (r["scenario"], r["run"], name, m)
assert runs >= 12, runs
print(f"fast within 5 % of exact on {runs} runs")
PY

# Bad input: an unknown level exits 2 naming the flag.
set +e
"$BIN" bench fidelity scenarios/aws_step.toml --levels exact warp --quiet 2>"$TMP/err.txt"
rc=$?
set -e
[ "$rc" = 2 ] && grep -q -- "--levels" "$TMP/err.txt" || { echo "check failed: line 43"; exit 1; }

"$BIN" bench engine --json --quiet --duration-s 300 --rounds 1 --instances 20 >"$TMP/engine.json"
/usr/bin/python3 - "$TMP/engine.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in ("fast_req_per_s", "exact_req_per_s", "fast_p95_rel_error", "ratio_fast_over_exact"):
    assert k in d, k
# The same requests through both backends: the p95 agrees far inside 5 %.
assert d["fast_p95_rel_error"] < 0.05, d["fast_p95_rel_error"]
assert d["fast_req_per_s"] > 0
print("bench engine: fast %.0f req/s, %.1fx exact" % (d["fast_req_per_s"], d["ratio_fast_over_exact"]))
PY
echo "fidelity: ok"
