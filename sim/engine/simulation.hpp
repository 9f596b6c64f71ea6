#pragma once
// Runs one RunSpec on a SimGrid engine. One engine per process: call run_simulation at most once per process.
#include <functional>
#include <string>

#include "controllers/controller.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

struct SimulationOptions {
  std::string file;                               // scenario file, for error messages
  std::function<void(double fraction)> progress;  // called now and then with simulated time / duration
  // A controller supplied by the embedding program (tests, training loops) instead of the scenario's.
  std::shared_ptr<Controller> controller;
};

RunResult run_simulation(const RunSpec& run, const SimulationOptions& opts);
std::string simgrid_version();

// Raw-SimGrid reference for `autoscale bench engine`: the fastest formulation of the standard queue (no actor
// per request, VMs on hosts). Returns requests simulated. One engine per process, too.
struct RawBaselineResult {
  long requests = 0;
  double p95_latency_s = 0;
};
RawBaselineResult run_raw_baseline(double duration_s, uint64_t seed);

}  // namespace autoscale
