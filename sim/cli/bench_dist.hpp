#pragma once
// `autoscale bench` spread over processes: chunks of the plan's cells (chunk I of K: cells I, I+K, I+2K, ...)
// each simulated into a part file (results/bench_part.hpp), then assembled into the same result file a local
// run writes. Over MPI ranks (mpirun; rank r runs chunk r of N, rank 0 assembles) or as a Slurm job array
// (--slurm DIR writes it; `autoscale bench merge DIR` assembles).
#include "sim/cli/bench_run.hpp"
#include "sim/dist/mpi_world.hpp"

namespace autoscale {

// --chunk I/K --out PART: one chunk of the bench into a part file.
int cmd_bench_chunk(const BenchArgs& args);
// --slurm DIR: DIR/bench.sbatch (a job array, one task per chunk), DIR/bench.json (what the parts must match)
// and DIR/README; nothing is run.
int cmd_bench_slurm(const BenchArgs& args);
// Under mpirun with more than one rank: every rank runs its chunk; rank 0 writes the result and prints.
int cmd_bench_mpi(const BenchArgs& args, const dist::MpiWorld& world);

}  // namespace autoscale
