# Shared by bench_dist.sh, bench_mpi.sh and bench_slurm.sh (sourced after AS, ROOT, PY and T are set): the check
# reporter, the small bench all three run (1 scenario x 2 controllers x 3 seeds), its local run that the
# distributed ones are compared with, and the comparison of two --json outputs.
fail=0
check() { if [ "$2" = ok ]; then echo "ok   $1"; else echo "FAIL $1: $3"; fail=1; fi; }

# Writes $T/b.toml.
write_dist_bench() {
  cat >"$T/b.toml" <<EOF2
name = "dist"
seeds = 3
baseline = "reactive"
metrics = ["sla_violation_fraction", "cost_usd", "latency_p95_s"]
[[scenario]]
file = "$ROOT/scenarios/worldcup.toml"
set = ["duration_s=900"]
[[controller]]
name = "reactive"
run = "reactive"
[[controller]]
name = "peak_fleet"
run = "peak_fleet"
EOF2
}

# The local run of $T/b.toml: $T/local.h5 and its --json output $T/local.json.
local_dist_run() {
  "$AS" bench "$T/b.toml" --out "$T/local.h5" --jobs 2 --json --quiet >"$T/local.json" 2>"$T/local.err"
  local rc=$?
  local r=no
  [ $rc -eq 0 ] && r=ok
  check "local run: 1 scenario x 2 controllers x 3 seeds" $r "rc=$rc $(tail -5 "$T/local.err")"
}

# same_json A B [RUNS]: the two --json outputs agree but for wall time and file name (and report RUNS runs);
# prints ok or no.
same_json() {
  $PY - "$@" <<'EOF2' >"$T/j.out" 2>&1 && echo ok || echo no
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for j in (a, b):
    del j["wall_s"], j["output"]
sys.exit(0 if a == b and (len(sys.argv) < 4 or a["runs"] == int(sys.argv[3])) else 1)
EOF2
}
