#pragma once
// The pieces of `autoscale bench` that every way of running it shares (sim/cli/bench_run.cpp): the plan
// (every scenario x controller x seed, in one fixed order), simulating some of its cells in child processes,
// and the result file and tables once every cell has a result. Run locally, in chunks (--chunk, --slurm,
// `bench merge`) or over MPI ranks (sim/cli/bench_dist.cpp), the cells and their data are the same.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "sim/core/metrics.hpp"
#include "sim/core/scenario.hpp"
#include "sim/scenario/bench_loader.hpp"

namespace autoscale {

struct BenchCell {  // one scenario x controller x seed
  std::size_t scenario, controller, seed_index;
};

struct BenchPlan {
  BenchSpec b;
  std::vector<BenchCell> cells;  // scenario, then seed, then controller
  std::deque<RunSpec> runs;      // one per cell (empty when planned without runs)
};

// `seeds`, when not empty, replaces the file's. Without runs the plan only names the cells (to merge parts).
BenchPlan plan_bench(const std::string& file, const std::vector<std::uint64_t>& seeds, bool with_runs);

// The result file when --out is not given: results/<bench name>.h5.
std::string bench_out(const BenchPlan& plan, const std::string& out);

// The single-run file of cell `index` in `dir`; its run is /runs/<controller name>.
std::string cell_file(const std::string& dir, std::size_t index);

// Simulates the cells `indices` into their cell files in `dir`, `jobs` at a time: run_in_children's status.
int simulate_cells(const BenchPlan& plan, const std::vector<std::size_t>& indices, const std::string& dir,
                   int jobs, bool show_progress, const std::string& title);

struct CellResult {  // where a cell's run is: /runs/<run> of `file`, and its summary
  std::string file, run;
  Summary summary;
};

// The result file (every run under /bench/<scenario>/<controller>/<seed>, the statistics beside them) and the
// tables or JSON on stdout; the exit status (1 when an [[expect]] fails).
int finish_bench(const BenchPlan& plan, const std::vector<CellResult>& results, const std::string& out,
                 bool json, std::chrono::steady_clock::time_point started);

}  // namespace autoscale
