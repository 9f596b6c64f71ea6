#pragma once
// A benchmark file (`autoscale bench BENCH.toml`): scenarios (files, with --set-style overrides), controllers
// (inline sections, or a run the scenarios define), seeds, the metrics to report and a baseline controller.
// Read with the scenario loader's checks (file:line errors, unknown keys refused); the runs of one scenario
// at one seed are built from the scenario file as `autoscale run` builds them, with the controller replaced.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct BenchSpec {
  std::string file, name, description, toml_text;
  std::vector<std::uint64_t> seeds;
  std::vector<std::string> metrics;  // summary metric names; the first ranks
  std::string baseline;              // a controller name; empty: no paired differences
  struct ScenarioRef {
    std::string name, file;        // file resolved against the bench file
    std::vector<std::string> set;  // overrides, as --set
    std::string run;               // the run whose settings inline controllers use (empty: the first)
    // Controllers this scenario tunes ([scenario.controllers.<name>]: keys merged over that inline
    // controller's section for this scenario only, e.g. a forecaster's season in the scenario's time scale).
    std::vector<std::string> tuned;
  };
  struct ControllerRef {
    std::string name;
    std::string kind;  // inline section: its kind
    std::string run;   // else: the scenario's run of this name, as the scenario defines it
  };
  std::vector<ScenarioRef> scenarios;
  std::vector<ControllerRef> controllers;
  // [[expect]]: a bound on a controller's mean over the seeds in a scenario (every scenario when empty), or a
  // factor on another controller's mean (than_controller).
  struct Expect {
    std::string scenario, controller, metric, op, than_controller;
    double value = 0;
    int line = 0;
  };
  std::vector<Expect> expectations;
  std::shared_ptr<const void> doc;  // the parsed file (sim/scenario's own)
};

// Throws InputError naming the file, line and key; every scenario is loaded once and every inline controller
// checked against each scenario's services.
BenchSpec load_bench(const std::string& path);

// The runs of scenario `scenario` at `seed`, one per controller in the bench's order, each named as its
// controller: every one the same scenario (arrivals, startup samples: common random numbers) but its
// controller.
std::vector<RunSpec> bench_runs(const BenchSpec& bench, std::size_t scenario, std::uint64_t seed);

}  // namespace autoscale
