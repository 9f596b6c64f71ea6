#include "sim/core/metrics.hpp"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "sim/core/monitoring.hpp"

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

namespace {
// Length of record interval i: from the previous record (or the start) to time_s[i].
double interval_s(const std::vector<double>& time_s, size_t i) {
  return time_s[i] - (i > 0 ? time_s[i - 1] : 0.0);
}
}  // namespace

ProvisioningStats provisioning_stats(const std::vector<double>& time_s, const std::vector<int32_t>& ready,
                                     const std::vector<double>& needed) {
  if (ready.size() != time_s.size() || needed.size() != time_s.size())
    throw std::invalid_argument("provisioning_stats: ready and needed need one value per record interval");
  ProvisioningStats p;
  double run = 0;
  for (size_t i = 0; i < time_s.size(); ++i) {
    double dt = interval_s(time_s, i);
    double gap = ready[i] - needed[i];
    if (gap > 0) p.wasted_instance_seconds += gap * dt;
    if (gap < 0) {
      run += dt;
    } else if (run > 0) {
      p.episode_lengths_s.push_back(run);
      run = 0;
    }
  }
  if (run > 0) p.episode_lengths_s.push_back(run);
  return p;
}

Summary summarize(const RunTotals& totals, const RunResult& recorded, const SummaryConfig& cfg) {
  const std::vector<double>& lat = totals.completed_latencies_s;
  const std::vector<double>& counts = totals.completed_counts;
  if (!counts.empty() && counts.size() != lat.size())
    throw std::invalid_argument("summarize: completed_counts and completed_latencies_s differ in length");
  if (!totals.scaling_counts.empty() && totals.scaling_counts.size() != totals.scaling_latencies_s.size())
    throw std::invalid_argument("summarize: scaling_counts and scaling_latencies_s differ in length");
  auto count_of = [&](size_t i) { return counts.empty() ? 1.0 : counts[i]; };
  double completed_d = counts.empty() ? static_cast<double>(lat.size()) : 0.0;
  for (double c : counts) completed_d += c;
  const long completed = std::lround(completed_d);
  const long in_flight = static_cast<long>(totals.in_flight_arrivals_s.size());
  if (totals.requests_total != completed + totals.requests_failed + in_flight)
    throw std::invalid_argument("summarize: requests_total != completed + failed + in flight");
  const double sla = cfg.sla_latency_s;
  double late = 0;
  for (size_t i = 0; i < lat.size(); ++i)
    if (lat[i] > sla) late += count_of(i);
  const long violations =
      totals.requests_failed + std::lround(late) +
      std::count_if(totals.in_flight_arrivals_s.begin(), totals.in_flight_arrivals_s.end(),
                    [&](double arrival) { return totals.duration_s - arrival > sla; });

  ScalingCounts sc;
  for (const auto& history : totals.desired_history) {
    ScalingCounts c = count_scaling(history);
    sc.actions += c.actions;
    sc.reversals += c.reversals;
  }

  const std::vector<double>& time_s = recorded.time_s;
  double wasted = 0, episodes_total = 0;
  size_t episodes = 0;
  for (const auto& ser : recorded.services) {
    ProvisioningStats p = provisioning_stats(time_s, ser.instances_ready, ser.needed_instances);
    wasted += p.wasted_instance_seconds;
    episodes += p.episode_lengths_s.size();
    for (double e : p.episode_lengths_s) episodes_total += e;
  }
  double under_any = 0;
  for (size_t i = 0; i < time_s.size(); ++i)
    if (std::any_of(recorded.services.begin(), recorded.services.end(), [i](const ServiceSeries& ser) {
          return ser.instances_ready[i] < ser.needed_instances[i];
        }))
      under_any += interval_s(time_s, i);

  // Percentiles of the requests: of the latencies as they are, or weighted by their counts (fluid mode).
  auto percentiles = [](const std::vector<double>& values, const std::vector<double>& weights,
                        const std::vector<double>& qs) {
    if (!weights.empty()) return weighted_quantiles(values, weights, qs);
    std::vector<double> copy = values, out;
    for (double q : qs) out.push_back(quantile(copy, q));
    return out;
  };
  const std::vector<double> p = percentiles(lat, counts, {0.50, 0.95, 0.99});
  const std::vector<double>& scaling = totals.scaling_latencies_s;
  const double total = static_cast<double>(totals.requests_total);
  Summary s;
  auto add = [&](const char* k, double v, bool integer = false) { s.push_back({k, v, integer}); };
  add("requests_total", total, true);
  add("requests_completed", static_cast<double>(completed), true);
  add("requests_failed", static_cast<double>(totals.requests_failed), true);
  add("requests_in_flight_end", static_cast<double>(in_flight), true);
  add("sla_violation_fraction", totals.requests_total > 0 ? static_cast<double>(violations) / total : 0);
  add("latency_p50_s", p[0]);
  add("latency_p95_s", p[1]);
  add("latency_p99_s", p[2]);
  add("latency_p95_during_scaling_s", scaling.empty()
                                          ? std::numeric_limits<double>::quiet_NaN()
                                          : percentiles(scaling, totals.scaling_counts, {0.95})[0]);
  add("cost_usd", totals.cost_usd);
  add("cost_per_million_requests_usd", totals.requests_total > 0 ? totals.cost_usd / total * 1e6 : 0);
  add("instance_seconds", totals.instance_seconds);
  add("wasted_instance_seconds", wasted);
  add("under_provisioned_seconds", under_any);
  add("scaling_actions", static_cast<double>(sc.actions), true);
  add("scaling_reversals", static_cast<double>(sc.reversals), true);
  add("reversals_per_hour", static_cast<double>(sc.reversals) / (totals.duration_s / 3600.0));
  add("time_to_scale_mean_s", episodes > 0 ? episodes_total / static_cast<double>(episodes) : 0);
  const auto& cold = totals.cold_start_waits_s;
  add("cold_starts", static_cast<double>(cold.size()), true);
  add("cold_start_wait_s",
      cold.empty() ? 0 : std::accumulate(cold.begin(), cold.end(), 0.0) / double(cold.size()));
  // SLA-violation episodes (sim/analysis/attribution.hpp): how many, and their seconds in all and per cause.
  add("violation_episodes", static_cast<double>(recorded.episodes.size()), true);
  double episode_s = 0;
  for (const auto& e : recorded.episodes) episode_s += e.end_s - e.start_s;
  add("violation_s", episode_s);
  for (const auto& cause : episode_causes()) {
    double by_cause = 0;
    for (const auto& e : recorded.episodes)
      if (e.cause == cause) by_cause += e.end_s - e.start_s;
    s.push_back({"violation_s_" + cause, by_cause, false});
  }
  return s;
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
                                                 "time_to_scale_mean_s",
                                                 "cold_starts",
                                                 "cold_start_wait_s",
                                                 "violation_episodes",
                                                 "violation_s",
                                                 "violation_s_pending_nodes",
                                                 "violation_s_bottleneck_elsewhere",
                                                 "violation_s_overshoot_flapping",
                                                 "violation_s_startup_lag",
                                                 "violation_s_under_forecast",
                                                 "violation_s_unexplained"};
  return names;
}
const std::vector<std::string>& episode_causes() {
  static const std::vector<std::string> causes = {"pending_nodes",      "bottleneck_elsewhere",
                                                  "overshoot_flapping", "startup_lag",
                                                  "under_forecast",     "unexplained"};
  return causes;
}
bool expectation_holds(double actual, const std::string& op, double bound) {
  if (op == "<") return actual < bound;
  if (op == "<=") return actual <= bound;
  if (op == ">") return actual > bound;
  if (op == ">=") return actual >= bound;
  if (op == "==") return actual == bound;
  return actual != bound;
}

}  // namespace autoscale
