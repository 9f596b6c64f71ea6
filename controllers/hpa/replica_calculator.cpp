#include "controllers/hpa/replica_calculator.hpp"

#include <climits>
#include <cmath>
#include <limits>

#include "controllers/hpa/quantity.hpp"

namespace autoscale::hpa {

namespace {

// Go's zero time.Time, which `autoscale decide` writes as -infinity: an instant far in the past on which
// upstream still does arithmetic (zero + 10 s is after zero).
constexpr double kGoZeroTime = -1e15;
double go_time(double t) {
  return std::isinf(t) && t < 0 ? kGoZeroTime : t;
}

// int32(math.Ceil(x)), saturating at the int32 range as upstream's overflow guards do.
int ceil_replicas(double x) {
  if (!(x < static_cast<double>(INT_MAX))) return x != x ? 0 : INT_MAX;  // NaN: 0
  return static_cast<int>(std::ceil(x));
}

// One pod's sample of the metric (milli-units), if it has one.
using Sample = std::optional<int64_t>;

// Upstream's groupPods: deleted and failed pods are ignored, pending ones unready, pods without a sample
// missing; for CPU, a pod is also unready while its samples may still show start-up CPU.
struct Groups {
  int ready = 0;
  std::vector<size_t> unready, missing;
  std::vector<bool> counted;  // ready pods, whose samples the ratio is computed from
};

Groups group_pods(const std::vector<InstanceObservation>& pods, const std::vector<Sample>& samples, bool cpu,
                  const PodTiming& timing, double now) {
  Groups g;
  g.counted.assign(pods.size(), false);
  for (size_t i = 0; i < pods.size(); ++i) {
    const InstanceObservation& p = pods[i];
    if (p.deleting || p.phase == "Failed") continue;
    if (p.phase == "Pending") {
      g.unready.push_back(i);
      continue;
    }
    if (!samples[i]) {
      g.missing.push_back(i);
      continue;
    }
    if (cpu) {
      double start = go_time(p.start_time_s), transition = go_time(p.ready_time_s);
      bool unready;
      if (start + timing.cpu_initialization_period_s > now) {
        // Still within the initialisation period: only a sample taken a full window after turning ready
        // counts.
        unready = !p.ready || go_time(p.metrics_timestamp_s) < transition + p.metrics_window_s;
      } else {
        // Past it: ignore only a pod that is unready and has never been ready.
        unready = !p.ready && start + timing.initial_readiness_delay_s > transition;
      }
      if (unready) {
        g.unready.push_back(i);
        continue;
      }
    }
    ++g.ready;
    g.counted[i] = true;
  }
  return g;
}

// The samples the ratio is computed from: ready pods' (upstream removes ignored and unready pods' samples).
struct Metrics {
  std::vector<std::pair<size_t, int64_t>> values;  // pod index, milli-value
  void set(size_t pod, int64_t v) { values.emplace_back(pod, v); }
};

Metrics ready_samples(const std::vector<Sample>& samples, const Groups& g) {
  Metrics m;
  for (size_t i = 0; i < samples.size(); ++i)
    if (g.counted[i]) m.set(i, *samples[i]);
  return m;
}

// GetResourceUtilizationRatio: utilization = sum(usage) * 100 / sum(request), in integer percent.
struct Utilization {
  bool ok = false;
  double ratio = 0;
  int64_t percent = 0;
  int64_t raw_average = 0;  // millicores per pod
};

Utilization utilization_ratio(const Metrics& m, const std::vector<int64_t>& requests, int target) {
  __int128 usage = 0, requested = 0;
  int64_t n = 0;
  for (const auto& [pod, v] : m.values) {
    usage += v;
    requested += requests[pod];
    ++n;
  }
  Utilization u;
  if (requested == 0) return u;
  __int128 percent = usage * 100 / requested;
  if (percent > INT_MAX || percent < INT_MIN) return u;
  u.ok = true;
  u.percent = static_cast<int64_t>(percent);
  u.ratio = static_cast<double>(u.percent) / target;
  u.raw_average = static_cast<int64_t>(usage / n);
  return u;
}

// GetMetricUsageRatio: the average sample (integer division) over the target.
std::pair<double, int64_t> usage_ratio(const Metrics& m, int64_t target) {
  __int128 total = 0;
  for (const auto& [pod, v] : m.values) total += v;
  int64_t average = static_cast<int64_t>(total / static_cast<int64_t>(m.values.size()));
  return {static_cast<double>(average) / static_cast<double>(target), average};
}

// True when the re-computed ratio keeps the current count: within tolerance, or on the other side of 1.
bool flips_or_within(double before, double after, const Tolerances& tol) {
  return tol.within(after) || (before < 1.0 && after > 1.0) || (before > 1.0 && after < 1.0);
}

std::vector<Sample> cpu_samples(const std::vector<InstanceObservation>& pods) {
  std::vector<Sample> s(pods.size());
  for (size_t i = 0; i < pods.size(); ++i)
    if (pods[i].has_metrics) s[i] = to_milli(pods[i].cpu_usage_cores);
  return s;
}

bool any(const std::vector<Sample>& samples) {
  for (const auto& s : samples)
    if (s) return true;
  return false;
}

// calcPlainMetricReplicas: an average value per pod against the target, with missing and unready pods.
Proposal plain_metric(int current_replicas, int64_t target, const std::vector<InstanceObservation>& pods,
                      const std::vector<Sample>& samples, bool cpu, const Tolerances& tol,
                      const PodTiming& timing, double now) {
  if (pods.empty()) return invalid_proposal("no pods returned by selector while calculating replica count");
  Groups g = group_pods(pods, samples, cpu, timing, now);
  Metrics m = ready_samples(samples, g);
  if (m.values.empty())
    return invalid_proposal("did not receive metrics for targeted pods (pods might be unready)");
  auto [ratio, usage] = usage_ratio(m, target);
  Proposal p;
  p.valid = true;
  p.usage_ratio = ratio;
  p.current = static_cast<double>(usage) / 1000.0;
  bool scale_up_with_unready = !g.unready.empty() && ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (tol.within(ratio)) {
      p.replicas = current_replicas;
      p.held_by = "tolerance";
    } else {
      p.replicas = ceil_replicas(ratio * g.ready);
    }
    return p;
  }
  // Missing pods count as using exactly the target on a scale-down, nothing on a scale-up.
  if (ratio < 1.0)
    for (size_t i : g.missing) m.set(i, target);
  else if (ratio > 1.0)
    for (size_t i : g.missing) m.set(i, 0);
  if (scale_up_with_unready)
    for (size_t i : g.unready) m.set(i, 0);
  double new_ratio = usage_ratio(m, target).first;
  if (flips_or_within(ratio, new_ratio, tol)) {
    p.replicas = current_replicas;
    p.held_by = tol.within(new_ratio) ? "tolerance" : "direction_flip";
    return p;
  }
  int replicas = ceil_replicas(new_ratio * static_cast<double>(m.values.size()));
  if ((new_ratio < 1.0 && replicas > current_replicas) || (new_ratio > 1.0 && replicas < current_replicas)) {
    p.replicas = current_replicas;
    p.held_by = "direction_flip";
    return p;
  }
  p.replicas = replicas;
  return p;
}

}  // namespace

