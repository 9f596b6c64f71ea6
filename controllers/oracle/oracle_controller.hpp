#pragma once
// `oracle`: clairvoyant. It sees the true future (a Foresight the simulator gives it: the traffic's rate
// function and the startup samples the fleet will draw) and launches each instance exactly early enough that
// the ready capacity covers the need at every time: the lower bound on cost at (almost) zero violations that
// the other controllers are measured against. Only the simulator has the future: `autoscale decide`, or a
// wrapper around the oracle, cannot give it one, and its first decide then fails.
//
// need(a, b) = ceil(peak offered rps over [a, b) x (1 + headroom) / rps_per_instance): the instances that
// cover the highest rate of the window (the rate function's expected arrivals; the Poisson arrivals
// fluctuate around it, and rps_per_instance is what one instance serves at a target utilization below 1,
// which absorbs that). rps_per_instance, when not given (as in a bench, where one controller section runs on
// scenarios whose services differ), is derived for each service from what the simulator knows:
//   rps_per_instance = capacity_rps x target_utilization,
//   capacity_rps = min(cores, workers) x (hosts' speed_gflops / reference_speed_gflops) / E[work_cpu_s]
// (Foresight::capacity_rps: what one fully busy instance serves; cores: the instance type's vCPU on a
// dedicated node, a pod's cpu_limit, else its cpu_request; E[work_cpu_s]: the mean CPU-seconds per request to
// the service, a truncated normal's true mean). A service whose capacity cannot be derived (work of mean 0)
// fails when the simulator hands over the foresight. At a tick T, with D instances desired (each launched
// when it had to be, so ready in time), the next tick at T + I (I = interval_s), and S_k the startup of the
// k-th next launch (the same sample whether that launch happens now or at a later tick, as launches take them
// in order):
// - out: the (D + j)-th instance is launched now when need(T, T + I + S_{j-1}) >= D + j, i.e. when leaving it
//   to the next tick would make it late. Launches are in order, so one needed early for its long startup
//   brings the ones before it along. Desired: D + the largest such j.
// - in, when nothing is launched and none of its own launches is still starting (it never aborts one to
//   launch again with a shorter sample): down to the fewest C >= min_instances with
//   need(T, T + 2I + S_k) <= C + k for every k >= 0: the (C + k + 1)-th instance, launched again as the
//   (k + 1)-th new one, is not needed before it could be ready if launched at the tick after next. So the
//   next tick never launches again what this one let go.
// Needs before the first tick plus a startup are the initial fleet's (the first decision is at T = I).
// Startups assume room at once (a full pool's wait is not foreseen) and count until ready, not through
// warm-up.
#include <map>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale {

struct OracleConfig {
  std::vector<std::string> services;
  double interval_s = 60;
  double rps_per_instance = 0;      // what one instance serves at the target utilization (0: derived)
  double target_utilization = 0.6;  // in (0, 1]: of the derived capacity, when rps_per_instance is not given
  double headroom = 0;              // a fraction of the rate added to the need
};

class OracleController : public Controller {
 public:
  explicit OracleController(OracleConfig cfg) : cfg_(std::move(cfg)) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }
  bool wants_foresight() const override { return true; }
  // Also resolves each service's rps_per_instance; throws InputError for a service it cannot size.
  void set_foresight(Foresight& foresight) override;

 private:
  OracleConfig cfg_;
  Foresight* foresight_ = nullptr;
  std::map<std::string, double> rps_per_instance_;  // by service: given, or derived from the foresight
  // By service: when each of its own launches still starting will be ready.
  std::map<std::string, std::vector<double>> starting_;
};

}  // namespace autoscale
