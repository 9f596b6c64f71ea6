#include "sim/analysis/attribution.hpp"

#include <algorithm>
#include <stdexcept>

namespace autoscale {

namespace {

const std::string& cause_name(size_t k) {
  return episode_causes().at(k);
}
enum Cause : size_t {
  kPendingNodes,
  kBottleneckElsewhere,
  kOvershootFlapping,
  kStartupLag,
  kUnderForecast,
  kUnexplained
};

double interval_start(const std::vector<double>& time_s, size_t i) {
  return i > 0 ? time_s[i - 1] : 0.0;
}

template <class V>
void check_length(const V& v, size_t n, const std::string& what) {
  if (v.size() != n)
    throw std::invalid_argument("attribute_episodes: " + what + " has " + std::to_string(v.size()) +
                                " values, expected one per record interval (" + std::to_string(n) + ")");
}

// One episode's intervals [i0, i1] (inclusive) and what was found in them.
struct Window {
  size_t i0, i1;
};

// The service most short of capacity in the window, or -1: the largest (needed - ready) / needed, then the
// largest needed - ready, then the lowest index.
int most_short(const RunResult& r, const Window& w) {
  int best = -1;
  double best_rel = 0, best_abs = 0;
  for (size_t s = 0; s < r.services.size(); ++s) {
    const ServiceSeries& ser = r.services[s];
    double rel = 0, abs = 0;
    for (size_t i = w.i0; i <= w.i1; ++i) {
      double gap = ser.needed_instances[i] - ser.instances_ready[i];
      if (gap <= 0) continue;
      rel = std::max(rel, gap / ser.needed_instances[i]);
      abs = std::max(abs, gap);
    }
    if (rel > best_rel || (rel == best_rel && rel > 0 && abs > best_abs)) {
      best = static_cast<int>(s);
      best_rel = rel;
      best_abs = abs;
    }
  }
  return best;
}

}  // namespace

std::vector<double> sla_violation_fractions(const RunResult& r) {
  if (r.sla_requests.empty() && r.sla_violations.empty()) return {};
  const size_t n = r.time_s.size();
  check_length(r.sla_requests, n, "sla_requests");
  check_length(r.sla_violations, n, "sla_violations");
  std::vector<double> f(n, 0.0);
  for (size_t i = 0; i < n; ++i)
    if (r.sla_requests[i] > 0) f[i] = r.sla_violations[i] / r.sla_requests[i];
  return f;
}

std::vector<EpisodeRow> attribute_episodes(const RunResult& r, const AttributionConfig& cfg) {
  const std::vector<double> frac = sla_violation_fractions(r);
  if (frac.empty()) return {};
  const size_t n = r.time_s.size();
  for (const ServiceSeries& ser : r.services) {
    check_length(ser.needed_instances, n, ser.name + "/needed_instances");
    check_length(ser.instances_ready, n, ser.name + "/instances_ready");
    check_length(ser.instances_desired, n, ser.name + "/instances_desired");
    check_length(ser.instances_pending, n, ser.name + "/instances_pending");
    check_length(ser.queue_depth, n, ser.name + "/queue_depth");
  }
  std::vector<bool> controlled(r.services.size(), false);
  for (const DecisionRow& d : r.decisions)
    if (d.service >= 0 && static_cast<size_t>(d.service) < controlled.size())
      controlled[static_cast<size_t>(d.service)] = true;
  auto service_cfg = [&](size_t s) {
    return s < cfg.services.size() ? cfg.services[s] : AttributionService{};
  };

  std::vector<Window> windows;
  for (size_t i = 0; i < n; ++i) {
    bool violating = r.sla_requests[i] > 0 && frac[i] > cfg.threshold;
    if (!violating) continue;
    if (!windows.empty() && windows.back().i1 + 1 == i)
      windows.back().i1 = i;
    else
      windows.push_back({i, i});
  }

  std::vector<EpisodeRow> out;
  for (const Window& w : windows) {
    EpisodeRow e{interval_start(r.time_s, w.i0), r.time_s[w.i1], -1, cause_name(kUnexplained), 0, 0};
    double arrived = 0, violated = 0;
    for (size_t i = w.i0; i <= w.i1; ++i) {
      arrived += r.sla_requests[i];
      violated += r.sla_violations[i];
    }
    e.violation_fraction = arrived > 0 ? violated / arrived : 0;

    const int s = most_short(r, w);
    if (s < 0) {
      // No service short of CPU: a database whose connections are all in use (queries waiting), if any; the
      // one with the longest queue.
      double deepest = 0;
      for (size_t k = 0; k < r.services.size(); ++k) {
        if (!service_cfg(k).database) continue;
        for (size_t i = w.i0; i <= w.i1; ++i)
          if (r.services[k].queue_depth[i] > deepest) {
            deepest = r.services[k].queue_depth[i];
            e.service = static_cast<int>(k);
          }
      }
      if (e.service >= 0) e.cause = cause_name(kBottleneckElsewhere);
      out.push_back(e);
      continue;
    }
    e.service = s;
    const ServiceSeries& ser = r.services[static_cast<size_t>(s)];
    const AttributionService sc = service_cfg(static_cast<size_t>(s));
    double peak_need = 0, lag_s = 0, under_s = 0;
    bool pending = false, at_max = false;
    for (size_t i = w.i0; i <= w.i1; ++i) {
      if (ser.instances_pending[i] > 0) pending = true;
      const double gap = ser.needed_instances[i] - ser.instances_ready[i];
      if (gap <= 0) continue;
      e.peak_shortfall = std::max(e.peak_shortfall, gap);
      peak_need = std::max(peak_need, ser.needed_instances[i]);
      if (ser.needed_instances[i] > sc.max_instances) at_max = true;  // no count allowed would do
      const double dt = r.time_s[i] - interval_start(r.time_s, i);
      (ser.instances_desired[i] >= ser.needed_instances[i] ? lag_s : under_s) += dt;
    }
    bool removed = false;  // capacity it then needed was taken away shortly before or during the episode
    for (const DecisionRow& d : r.decisions)
      if (d.service == s && d.desired < d.current && d.current >= peak_need &&
          d.time_s >= e.start_s - cfg.lookback_s && d.time_s < e.end_s)
        removed = true;
    if (pending)
      e.cause = cause_name(kPendingNodes);
    else if (!controlled[static_cast<size_t>(s)] || at_max)
      e.cause = cause_name(kBottleneckElsewhere);
    else if (removed)
      e.cause = cause_name(kOvershootFlapping);
    else if (lag_s >= under_s)
      e.cause = cause_name(kStartupLag);
    else
      e.cause = cause_name(kUnderForecast);
    out.push_back(e);
  }
  return out;
}

}  // namespace autoscale
