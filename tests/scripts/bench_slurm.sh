#!/usr/bin/env bash
# `autoscale bench --slurm` on a real Slurm: a single-node cluster started here (munged with a key of its own,
# slurmctld and slurmd in the foreground, everything in a temporary directory, ports of its own), the job array
# submitted with `sbatch --wait`, its parts merged; the merged file holds the same data as a local run
# (h5_same_data.py). Skipped (exit 77, "SKIPPED: why") when Slurm or munge is not installed or a daemon cannot start
# (containers often lack what slurmd needs). Every daemon started here is stopped, by its pid.
# Usage: bench_slurm.sh AUTOSCALE_BINARY REPOSITORY_ROOT
set -u
AS=$1
ROOT=$2
PY=/usr/bin/python3
SAME="$ROOT/tests/scripts/h5_same_data.py"
skip() { echo "SKIPPED: $1"; exit 77; }
for c in sbatch sinfo slurmctld slurmd munged; do
  command -v $c >/dev/null || skip "no $c (apt-get install slurm-wlm munge)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs"
T=$(mktemp -d)
chmod 755 "$T"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT
source "$ROOT/tests/scripts/bench_dist_common.sh"

# munge: a key of this test's own, its own socket.
mkdir -m 700 "$T/munge"
if command -v mungekey >/dev/null; then mungekey --create --keyfile="$T/munge/munge.key" >/dev/null 2>&1; fi
[ -s "$T/munge/munge.key" ] || dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 600 "$T/munge/munge.key"
chmod 711 "$T/munge"  # the socket's directory must be searchable by every user
munged --foreground --force --key-file="$T/munge/munge.key" --socket="$T/munge/sock" --pid-file="$T/munge/pid" \
  --log-file="$T/munge/log" --seed-file="$T/munge/seed" >"$T/munge/out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$T/munge/sock" ] && break; sleep 0.1; done
[ -S "$T/munge/sock" ] || skip "munged did not start: $(tail -3 "$T/munge/out" "$T/munge/log" 2>/dev/null | tr '\n' ' ')"

port=$((20000 + $$ % 20000))
mkdir -p "$T/state" "$T/spool"
cat >"$T/slurm.conf" <<EOF2
ClusterName=autoscaletest$$
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$T/munge/sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/slurmctld.log
SlurmdLogFile=$T/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=localhost CPUs=2 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF2
export SLURM_CONF="$T/slurm.conf"
slurmctld -D -f "$SLURM_CONF" >"$T/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$T/slurmd.out" 2>&1 &
pids+=($!)
state=""
for _ in $(seq 100); do
  state=$(sinfo -h -o %T 2>/dev/null)
  [ "$state" = idle ] && break
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || break 2; done
  sleep 0.2
done
[ "$state" = idle ] || skip "the single-node Slurm did not come up (node state '$state'): $(tail -n 3 "$T"/slurm*.out "$T"/slurm*.log 2>/dev/null | tr '\n' ' ')"
echo "ok   a single-node Slurm is up (slurmctld, slurmd, munged)"

write_dist_bench
local_dist_run

"$AS" bench "$T/b.toml" --slurm "$T/s" --chunks 3 >"$T/slurm.out" 2>&1 || check "--slurm" no "$(cat "$T/slurm.out")"
timeout 120 sbatch --wait "$T/s/bench.sbatch" >"$T/sbatch.out" 2>&1
rc=$?
[ $rc -eq 0 ] && [ -e "$T/s/part-0.h5" ] && [ -e "$T/s/part-1.h5" ] && [ -e "$T/s/part-2.h5" ] && r=ok || r=no
check "sbatch --wait runs the 3 tasks of the array" $r "rc=$rc $(cat "$T/sbatch.out" "$T"/s/slurm-*.out 2>/dev/null | tail -20)"
"$AS" bench merge "$T/s" --out "$T/merged.h5" >"$T/merge.out" 2>&1 && grep -q "pareto front" "$T/merge.out" && r=ok || r=no
check "bench merge prints the tables" $r "$(cat "$T/merge.out")"
$PY "$SAME" "$T/local.h5" "$T/merged.h5" >"$T/same.out" 2>&1 && r=ok || r=no
check "the file merged from Slurm's tasks holds the local run's data ($(tail -1 "$T/same.out"))" $r "$(cat "$T/same.out")"
exit $fail
