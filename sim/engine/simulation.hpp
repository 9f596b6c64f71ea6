#pragma once
// One run of a RunSpec. At fidelity exact it runs on a SimGrid engine, one per process: at most one exact
// Simulation (or run_simulation call) per process; fast and fluid runs have no engine and may share a
// process.
//
// A Simulation is driven by its owner: step_until(t) advances it, last_observation() shows what the
// controller last saw, finish() closes the record and computes the summary. run_simulation is the loop over
// it.
#include <functional>
#include <memory>
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

class Simulation {
 public:
  Simulation(const RunSpec& run, const SimulationOptions& opts);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Handles every event up to and including time t (at most the run's end); returns false once the end is
  // reached.
  bool step_until(double t_s);
  double now_s() const;
  double end_s() const;
  // What the controller was shown at its latest tick (empty before the first one).
  const Observation& last_observation() const;
  // A decision taken now by the embedding program (an RL environment's action), carried out and recorded as
  // a controller's would be (clamped to the service's min/max).
  void apply_decision(const ServiceDecision& d);
  int desired(int service) const;
  // Totals so far, for the embedding program's own accounting (the RL environments' reward): the cost of
  // every node until now, end-user requests arrived and failed, and the latencies of those completed (in
  // completion order; valid until the next step).
  struct SoFar {
    double cost_usd = 0;
    long arrived = 0, failed = 0;
    const std::vector<double>* completed_latencies_s = nullptr;
    const std::vector<double>* completed_counts = nullptr;  // requests per latency (fluid mode); empty: one
  };
  SoFar so_far() const;
  // Records the run up to its end (stepping there first) and returns the result with its summary.
  RunResult finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

RunResult run_simulation(const RunSpec& run, const SimulationOptions& opts);
std::string simgrid_version();

// Raw-SimGrid reference for `autoscale bench engine`: the fastest formulation of the standard queue (no actor
// per request), `instances` nodes of 2 cores, each a host of its own, as exact mode models nodes without
// overcommit. Returns requests simulated. One engine per process, too.
struct RawBaselineResult {
  long requests = 0;
  double p95_latency_s = 0;
};
RawBaselineResult run_raw_baseline(double duration_s, int instances, double arrival_rps, uint64_t seed);

}  // namespace autoscale
