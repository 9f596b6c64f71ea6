#include "sim/core/metrics.hpp"

#include <algorithm>

namespace autoscale {

const SummaryValue* find_metric(const Summary& s, const std::string& key) {
  for (const auto& v : s)
    if (v.key == key) return &v;
  return nullptr;
}

ScalingCounts count_scaling(const std::vector<int>& seq) {
  ScalingCounts c;
  int last_dir = 0;
  for (size_t i = 1; i < seq.size(); ++i) {
    int d = seq[i] > seq[i - 1] ? 1 : seq[i] < seq[i - 1] ? -1 : 0;
    if (d == 0) continue;
    ++c.actions;
    if (last_dir != 0 && d != last_dir) ++c.reversals;
    last_dir = d;
  }
  return c;
}

ProvisioningStats provisioning_stats(const std::vector<int32_t>& ready, const std::vector<double>& needed,
                                     double dt) {
  ProvisioningStats p;
  double run = 0;
  size_t n = std::min(ready.size(), needed.size());
  for (size_t i = 0; i < n; ++i) {
    double gap = ready[i] - needed[i];
    if (gap > 0) p.wasted_instance_seconds += gap * dt;
    if (gap < 0) {
      p.under_provisioned_seconds += dt;
      run += dt;
    } else if (run > 0) {
      p.episode_lengths_s.push_back(run);
      run = 0;
    }
  }
  if (run > 0) p.episode_lengths_s.push_back(run);
  return p;
}

}  // namespace autoscale

namespace autoscale {
const std::vector<std::string>& summary_metric_names() {
  static const std::vector<std::string> names = {"requests_total",
                                                 "requests_completed",
                                                 "requests_failed",
                                                 "requests_in_flight_end",
                                                 "sla_violation_fraction",
                                                 "latency_p50_s",
                                                 "latency_p95_s",
                                                 "latency_p99_s",
                                                 "latency_p95_during_scaling_s",
                                                 "cost_usd",
                                                 "cost_per_million_requests_usd",
                                                 "instance_seconds",
                                                 "wasted_instance_seconds",
                                                 "under_provisioned_seconds",
                                                 "scaling_actions",
                                                 "scaling_reversals",
                                                 "reversals_per_hour",
                                                 "time_to_scale_mean_s"};
  return names;
}
}  // namespace autoscale
