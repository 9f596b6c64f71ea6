#pragma once
// `autoscale bench fidelity SCENARIO...`: every run of each scenario simulated at each fidelity level (exact,
// fast, fluid), one after the other, each in a child process of its own (exact mode's SimGrid engine is one
// per process), and the levels' summaries compared with exact mode's: the relative error of the latency p95
// and p99, the SLA violation fraction, the failed requests and the cost, and each level's speed-up.
#include <string>
#include <vector>

#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

struct BenchFidelityArgs {
  std::vector<std::string> scenarios;
  std::vector<std::string> levels = {"exact", "fast", "fluid"};
  LoadOptions load;
  // A level within `tolerance` of exact on every compared metric of every run passes (exit 0); otherwise
  // exit 1, after the table. Levels in `report_only` are measured and printed but not held to it.
  double tolerance = 0.05;
  std::vector<std::string> report_only = {"fluid"};
  bool json = false;
  bool quiet = false;
};

int cmd_bench_fidelity(const BenchFidelityArgs& args);

}  // namespace autoscale
