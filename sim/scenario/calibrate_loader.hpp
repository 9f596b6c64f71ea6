#pragma once
// Calibration files (`autoscale calibrate CAL.toml`): a controller section and a grid over some of its keys,
// searched on training scenarios for the lowest cost + lambda x SLA-violation seconds + mu x changes (the RL
// reward's terms, so that a calibrated rule and a trained policy are tuned to the same objective).
//
//   name = "threshold_calibrated"
//   scenarios = ["rl_train.toml"]      # relative to this file; every run of each
//   seeds = [1, 2, 3]                  # default: each scenario's own seed
//   fidelity = "fast"                  # "exact" | "fast" | "fluid" (default "fast")
//   set = ["duration_s=21600"]         # --set overrides for every scenario
//   [objective]
//   lambda_usd_per_violation_s = 0.002
//   mu_usd_per_change = 0.0005
//   [controller]                       # any controller section (the template)
//   kind = "aws_simple"
//   [grid]                             # keys of [controller], each with the values to try
//   scale_out_above = [0.6, 0.7, 0.8]
#include <cstdint>
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct CalibrationPlan {
  std::string file, name;
  std::vector<std::string> scenarios;  // paths as given (relative to the file) and resolved
  std::vector<std::string> scenario_paths;
  std::vector<uint64_t> seeds;  // empty: each scenario's seed
  std::string fidelity = "fast";
  std::vector<std::string> set;
  double lambda_usd_per_violation_s = 0;
  double mu_usd_per_change = 0;
  std::string kind;           // the template's controller kind
  std::string template_toml;  // the [controller] table, as TOML
  struct Axis {
    std::string key;
    std::vector<std::string> values;  // each a TOML value, as written ("0.7", "\"cpu\"")
  };
  std::vector<Axis> grid;
  // [[expect]]: metric op value, checked once the search is done (exit 1 when one fails). Metrics:
  // kCalibrationMetrics.
  std::vector<Expectation> expectations;
  size_t points() const;
  // Grid point `i` (row-major: the last axis varies fastest): one value per axis.
  std::vector<std::string> point(size_t i) const;
};

// What a calibration's [[expect]] may name: the winner's means (best_objective, best_cost_usd,
// best_violation_s, best_changes, best_sla_violation_fraction), the same of [controller] as written
// (template_*), and improvement = 1 - best_objective / template_objective.
const std::vector<std::string>& calibration_metrics();

// Reads and checks the file: InputError naming the file, line and key.
CalibrationPlan load_calibration(const std::string& path);
// The controller section of grid point i, as TOML text (the template with the point's values set).
std::string calibration_controller_toml(const CalibrationPlan& plan, size_t i);

}  // namespace autoscale
