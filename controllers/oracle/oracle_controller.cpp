#include "controllers/oracle/oracle_controller.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "controllers/base/error.hpp"
#include "controllers/registry.hpp"

namespace autoscale {

namespace {
// The peak rate over [t, h) for many h (one per startup sample), each from the nearest shorter window already
// asked for: a tick scans its look-ahead about once, however many instances it weighs.
class Peaks {
 public:
  Peaks(Foresight& f, const std::string& service, double t) : f_(f), service_(service), t_(t) {}
  double until(double h) {
    auto it = known_.upper_bound(h);
    double from = t_, peak = 0;
    if (it != known_.begin()) {
      --it;
      from = it->first;
      peak = it->second;
    }
    if (h > from) peak = std::max(peak, f_.peak_rps(service_, from, h));
    known_[h] = peak;
    return peak;
  }

 private:
  Foresight& f_;
  const std::string& service_;
  double t_;
  std::map<double, double> known_;
};
}  // namespace

void OracleController::set_foresight(Foresight& foresight) {
  std::map<std::string, double> per_instance;
  for (const auto& name : cfg_.services) {
    if (cfg_.rps_per_instance > 0) {
      per_instance[name] = cfg_.rps_per_instance;
      continue;
    }
    const double capacity = foresight.capacity_rps(name);
    if (!(capacity > 0) || !std::isfinite(capacity)) {
      const std::string why = "the simulator cannot derive one for service '" + name +
                              "' (its capacity_rps is 0: its work_cpu_s has a mean of 0, or the foresight "
                              "does not know it)";
      throw InputError("", 0, "rps_per_instance", "oracle: expected a positive rps_per_instance: " + why);
    }
    per_instance[name] = capacity * cfg_.target_utilization;
  }
  rps_per_instance_ = std::move(per_instance);
  foresight_ = &foresight;
}

Decision OracleController::decide(const Observation& obs) {
  if (!foresight_)
    throw InputError(
        "", 0, "kind",
        "oracle: needs the true future, which only the simulator gives (not `autoscale decide`)");
  Foresight& f = *foresight_;
  const double t = obs.time_s;
  const double tick = cfg_.interval_s;
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    Peaks peaks(f, name, t);
    const double per_instance = rps_per_instance_.at(name);
    // need(t, h), with a little slack in the ceil, so that 10.000000000001 instances (rounding) are 10.
    auto need = [&](double h) {
      double rps = peaks.until(h) * (1 + cfg_.headroom);
      return static_cast<int>(std::ceil(std::max(0.0, rps) / per_instance - 1e-9));
    };
    // need(t, t + lead + S_k), by k: lead I is when the k-th next launch, made at the next tick, would be
    // ready; lead 2I, when the next tick's look-ahead ends.
    std::map<int, std::vector<int>> by_launch;
    auto need_by_launch = [&](int k, int intervals) {
      std::vector<int>& v = by_launch[intervals];
      while (static_cast<int>(v.size()) <= k)
        v.push_back(need(t + intervals * tick + f.startup_s(name, static_cast<int>(v.size()))));
      return v[static_cast<size_t>(k)];
    };
    const int current = s->desired;
    int out = current;
    for (int j = 1; current + j <= s->max_instances; ++j)
      if (need_by_launch(j - 1, 1) >= current + j) out = current + j;
    std::vector<double>& starting = starting_[name];
    starting.erase(std::remove_if(starting.begin(), starting.end(), [t](double ready) { return ready <= t; }),
                   starting.end());
    int in = current;
    if (out == current && starting.empty()) {
      int keep = s->min_instances;
      for (int k = 0; keep < current && k < s->max_instances - keep; ++k)
        keep = std::max(keep, need_by_launch(k, 2) - k);
      in = std::min(current, keep);
    }

    const int want = std::clamp(out > current ? out : in, s->min_instances, s->max_instances);
    ServiceDecision sd{name, want, "arrival_rps_peak", 0, "foresight_hold"};
    if (want > current) sd.rule = "foresight_out";
    if (want < current) sd.rule = "foresight_in";
    for (int j = 0; j < want - current; ++j) starting.push_back(t + f.startup_s(name, j));
    const double startup = f.startup_s(name, 0);
    sd.metric_value = peaks.until(t + tick + startup);
    const int need_now = need(t + tick);
    sd.diagnostics["need_now"] = need_now;
    sd.diagnostics["startup_s"] = startup;
    sd.diagnostics["horizon_s"] = tick + startup;
    sd.diagnostics["starting"] = static_cast<double>(starting.size());
    sd.diagnostics["rps_per_instance"] = per_instance;
    // This interval needs more than was ordered in time: only the initial fleet could have covered it.
    sd.diagnostic_flags["late"] = need_now > current;
    d.services.push_back(std::move(sd));
  }
  return d;
}

std::unique_ptr<Controller> make_oracle_controller(Params& p, const ControllerContext& ctx) {
  OracleConfig c;
  c.services = controlled_services(p, ctx);
  c.interval_s = p.number("interval_s", 60.0);
  if (!(c.interval_s > 0)) p.fail("interval_s", "a positive interval in seconds");
  if (p.has("rps_per_instance")) {
    c.rps_per_instance = p.number("rps_per_instance", std::nullopt);
    if (!(c.rps_per_instance > 0)) p.fail("rps_per_instance", "a positive rate in requests per second");
  }
  c.target_utilization = p.number("target_utilization", c.target_utilization);
  if (!(c.target_utilization > 0 && c.target_utilization <= 1))
    p.fail("target_utilization", "a utilization in (0, 1]");
  c.headroom = p.number("headroom", 0.0);
  if (c.headroom < 0) p.fail("headroom", "a non-negative fraction");
  return std::make_unique<OracleController>(std::move(c));
}

}  // namespace autoscale
