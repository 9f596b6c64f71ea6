// The mpc controller's planner on hand-worked demand (expectations computed by hand, or by brute force over
// every plan with an objective written out again here), and the controller on a constant rate.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/mpc/mpc_controller.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {
// 10 rps per instance, one-minute steps, 1 per instance-hour (1/60 per instance-step).
MpcProblem problem(std::vector<double> flat_demand, int delay, int current, double sla, double change) {
  MpcProblem p;
  for (double v : flat_demand) p.demand.push_back({v});
  p.delay_steps = delay;
  p.current = current;
  p.min_instances = 0;
  p.max_instances = 10;
  p.rps_per_instance = 10;
  p.interval_s = 60;
  p.cost_per_instance_hour = 1;
  p.sla_penalty = sla;
  p.change_penalty = change;
  return p;
}

// The objective, written out independently of mpc_evaluate: u[j] serves step L + j; steps before L see
// min(current, u[0]).
double objective(const MpcProblem& p, const std::vector<int>& u) {
  double total = 0;
  int prev = p.current;
  for (int x : u) total += p.change_penalty * std::abs(x - prev), prev = x;
  const int H = static_cast<int>(p.demand.size());
  for (int k = 1; k <= H; ++k) {
    int n = k < p.delay_steps ? std::min(p.current, u[0]) : u[static_cast<std::size_t>(k - p.delay_steps)];
    double e = 0;
    for (double v : p.demand[static_cast<std::size_t>(k - 1)]) e += std::max(0.0, v - p.rps_per_instance * n);
    e /= static_cast<double>(p.demand[static_cast<std::size_t>(k - 1)].size());
    total += p.interval_s * (n * p.cost_per_instance_hour / 3600 + p.sla_penalty * e);
  }
  return total;
}
}  // namespace

TEST_CASE("mpc: a flat demand is covered by the smallest count when the SLA penalty outweighs cost",
          "[mpc]") {
  // 25 rps at 10 per instance: 3 instances; 2 would leave 5 rps unserved (300 requests a step at 1 each
  // against 1/60 for the instance).
  MpcPlan plan = mpc_plan(problem({25, 25, 25, 25}, 1, 1, 1.0, 0));
  CHECK(plan.order == 3);
  CHECK(plan.counts == std::vector<int>{3, 3, 3, 3});
  CHECK(plan.expected_shortfall == Approx(0));
  CHECK(plan.instance_cost == Approx(4 * 3 / 60.0));
  // When cost dominates (a request lost costs 1e-6; an instance-step 1/60): min_instances.
  MpcProblem cheap = problem({25, 25, 25, 25}, 1, 3, 1e-6, 0);
  cheap.min_instances = 1;
  plan = mpc_plan(cheap);
  CHECK(plan.order == 1);
  CHECK(plan.counts == std::vector<int>{1, 1, 1, 1});
  CHECK(plan.expected_shortfall == Approx(4 * 15));
}

TEST_CASE("mpc: the expected shortfall is over the equally likely demand quantiles", "[mpc]") {
  MpcProblem p = problem({0}, 1, 0, 0, 0);
  p.demand = {{0, 10, 20}};
  // E[max(0, D - 10 n)]: n = 0: 10; n = 1: 10/3; n = 2: 0. At 1 per lost request all of it is worth covering.
  p.sla_penalty = 1;
  CHECK(mpc_plan(p).order == 2);
  // At 1e-4 per request: n = 1 saves 6.67 rps x 60 s x 1e-4 = 0.04 > 1/60; n = 2 saves 3.33 x 60 x 1e-4 =
  // 0.02 > 1/60 too. At 5e-5: the first saves 0.02 > 0.0167, the second 0.01 < 0.0167: one instance.
  p.sla_penalty = 5e-5;
  MpcPlan plan = mpc_plan(p);
  CHECK(plan.order == 1);
  CHECK(plan.expected_shortfall == Approx(10.0 / 3));
}

