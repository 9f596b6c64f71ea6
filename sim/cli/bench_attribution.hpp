#pragma once
// `autoscale bench`: the failure attribution of each controller (README.md, "Failure attribution"): the mean
// over seeds of its SLA-violation episodes and of their seconds per cause, from the runs' summary metrics
// (violation_episodes, violation_s, violation_s_<cause>).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/cli/bench_plan.hpp"

namespace autoscale {

// {"<scenario>": {"<controller>": {"episodes", "violation_s", "<cause>": seconds, ...}}}: means over the
// seeds.
nlohmann::json bench_attribution_json(const BenchPlan& plan, const std::vector<CellResult>& results);

// The lines of one scenario: per controller, its episodes and the seconds of each cause they had.
void print_bench_attribution(const BenchPlan& plan, const std::vector<CellResult>& results,
                             const std::string& scenario);

}  // namespace autoscale
