#!/usr/bin/env bash
# `mpirun -n 2 autoscale bench`: the runs spread over two ranks (each with its own child processes), rank 0 writes
# the same file a local run writes (h5_same_data.py: the same data, everything but decisions' wall time) and alone
# prints the statistics; a failure on one rank ends every rank with a non-zero status and one message. Skipped
# (exit 77, "SKIPPED: why") without mpirun or without the MPI plugin (a build that found no MPI).
# Usage: bench_mpi.sh AUTOSCALE_BINARY REPOSITORY_ROOT
set -u
AS=$1
ROOT=$2
PY=/usr/bin/python3
SAME="$ROOT/tests/scripts/h5_same_data.py"
# The binary itself never links MPI (the plugin is dlopen'ed under mpirun only).
if ldd "$AS" | grep -q 'libmpi'; then echo "FAIL $AS links libmpi: $(ldd "$AS" | grep libmpi)"; exit 1; fi
echo "ok   the autoscale binary does not link libmpi"
if ! command -v mpirun >/dev/null; then echo "SKIPPED: no mpirun (apt-get install openmpi-bin)"; exit 77; fi
if [ ! -e "$(dirname "$AS")/libautoscale_mpi.so" ]; then
  echo "SKIPPED: $(dirname "$AS")/libautoscale_mpi.so was not built (CMake found no MPI: apt-get install libopenmpi-dev)"
  exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
source "$ROOT/tests/scripts/bench_dist_common.sh"
# As root (CI containers), Open MPI wants both of these; two ranks on a machine of fewer cores need --oversubscribe.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
MPIRUN=(mpirun --allow-run-as-root --oversubscribe -n 2)

write_dist_bench
local_dist_run

"${MPIRUN[@]}" "$AS" bench "$T/b.toml" --out "$T/mpi.h5" --jobs 1 --json >"$T/mpi.json" 2>"$T/mpi.err"
rc=$?
[ $rc -eq 0 ] && r=ok || r=no
check "mpirun -n 2 autoscale bench" $r "rc=$rc $(tail -20 "$T/mpi.err")"
[ "$(grep -c '"bench": "dist"' "$T/mpi.json")" = 1 ] && [ "$(grep -c 'over 2 MPI ranks' "$T/mpi.err")" = 1 ] && r=ok || r=no
check "only rank 0 prints the statistics and the progress line" $r "$(cat "$T/mpi.json" "$T/mpi.err" | head -20)"
$PY "$SAME" "$T/local.h5" "$T/mpi.h5" >"$T/same.out" 2>&1 && r=ok || r=no
check "the file written under MPI holds the local run's data ($(tail -1 "$T/same.out"))" $r "$(cat "$T/same.out")"
r=$(same_json "$T/local.json" "$T/mpi.json")
check "the same statistics (JSON but wall time and file name)" $r "$(cat "$T/j.out")"
[ -z "$(ls -A "$T" | grep '^\.mpi\|^\..*\.mpi\.')" ] && r=ok || r=no
check "no scratch directory left beside the result" $r "$(ls -A "$T")"

mkdir "$T/adir"
# A failure on rank 0 only (its --out is a directory): every rank exits 2, the message printed once.
"${MPIRUN[@]}" "$AS" bench "$T/b.toml" --out "$T/adir" --quiet >"$T/e.out" 2>"$T/e.err"
rc=$?
[ $rc -eq 2 ] && [ "$(grep -c "error: .*'--out'" "$T/e.err")" = 1 ] && r=ok || r=no
check "a failure on rank 0 ends both ranks: exit 2, one message" $r "rc=$rc $(cat "$T/e.err")"
# A bad bench file fails on every rank: one message (rank 0's), exit 2.
sed 's/run = "peak_fleet"/run = "peak"/' "$T/b.toml" >"$T/bad.toml"
"${MPIRUN[@]}" "$AS" bench "$T/bad.toml" --out "$T/bad.h5" --quiet >"$T/bad.out" 2>"$T/bad.err"
rc=$?
[ $rc -eq 2 ] && [ "$(grep -c "error: .*bad.toml.*controller.peak_fleet.run" "$T/bad.err")" = 1 ] && [ ! -e "$T/bad.h5" ] && r=ok || r=no
check "a bad bench file under mpirun: exit 2, one message, nothing written" $r "rc=$rc $(cat "$T/bad.err")"
exit $fail