TEST_CASE("mpc: a step up at step k with a delay of d steps launches at k - d, not earlier", "[mpc]") {
  // 5 rps (1 instance) for steps 1..5, 25 rps (3 instances) from step 6; delay 2: order 3 at step 4.
  MpcProblem p = problem({5, 5, 5, 5, 5, 25, 25, 25}, 2, 1, 1.0, 0);
  MpcPlan plan = mpc_plan(p);
  CHECK(plan.order == 1);
  CHECK(plan.counts == std::vector<int>{1, 1, 1, 1, 1, 3, 3, 3});
  // Four steps later the step is at k = 2 = d: order now.
  p.demand = {{5}, {25}, {25}, {25}};
  plan = mpc_plan(p);
  CHECK(plan.order == 3);
  CHECK(plan.counts == std::vector<int>{1, 3, 3, 3});
  // A scale-out does not reach the steps before the delay; a scale-in does (draining is immediate): with the
  // demand gone after step 1, dropping now would cost step 1, so the plan keeps the count until it is safe.
  p = problem({25, 0, 0, 0}, 2, 3, 1.0, 0);
  plan = mpc_plan(p);
  CHECK(plan.order == 3);
  CHECK(plan.counts == std::vector<int>{3, 3, 0, 0});
}

TEST_CASE("mpc: a large change penalty suppresses a one-step blip", "[mpc]") {
  // 5 rps with a blip of 25 at step 3. Without a change penalty: 3 instances for that step only.
  MpcProblem p = problem({5, 5, 25, 5, 5, 5}, 1, 1, 0.01, 0);
  CHECK(mpc_plan(p).counts == std::vector<int>{1, 1, 3, 1, 1, 1});
  // At 10 per instance changed: following it costs 2 x 2 x 10 = 40; not following loses 15 rps x 60 s x 0.01
  // = 9 (one instance more: 20 + 3): flat.
  p.change_penalty = 10;
  MpcPlan plan = mpc_plan(p);
  CHECK(plan.counts == std::vector<int>{1, 1, 1, 1, 1, 1});
  CHECK(plan.change_cost == Approx(0));
  CHECK(plan.sla_cost == Approx(9));
}

TEST_CASE("mpc: dynamic programming finds the brute-force optimum (H = 4, counts 0..5)", "[mpc]") {
  const std::vector<std::vector<double>> demand{{3, 12, 30}, {8, 20, 41}, {0, 5, 9}, {22, 35, 50}};
  for (int delay = 1; delay <= 3; ++delay)
    for (double change : {0.0, 0.05, 0.5, 3.0})
      for (double sla : {1e-4, 1e-3, 0.01})
        for (int current : {0, 2, 5}) {
          MpcProblem p = problem({}, delay, current, sla, change);
          p.demand = demand;
          p.max_instances = 5;
          const int S = 4 - delay + 1;
          double best = std::numeric_limits<double>::infinity();
          std::vector<int> u(static_cast<std::size_t>(S), 0);
          for (int code = 0; code < static_cast<int>(std::pow(6, S)); ++code) {
            int c = code;
            for (int j = 0; j < S; ++j) u[static_cast<std::size_t>(j)] = c % 6, c /= 6;
            best = std::min(best, objective(p, u));
          }
          MpcPlan plan = mpc_plan(p);
          INFO("delay " << delay << " change " << change << " sla " << sla << " current " << current);
          CHECK(plan.objective == Approx(best).epsilon(1e-12).margin(1e-12));
          std::vector<int> orders(plan.counts.begin() + (delay - 1), plan.counts.end());
          CHECK(objective(p, orders) == Approx(plan.objective).epsilon(1e-12).margin(1e-12));
          CHECK(plan.order == orders[0]);
        }
}

