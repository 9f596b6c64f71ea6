#pragma once
// `mpc`: model-predictive (receding-horizon) scaling. Every interval it feeds the observed arrival rate to a
// forecaster ([controller.forecaster], as `predictive` does), predicts horizons 1..H (H = `horizon_steps`)
// at the `demand_quantiles`, and takes those values, equally weighted, as the demand's distribution at each
// step. It then picks instance counts for the next steps minimizing, exactly (dynamic programming over the
// counts in [min_instances, max_instances]),
//
//   sum over steps k of  interval_s x ( n_k x cost_per_instance_hour / 3600
//                                       + sla_penalty x E[max(0, D_k - rps_per_instance x n_k)] )
//   + change_penalty x sum |n_k - n_{k-1}|
//
// and orders the first step's count (receding horizon: it plans again at the next interval).
//
// The startup delay: L = max(1, ceil(startup / interval_s)) steps, where startup is `startup_s` if given,
// else the `startup_quantile` (default 0.95) of the service's launch -> ready time drawn from the scenario's
// startup distribution (ControllerContext::startup_samples_s; 180 s when there is none, as in `autoscale
// decide`). The DP carries one delay per service (capacity ordered at step j is ready from step j + L on), so
// the distribution enters as that one quantile: planning with the p95 counts a launch only once 95 % of
// launches would be ready, trading some early instance-seconds for capacity that is there when the demand
// arrives. The count ordered now is ready from step L on; steps 1..L-1 are served by what is already there.
// So the plan's variables are u_0 .. u_{H-L}, the counts ordered at steps 0 .. H-L, u_j serving step L + j (a
// DP of H-L+1 stages, state = the count ordered at the previous stage, u_{-1} = the current desired count),
// plus, for u_0 only, the steps before L: a scale-out does not reach them (they keep the current count), a
// scale-in does (draining is immediate), so they are served by min(current, u_0). Later stages are planned as
// if their scale-in, too, took effect L steps on (they are replanned before they are ordered). The step-k
// demand of a launch at step k - L is what makes it launch there and not earlier.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/forecast_feed/forecast_feed.hpp"
#include "forecasters/forecaster.hpp"

namespace autoscale {

// One planning problem: what mpc_plan solves, on its own so that it can be tested without a forecaster.
struct MpcProblem {
  // demand[k - 1]: the demand's values at step k = 1..H (rps), each equally likely.
  std::vector<std::vector<double>> demand;
  int delay_steps = 1;  // L >= 1, <= H
  int current = 0;      // the count ordered so far (u_{-1})
  int min_instances = 0;
  int max_instances = 0;
  double rps_per_instance = 1;
  double interval_s = 60;
  double cost_per_instance_hour = 1;
  double sla_penalty = 1;  // per request not served
  double change_penalty = 0;
};

struct MpcPlan {
  // counts[k - 1]: the instances serving step k = 1..H under the plan (steps before L: min(current, u_0)).
  std::vector<int> counts;
  int order = 0;  // u_0: what to order now
  double objective = 0;
  double instance_cost = 0;       // the cost term over steps 1..H
  double sla_cost = 0;            // the SLA term
  double change_cost = 0;         // the change term
  double expected_shortfall = 0;  // sum over steps of E[max(0, D_k - capacity)] (rps)
};

// The exact minimum of the objective above; ties go to the smaller count.
MpcPlan mpc_plan(const MpcProblem& p);
// The objective of given orders u_0 .. u_{H-L} (the same model; for tests and diagnostics).
MpcPlan mpc_evaluate(const MpcProblem& p, const std::vector<int>& orders);

struct MpcConfig {
  std::vector<std::string> services;
  double interval_s = 60;
  int horizon_steps = 10;
  double startup_s = 180;  // `startup_s`, or what a service without a startup sample gets
  // Without `startup_s`: each service's `startup_quantile` of its startup sample (ControllerContext).
  std::map<std::string, double> startup_s_by_service;
  double rps_per_instance = 0;
  double cost_per_instance_hour = 1;
  double sla_penalty = 0.01;
  double change_penalty = 0;
  std::vector<double> demand_quantiles{0.1, 0.5, 0.9};
  FeedSettings feed;  // the forecaster's feed: interval, refits, warm-up, capacity estimate
  double service_startup_s(const std::string& service) const;
  int delay_steps(const std::string& service) const;
};

class MpcController : public Controller {
 public:
  MpcController(MpcConfig cfg, std::map<std::string, ForecastFeed> feeds);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }

 private:
  struct State {
    ForecastFeed feed;
  };
  MpcConfig cfg_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale
