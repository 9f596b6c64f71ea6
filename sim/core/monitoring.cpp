#include "sim/core/monitoring.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace autoscale {

double quantile(std::vector<double>& v, double q) {
  if (v.empty()) return 0;
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  double frac = pos - static_cast<double>(lo);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(lo), v.end());
  double a = v[lo];
  if (frac == 0 || lo + 1 >= v.size()) return a;
  double b = *std::min_element(v.begin() + static_cast<long>(lo) + 1, v.end());
  return a + frac * (b - a);
}

namespace {
using Weighted = std::vector<std::pair<double, double>>;
// The values at `ranks` (sorted, 0-based) of the expanded multiset of vw[first, last), whose weights before
// `first` sum to `below`: one selection around a pivot (nth_element), each side searched only for the ranks
// it holds, in expected time linear in the size times the log of the number of ranks.
void select_ranks(Weighted& vw, size_t first, size_t last, double below, const double* ranks, size_t n_ranks,
                  double* out) {
  while (n_ranks > 0) {
    if (last - first == 1) {
      for (size_t k = 0; k < n_ranks; ++k) out[k] = vw[first].first;
      return;
    }
    const size_t mid = first + (last - first) / 2;
    std::nth_element(vw.begin() + static_cast<long>(first), vw.begin() + static_cast<long>(mid),
                     vw.begin() + static_cast<long>(last));
    double left = 0;
    for (size_t i = first; i < mid; ++i) left += vw[i].second;
    const double pivot_lo = below + left, pivot_hi = pivot_lo + vw[mid].second;
    size_t k_left = 0;
    while (k_left < n_ranks && ranks[k_left] < pivot_lo) ++k_left;
    size_t k_mid = k_left;
    while (k_mid < n_ranks && ranks[k_mid] < pivot_hi) out[k_mid++] = vw[mid].first;
    if (k_left > 0) select_ranks(vw, first, mid, below, ranks, k_left, out);
    // The ranks above the pivot, in the right side (a loop: no deeper recursion for them).
    ranks += k_mid;
    out += k_mid;
    n_ranks -= k_mid;
    below = pivot_hi;
    first = mid + 1;
  }
}
}  // namespace

std::vector<double> weighted_quantiles(const std::vector<double>& values, const std::vector<double>& weights,
                                       const std::vector<double>& qs) {
  Weighted vw;
  vw.reserve(values.size());
  double n = 0;
  for (size_t i = 0; i < values.size() && i < weights.size(); ++i)
    if (weights[i] > 0) {
      vw.emplace_back(values[i], weights[i]);
      n += weights[i];
    }
  std::vector<double> out(qs.size(), 0.0);
  if (n <= 0) return out;
  // Each quantile needs the values at ranks floor(pos) and floor(pos) + 1 (numpy's linear interpolation).
  std::vector<double> ranks;
  for (double q : qs) {
    const double lo = std::floor(q * (n - 1));
    ranks.push_back(lo);
    ranks.push_back(std::min(lo + 1, n - 1));
  }
  std::vector<double> sorted = ranks;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  std::vector<double> at(sorted.size());
  select_ranks(vw, 0, vw.size(), 0, sorted.data(), sorted.size(), at.data());
  auto value_at = [&](double rank) {
    return at[static_cast<size_t>(std::lower_bound(sorted.begin(), sorted.end(), rank) - sorted.begin())];
  };
  for (size_t k = 0; k < qs.size(); ++k) {
    const double pos = qs[k] * (n - 1), frac = pos - ranks[2 * k];
    const double a = value_at(ranks[2 * k]);
    out[k] = frac == 0 || ranks[2 * k] + 1 >= n ? a : a + frac * (value_at(ranks[2 * k + 1]) - a);
  }
  return out;
}

double weighted_quantile(const std::vector<double>& values, const std::vector<double>& weights, double q) {
  return weighted_quantiles(values, weights, {q})[0];
}

MonitoringPipeline::MonitoringPipeline(const MonitoringSpec& spec, std::vector<bool> database)
    : spec_(spec), database_(std::move(database)) {}

void MonitoringPipeline::add(Scrape s) {
  scrapes_.push_back(std::move(s));
  // Keep what a window ending at the newest visible scrape can still need, plus one baseline before it.
  double horizon = scrapes_.back().time_s - spec_.lag_s - spec_.window_s - spec_.scrape_interval_s;
  while (scrapes_.size() > 2 && scrapes_[1].time_s < horizon) scrapes_.pop_front();
}

// Per instance: usage over the window from the first scrape of it in the window (or the baseline) to the
// newest.
void MonitoringPipeline::observe_instances(long base, long newest, size_t k, ServiceObservation& o) const {
  const Scrape& last = scrapes_[newest];
  o.instances.clear();
  for (const InstanceSample& cur : last.services[k].instances) {
    InstanceObservation io;
    io.id = cur.id;
    io.name = o.name + "-" + std::to_string(cur.id);
    io.state = cur.state;
    // Not yet running on a node: launching, pending (unschedulable) or provisioning (image pull).
    io.phase = cur.state == "launching" || cur.state == "pending" || cur.state == "provisioning" ? "Pending"
                                                                                                 : "Running";
    io.ready = cur.ready;
    io.deleting = cur.deleting;
    io.start_time_s = cur.start_time_s;
    io.ready_time_s = cur.ready_time_s;
    io.cpu_request_cores = cur.cpu_request_cores;
    io.cpu_limit_cores = cur.cpu_limit_cores;
    io.metrics_timestamp_s = last.time_s;
    double in_service = 0, count = 0;
    const InstanceSample* first = nullptr;
    double first_t = 0;
    for (long i = base; i <= newest; ++i) {
      for (const InstanceSample& x : scrapes_[i].services[k].instances)
        if (x.id == cur.id) {
          if (!first) {
            first = &x;
            first_t = scrapes_[i].time_s;
          }
          if (i > base) {
            in_service += x.in_service;
            count += 1;
          }
          break;
        }
    }
    if (first && last.time_s > first_t) {
      io.has_metrics = true;
      io.metrics_window_s = last.time_s - first_t;
      io.cpu_usage_cores = (cur.busy_core_s - first->busy_core_s) / io.metrics_window_s;
      io.cpu_throttled_fraction = (cur.throttled_s - first->throttled_s) / io.metrics_window_s;
      io.pod_metrics["requests_per_second"] = (cur.completed - first->completed) / io.metrics_window_s;
      io.concurrency = count > 0 ? in_service / count : 0;
      io.pod_metrics["concurrency"] = io.concurrency;
    }
    o.instances.push_back(std::move(io));
  }
}

void MonitoringPipeline::observe(double now_s, Observation& obs) const {
  // Newest visible scrape.
  long newest = -1;
  for (long i = static_cast<long>(scrapes_.size()) - 1; i >= 0; --i)
    if (scrapes_[i].time_s + spec_.lag_s <= now_s + 1e-9) {
      newest = i;
      break;
    }
  for (auto& s : obs.services) s.metrics_valid = false;
  if (newest < 0) return;
  const Scrape& last = scrapes_[newest];
  // Baseline: the newest scrape at or before the window's start (the oldest one if none is that old).
  long base = 0;
  for (long i = newest; i >= 0; --i)
    if (scrapes_[i].time_s <= last.time_s - spec_.window_s + 1e-9) {
      base = i;
      break;
    }
  const Scrape& first = scrapes_[base];
  double dt = last.time_s - first.time_s;
  for (size_t k = 0; k < obs.services.size(); ++k) {
    ServiceObservation& o = obs.services[k];
    const ServiceSample& a = first.services[k];
    const ServiceSample& b = last.services[k];
    o.sample_age_s = now_s - last.time_s;
    o.pending = b.pending;
    o.starting = b.starting;
    o.warming = b.warming;
    o.in_service = b.in_service_instances;
    o.draining = b.draining;
    observe_instances(base, newest, k, o);
    if (dt <= 0) continue;
    o.metrics_valid = true;
    o.arrival_rps = (b.arrivals - a.arrivals) / dt;
    o.completed_rps = (b.completions - a.completions) / dt;
    o.failed_rps = (b.failures - a.failures) / dt;
    double done = (b.completions - a.completions) + (b.failures - a.failures);
    o.error_rate = done > 0 ? (b.failures - a.failures) / done : 0;
    double cap = b.capacity_core_s - a.capacity_core_s;
    o.cpu_utilization = cap > 0 ? (b.busy_core_s - a.busy_core_s) / cap : 0;
    double in_service = 0, in_service_ready = 0, queued_ready = 0, ready = 0, waiting = 0;
    std::vector<double> lat;
    for (long i = base + 1; i <= newest; ++i) {
      const ServiceSample& s = scrapes_[i].services[k];
      in_service += s.in_service;
      in_service_ready += s.in_service_ready;
      queued_ready += s.queued_ready;
      waiting += s.activator_queued;
      ready += s.warming + s.in_service_instances;
      lat.insert(lat.end(), s.latencies_s.begin(), s.latencies_s.end());
    }
    // Per ready instance: what ready instances hold (a draining instance's requests are not theirs).
    o.concurrency = ready > 0 ? in_service_ready / ready : 0;
    o.queue_depth = ready > 0 ? queued_ready / ready : 0;
    o.connections_in_use = database_[k] ? in_service / double(newest - base) : 0;
    o.activator_queue = waiting / double(newest - base);
    o.latency_p95_s = quantile(lat, 0.95);
    // The same aggregates by name, for controllers that name their metric (HPA Object/External, KEDA).
    for (const std::string& name : observation_metric_names()) {
      double v = 0;
      observation_metric(o, name, v);
      o.named_metrics[name] = v;
    }
  }
}

}  // namespace autoscale