TEST_CASE("mpc: the controller plans on its forecaster's quantiles", "[mpc]") {
  std::map<std::string, MapParams::Value> v{
      {"rps_per_instance", 10.0}, {"interval_s", 60.0}, {"startup_s", 150.0}, {"horizon_steps", 5L}};
  v["forecaster"] =
      std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{{"kind", std::string("naive")}});
  MapParams params(v);
  auto c = make_controller("mpc", params, ControllerContext{{"web"}});
  auto obs = [](double t, double rps, int desired) {
    Observation o;
    o.time_s = t;
    ServiceObservation s;
    s.name = "web";
    s.min_instances = 2;
    s.max_instances = 40;
    s.desired = desired;
    s.in_service = desired;
    s.metrics_valid = true;
    s.arrival_rps = rps;
    s.cpu_utilization = 0.5;
    o.services.push_back(s);
    return o;
  };
  auto d0 = c->decide(obs(60, 100, 4));
  REQUIRE(d0.services.size() == 1);
  CHECK(d0.services[0].desired == 4);
  CHECK(d0.services[0].rule == "warmup");
  // A constant 100 rps (naive: every quantile 100): 10 instances, ordered now for step ceil(150 / 60) = 3.
  auto d = c->decide(obs(120, 100, 4)).services.at(0);
  CHECK(d.desired == 10);
  CHECK(d.rule == "mpc");
  CHECK(d.diagnostics.at("delay_steps") == 3);
  CHECK(d.diagnostics.at("plan_step_1") == 4);
  CHECK(d.diagnostics.at("plan_step_3") == 10);
  CHECK(d.diagnostics.at("plan_step_5") == 10);
  CHECK(d.diagnostics.at("expected_shortfall_rps") == Approx(2 * 60));

  std::map<std::string, MapParams::Value> bad{{"rps_per_instance", 10.0}, {"startup_s", 700.0}};
  MapParams bp(bad);
  CHECK_THROWS_WITH(make_controller("mpc", bp, ControllerContext{{"web"}}), Catch::Contains("horizon_steps"));
  MapParams negative({{"rps_per_instance", -1.0}});
  CHECK_THROWS_WITH(make_controller("mpc", negative, ControllerContext{{"web"}}),
                    Catch::Contains("rps_per_instance"));
}

TEST_CASE("mpc: without rps_per_instance it plans with the capacity estimated from throughput and CPU",
          "[mpc]") {
  // 4 ready instances complete 80 rps at 80 % CPU: 20 rps each at 0.8, 12.5 at the 0.5 target.
  std::map<std::string, MapParams::Value> v{{"interval_s", 60.0},
                                            {"startup_s", 60.0},
                                            {"horizon_steps", 2L},
                                            {"target_utilization", 0.5},
                                            {"sla_penalty", 1.0}};
  MapParams p(v);
  auto c = make_controller("mpc", p, ControllerContext{{"web"}});
  auto obs = [](double t, double util, double completed) {
    Observation o;
    o.time_s = t;
    ServiceObservation s;
    s.name = "web";
    s.min_instances = 1;
    s.max_instances = 40;
    s.desired = 4;
    s.in_service = 4;
    s.metrics_valid = true;
    s.arrival_rps = 80;
    s.completed_rps = completed;
    s.cpu_utilization = util;
    o.services.push_back(s);
    return o;
  };
  // idle: no estimate, the count is held even after the warm-up
  for (int k = 1; k <= 2; ++k) {
    auto d = c->decide(obs(60.0 * k, 0.01, 1)).services.at(0);
    CHECK(d.desired == 4);
    CHECK(d.diagnostic_strings.count("warmup") == 1);
  }
  auto d = c->decide(obs(180, 0.8, 80)).services.at(0);
  CHECK(d.diagnostics.at("rps_per_instance") == Approx(12.5));
  // naive forecast 80 rps; at 12.5 rps per instance 7 instances cover it (6.4); the SLA penalty dominates
  CHECK(d.desired == 7);
}
