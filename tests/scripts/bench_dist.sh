#!/usr/bin/env bash
# `autoscale bench` in chunks, as a Slurm job array runs it, without Slurm: --slurm writes the array script, each
# task of it is run here by hand (SLURM_ARRAY_TASK_ID=i bash bench.sbatch), `bench merge` assembles the parts, and
# the merged file holds the same data as a local run (h5_same_data.py: everything but decisions' wall time) and
# prints the same statistics. The merge refuses a missing part (naming it and the task to rerun), a part of another
# bench file, and a bench file changed since --slurm (exit 2 each); bad --chunk values exit 2.
# Usage: bench_dist.sh AUTOSCALE_BINARY REPOSITORY_ROOT
set -u
AS=$1
ROOT=$2
PY=/usr/bin/python3
SAME="$ROOT/tests/scripts/h5_same_data.py"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
source "$ROOT/tests/scripts/bench_dist_common.sh"

write_dist_bench
local_dist_run

"$AS" bench "$T/b.toml" --slurm "$T/s" --chunks 4 >"$T/slurm.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '^#SBATCH --array=0-3$' "$T/s/bench.sbatch" && grep -q "sbatch $T/s/bench.sbatch" "$T/slurm.out" &&
  grep -q "autoscale bench merge $T/s" "$T/slurm.out" && [ -s "$T/s/README" ] && [ -s "$T/s/bench.json" ] && r=ok || r=no
check "--slurm writes a 4-task job array, its manifest and the instructions" $r "rc=$rc $(cat "$T/slurm.out"; cat "$T/s/bench.sbatch")"

ok=ok
for i in 0 1 2 3; do
  SLURM_ARRAY_TASK_ID=$i bash "$T/s/bench.sbatch" >"$T/task$i.out" 2>&1 || { ok=no; cat "$T/task$i.out"; }
done
check "each task of the array script, run by hand, writes its part" $ok "$(ls "$T/s")"

"$AS" bench merge "$T/s" --out "$T/merged.h5" --json >"$T/merged.json" 2>"$T/merged.err"
rc=$?
[ $rc -eq 0 ] && r=ok || r=no
check "bench merge assembles the 4 parts" $r "rc=$rc $(cat "$T/merged.err")"
$PY "$SAME" "$T/local.h5" "$T/merged.h5" >"$T/same.out" 2>&1 && r=ok || r=no
check "the merged file holds the local run's data ($(tail -1 "$T/same.out"))" $r "$(cat "$T/same.out")"
r=$(same_json "$T/local.json" "$T/merged.json" 6)
check "merge prints the local run's statistics (JSON but wall time and file name)" $r "$(cat "$T/j.out")"
"$AS" bench merge "$T/s" --out "$T/merged2.h5" >"$T/merged2.txt" 2>&1 && grep -q "pareto front" "$T/merged2.txt" && r=ok || r=no
check "merge prints the tables" $r "$(cat "$T/merged2.txt")"

# expect NAME PATTERN COMMAND...: exit 2, PATTERN on stderr
expect() {
  local name=$1 pattern=$2
  shift 2
  "$@" >/dev/null 2>"$T/err"
  local rc=$?
  [ $rc -eq 2 ] && grep -qE -- "$pattern" "$T/err" && check "$name" ok || check "$name" no "rc=$rc $(cat "$T/err")"
}
mv "$T/s/part-2.h5" "$T/part-2.h5"
expect "a missing part: exit 2 naming it and the task to rerun" "part-2.h5.*missing: chunk 2/4.*sbatch --array=2 " \
  "$AS" bench merge "$T/s" --out "$T/x.h5"
sed 's/name = "dist"/name = "other"/' "$T/b.toml" >"$T/other.toml"
"$AS" bench "$T/other.toml" --chunk 2/4 --out "$T/s/part-2.h5" --quiet
expect "a part of another bench file: exit 2" "part-2.h5.*bench_sha256.*another bench file.*other.toml" \
  "$AS" bench merge "$T/s" --out "$T/x.h5"
mv "$T/part-2.h5" "$T/s/part-2.h5"
cp "$T/b.toml" "$T/b.orig"
sed -i 's/seeds = 3/seeds = 2/' "$T/b.toml"
expect "a bench file changed since --slurm: exit 2" "b.toml.*changed since" "$AS" bench merge "$T/s" --out "$T/x.h5"
cp "$T/b.orig" "$T/b.toml"
[ ! -e "$T/x.h5" ] && r=ok || r=no
check "a refused merge writes nothing" $r ""
expect "--slurm into a directory that holds parts: exit 2" "already holds the parts" "$AS" bench "$T/b.toml" --slurm "$T/s"
expect "--chunk 4/4: exit 2" "'--chunk'.*0 <= I < K" "$AS" bench "$T/b.toml" --chunk 4/4 --out "$T/p.h5"
expect "--chunk without --out: exit 2" "'--out'.*required with --chunk" "$AS" bench "$T/b.toml" --chunk 0/2
expect "--chunks above the runs: exit 2" "'--chunks'.*at most one per run \(6 runs\)" "$AS" bench "$T/b.toml" --slurm "$T/s2" --chunks 7
expect "merge of a directory --slurm did not write: exit 2" "bench.json.*autoscale bench --slurm" "$AS" bench merge "$T"
exit $fail
