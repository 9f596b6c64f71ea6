#include "sim/cli/bench_attribution.hpp"

#include <cmath>
#include <cstdio>

namespace autoscale {

namespace {

// The mean over the seeds (runs with a value) of one summary metric, for a scenario and controller; NaN if
// none.
double mean_of(const BenchPlan& plan, const std::vector<CellResult>& results, std::size_t scenario,
               std::size_t controller, const std::string& metric) {
  double sum = 0;
  int n = 0;
  for (std::size_t i = 0; i < plan.cells.size() && i < results.size(); ++i) {
    const BenchCell& c = plan.cells[i];
    if (c.scenario != scenario || c.controller != controller) continue;
    const SummaryValue* v = find_metric(results[i].summary, metric);
    if (!v || !std::isfinite(v->value)) continue;
    sum += v->value;
    ++n;
  }
  return n > 0 ? sum / n : NAN;
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json bench_attribution_json(const BenchPlan& plan, const std::vector<CellResult>& results) {
  nlohmann::json out = nlohmann::json::object();
  const BenchSpec& b = plan.b;
  for (std::size_t s = 0; s < b.scenarios.size(); ++s) {
    nlohmann::json js = nlohmann::json::object();
    for (std::size_t c = 0; c < b.controllers.size(); ++c) {
      nlohmann::json jc = {{"episodes", number_or_null(mean_of(plan, results, s, c, "violation_episodes"))},
                           {"violation_s", number_or_null(mean_of(plan, results, s, c, "violation_s"))}};
      for (const auto& cause : episode_causes())
        jc[cause] = number_or_null(mean_of(plan, results, s, c, "violation_s_" + cause));
      js[b.controllers[c].name] = jc;
    }
    out[b.scenarios[s].name] = js;
  }
  return out;
}

void print_bench_attribution(const BenchPlan& plan, const std::vector<CellResult>& results,
                             const std::string& scenario) {
  const BenchSpec& b = plan.b;
  std::size_t s = 0;
  while (s < b.scenarios.size() && b.scenarios[s].name != scenario) ++s;
  if (s == b.scenarios.size()) return;
  std::printf("SLA-violation episodes, mean per run (seconds by cause, README \"Failure attribution\"):\n");
  for (std::size_t c = 0; c < b.controllers.size(); ++c) {
    const double episodes = mean_of(plan, results, s, c, "violation_episodes");
    const double total = mean_of(plan, results, s, c, "violation_s");
    if (!std::isfinite(episodes)) continue;  // runs without attribution (none here)
    std::string causes;
    for (const auto& cause : episode_causes()) {
      const double v = mean_of(plan, results, s, c, "violation_s_" + cause);
      if (!(v > 0)) continue;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.0f s (%.0f %%)", causes.empty() ? "" : ", ", cause.c_str(), v,
                    100 * v / total);
      causes += buf;
    }
    std::printf("  %-22s %5.1f episodes, %6.0f s%s%s\n", b.controllers[c].name.c_str(), episodes, total,
                causes.empty() ? "" : ": ", causes.c_str());
  }
}

}  // namespace autoscale