Proposal invalid_proposal(std::string error) {
  Proposal p;
  p.error = std::move(error);
  return p;
}

Proposal resource_utilization(int current_replicas, int target_utilization,
                              const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                              const PodTiming& timing, double now_s) {
  std::vector<Sample> samples = cpu_samples(pods);
  if (!any(samples))
    return invalid_proposal(
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
  if (pods.empty()) return invalid_proposal("no pods returned by selector while calculating replica count");
  Groups g = group_pods(pods, samples, true, timing, now_s);
  Metrics m = ready_samples(samples, g);
  if (m.values.empty())
    return invalid_proposal("did not receive metrics for targeted pods (pods might be unready)");
  // calculateRequests: every pod the selector matches must have a CPU request.
  std::vector<int64_t> requests(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    if (pods[i].cpu_request_cores <= 0)
      return invalid_proposal("missing request for cpu in pod " + pods[i].name);
    requests[i] = to_milli(pods[i].cpu_request_cores);
  }
  Utilization u = utilization_ratio(m, requests, target_utilization);
  if (!u.ok) return invalid_proposal("no metrics returned matched known pods");
  Proposal p;
  p.valid = true;
  p.usage_ratio = u.ratio;
  p.current = static_cast<double>(u.percent);
  bool scale_up_with_unready = !g.unready.empty() && u.ratio > 1.0;
  if (!scale_up_with_unready && g.missing.empty()) {
    if (tol.within(u.ratio)) {
      p.replicas = current_replicas;
      p.held_by = "tolerance";
    } else {
      p.replicas = ceil_replicas(u.ratio * g.ready);
    }
    return p;
  }
  if (!g.missing.empty()) {
    if (u.ratio < 1.0) {
      // On a scale-down a missing pod counts as using its whole request, or the target when that is higher.
      int64_t fallback = std::max<int64_t>(100, target_utilization);
      for (size_t i : g.missing) m.set(i, requests[i] * fallback / 100);
    } else if (u.ratio > 1.0) {
      for (size_t i : g.missing) m.set(i, 0);
    }
  }
  if (scale_up_with_unready)
    for (size_t i : g.unready) m.set(i, 0);
  Utilization after = utilization_ratio(m, requests, target_utilization);
  if (!after.ok) return invalid_proposal("no metrics returned matched known pods");
  if (flips_or_within(u.ratio, after.ratio, tol)) {
    p.replicas = current_replicas;
    p.held_by = tol.within(after.ratio) ? "tolerance" : "direction_flip";
    return p;
  }
  int replicas = ceil_replicas(after.ratio * static_cast<double>(m.values.size()));
  if ((after.ratio < 1.0 && replicas > current_replicas) ||
      (after.ratio > 1.0 && replicas < current_replicas)) {
    p.replicas = current_replicas;
    p.held_by = "direction_flip";
    return p;
  }
  p.replicas = replicas;
  return p;
}

Proposal resource_average_value(int current_replicas, int64_t target_milli,
                                const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                                const PodTiming& timing, double now_s) {
  std::vector<Sample> samples = cpu_samples(pods);
  if (!any(samples))
    return invalid_proposal(
        "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
  return plain_metric(current_replicas, target_milli, pods, samples, true, tol, timing, now_s);
}

Proposal pods_average_value(int current_replicas, int64_t target_milli, const std::string& name,
                            const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                            const PodTiming& timing, double now_s) {
  std::vector<Sample> samples(pods.size());
  for (size_t i = 0; i < pods.size(); ++i) {
    auto it = pods[i].pod_metrics.find(name);
    if (it != pods[i].pod_metrics.end()) samples[i] = to_milli(it->second);
  }
  if (!any(samples))
    return invalid_proposal("unable to get metric " + name + ": no metrics returned from custom metrics API");
  return plain_metric(current_replicas, target_milli, pods, samples, false, tol, timing, now_s);
}

Proposal total_value(int current_replicas, int64_t target_milli, std::optional<double> value,
                     const std::vector<InstanceObservation>& pods, const Tolerances& tol) {
  if (!value) return invalid_proposal("unable to get metric: the metric source returned no value");
  int64_t usage = to_milli(*value);
  Proposal p;
  p.valid = true;
  p.usage_ratio = static_cast<double>(usage) / static_cast<double>(target_milli);
  p.current = static_cast<double>(usage) / 1000.0;
  if (current_replicas == 0) {
    // From zero (minReplicas 0): no tolerance, no ready pods, scale to what the ratio says.
    p.replicas = ceil_replicas(p.usage_ratio);
    return p;
  }
  if (tol.within(p.usage_ratio)) {
    p.replicas = current_replicas;
    p.held_by = "tolerance";
    return p;
  }
  if (pods.empty())
    return invalid_proposal(
        "unable to calculate ready pods: no pods returned by selector while calculating replica count");
  int ready = 0;
  for (const auto& pod : pods)
    if (pod.phase == "Running" && pod.ready) ++ready;
  p.replicas = ceil_replicas(p.usage_ratio * ready);
  return p;
}

Proposal total_average_value(int status_replicas, int64_t target_milli, std::optional<double> value,
                             const Tolerances& tol) {
  if (!value) return invalid_proposal("unable to get metric: the metric source returned no value");
  int64_t usage = to_milli(*value);
  Proposal p;
  p.valid = true;
  p.replicas = status_replicas;
  p.usage_ratio =
      static_cast<double>(usage) / (static_cast<double>(target_milli) * static_cast<double>(status_replicas));
  if (!tol.within(p.usage_ratio))
    p.replicas = ceil_replicas(static_cast<double>(usage) / static_cast<double>(target_milli));
  else
    p.held_by = "tolerance";
  double per_pod = status_replicas > 0 ? std::ceil(static_cast<double>(usage) / status_replicas) : usage;
  p.current = per_pod / 1000.0;
  return p;
}

}  // namespace autoscale::hpa
