#pragma once
// `autoscale bench BENCH.toml`: every controller of a bench file on every scenario and seed (common random
// numbers: the same arrivals and startup samples for every controller at a seed), simulated in parallel
// child processes; per scenario each metric's mean and 95 % interval over seeds, paired differences against
// the baseline, ranks, the Pareto front of cost against SLA violations and the cost against an oracle; one
// HDF5 file with every run under /bench/<scenario>/<controller>/<seed> (results/SCHEMA.md).
#include <string>

namespace autoscale {

struct BenchArgs {
  std::string file;
  std::string out;  // empty: results/<bench name>.h5
  int jobs = 0;     // 0: one per core
  int seeds = 0;    // > 0: seeds 1..seeds instead of the file's
  bool json = false;
  bool quiet = false;
  std::string
      slurm_dir;      // not empty: write a Slurm job array there instead of running (sim/cli/bench_dist.hpp)
  int chunks = 0;     // with slurm_dir: array tasks (0: one per run)
  std::string chunk;  // "I/K": run only chunk I of K into the part file --out
};

// Runs the bench here; under mpirun with more than one rank, spread over the ranks (sim/cli/bench_dist.hpp).
int cmd_bench(const BenchArgs& args);

struct BenchMergeArgs {
  std::string dir;  // where --slurm wrote the job array and its tasks wrote their parts
  std::string out;  // empty: results/<bench name>.h5
  bool json = false;
};
// `autoscale bench merge DIR`: the parts of a --slurm job array into the result file a local run writes.
int cmd_bench_merge(const BenchMergeArgs& args);
// `autoscale validate` of a bench file: the file, its scenarios and every controller against them, not run.
int cmd_validate_bench(const std::string& file);

}  // namespace autoscale
