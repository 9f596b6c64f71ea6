// The predictive controller on hand-worked observations: the forecast's quantile at the lead, turned into
// instances with the buffer; hysteresis on the way down; the reactive floor; the fallback before the model
// has history.
#include <catch2/catch.hpp>
#include <cmath>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "forecasters/forecaster.hpp"

using namespace autoscale;

namespace {
Observation obs(double t, double rps, int desired, double util = 0.5, int starting = 0) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 2;
  s.max_instances = 40;
  s.desired = desired;
  s.in_service = desired - starting;
  s.starting = starting;
  s.metrics_valid = true;
  s.arrival_rps = rps;
  s.cpu_utilization = util;
  o.services.push_back(s);
  return o;
}

std::unique_ptr<Controller> make(std::map<std::string, MapParams::Value> v,
                                 std::map<std::string, MapParams::Value> forecaster = {
                                     {"kind", std::string("naive")}}) {
  v["forecaster"] = std::make_shared<MapParams>(forecaster);
  if (!v.count("rps_per_instance")) v["rps_per_instance"] = 10.0;
  if (!v.count("interval_s")) v["interval_s"] = 60.0;
  MapParams p(v);
  return make_controller("predictive", p, ControllerContext{{"web"}});
}

const ServiceDecision& only(const Decision& d) {
  REQUIRE(d.services.size() == 1);
  return d.services[0];
}
}  // namespace

TEST_CASE("predictive: a constant rate needs ceil(rate x (1 + buffer) / rps_per_instance)", "[predictive]") {
  auto c = make({{"buffer_fraction", 0.1}});
  // First interval: one observation, below the two naive needs: the floor holds the count.
  auto d0 = only(c->decide(obs(60, 100, 4)));
  CHECK(d0.desired == 4);
  CHECK(d0.rule == "floor");
  CHECK(d0.metric == "arrival_rps_forecast");
  auto d = only(c->decide(obs(120, 100, 4)));
  // sigma 0 (no change yet): every quantile is 100; 100 x 1.1 / 10 = 11.
  CHECK(d.desired == 11);
  CHECK(d.rule == "forecast");
  CHECK(d.metric_value == Approx(100));
  CHECK(d.diagnostics.at("forecast") == Approx(100));
  CHECK(d.diagnostics.at("quantile") == Approx(0.9));
  CHECK(d.diagnostics.at("lead_s") == Approx(300));  // default: 300 s, five intervals
  CHECK(d.diagnostics.at("buffer") == 1);            // 10 bare, 11 with the buffer
  CHECK(d.diagnostics.at("capacity_instances") == 11);
  CHECK(d.diagnostics.at("floor_instances") == 2);  // no breach: the floor is min_instances
}

TEST_CASE("predictive: a ramp with naive takes the quantile of a random walk at the lead", "[predictive]") {
  // lead 140 s at 60 s intervals rounds to 2 steps (120 s); no buffer, but 2 spare instances.
  auto c = make({{"lead_s", 140.0}, {"buffer_fraction", 0.0}, {"buffer_instances", 2L}});
  int desired = 2;
  for (int k = 1; k <= 3; ++k) desired = only(c->decide(obs(60.0 * k, 10.0 * k, desired))).desired;
  auto d = only(c->decide(obs(240, 40, desired)));
  // naive: the last value, 40; one-step errors 10, 10, 10: sigma 10; p90 two steps ahead: 40 + z sigma
  // sqrt(2).
  double q = 40 + forecast::normal_quantile(0.9) * 10 * std::sqrt(2.0);  // 58.12
  CHECK(d.diagnostics.at("forecast") == Approx(q));
  CHECK(d.diagnostics.at("lead_s") == Approx(120));
  CHECK(d.desired == 6 + 2);  // ceil(5.81) + 2
  CHECK(d.diagnostics.at("buffer") == 2);
  CHECK(d.rule == "forecast");
}

TEST_CASE("predictive: scales in after scale_in_intervals, by at most max_scale_in_step", "[predictive]") {
  auto c = make(
      {{"quantile", 0.5}, {"buffer_fraction", 0.1}, {"scale_in_intervals", 3L}, {"max_scale_in_step", 2L}});
  int desired = 4;
  desired = only(c->decide(obs(60, 100, desired))).desired;
  desired = only(c->decide(obs(120, 100, desired))).desired;
  REQUIRE(desired == 11);
  // The rate halves: the median is 50, 50 x 1.1 / 10 -> 6 instances, but only after three intervals below,
  // then 2 at a time.
  std::vector<int> want{11, 11, 9, 7, 6, 6};
  std::vector<std::string> rules{"forecast+hysteresis",
                                 "forecast+hysteresis",
                                 "forecast+hysteresis",
                                 "forecast+hysteresis",
                                 "forecast",
                                 "forecast"};
  for (std::size_t k = 0; k < want.size(); ++k) {
    auto d = only(c->decide(obs(180.0 + 60.0 * static_cast<double>(k), 50, desired)));
    INFO("interval " << k);
    CHECK(d.diagnostics.at("capacity_instances") == 6);
    CHECK(d.desired == want[k]);
    CHECK(d.rule == rules[k]);
    desired = d.desired;
  }
  // A rise resets the count: going up is immediate.
  auto up = only(c->decide(obs(600, 200, desired)));
  CHECK(up.desired == 22);
  CHECK(up.rule == "forecast");
}

TEST_CASE("predictive: the floor wins when CPU breaches, and holds while instances start", "[predictive]") {
  auto c = make({{"quantile", 0.5}, {"floor_scale_out_above", 0.8}, {"floor_step", 3L}});
  int desired = only(c->decide(obs(60, 100, 4))).desired;
  desired = only(c->decide(obs(120, 100, desired))).desired;
  REQUIRE(desired == 11);
  // The forecast says 11, but the fleet runs hot (a missed forecast: say each request got heavier).
  auto d = only(c->decide(obs(180, 100, 11, 0.95)));
  CHECK(d.desired == 14);
  CHECK(d.rule == "floor");
  CHECK(d.diagnostics.at("floor_instances") == 14);
  CHECK(d.diagnostics.at("capacity_instances") == 11);
  // Still hot while the three start: the floor holds 14 (no further step, no scale-in to the forecast's 11).
  auto held = only(c->decide(obs(240, 100, 14, 0.9, 3)));
  CHECK(held.desired == 14);
  CHECK(held.rule == "floor");
}

TEST_CASE("predictive: before the model has history the floor alone decides", "[predictive]") {
  // seasonal_naive with a period of 4 needs 5 observations by default.
  auto c = make({}, {{"kind", std::string("seasonal_naive")}, {"period_steps", 4L}});
  int desired = 4;
  for (int k = 1; k <= 4; ++k) {
    auto d = only(c->decide(obs(60.0 * k, 5, desired, k == 2 ? 0.9 : 0.1)));
    CHECK(d.rule == "floor");
    CHECK(d.diagnostic_strings.count("warmup") == 1);
    CHECK(d.desired == (k == 1 ? 4 : 5));  // never scales in; one step on the breach
    desired = d.desired;
  }
  auto d = only(c->decide(obs(300, 5, desired, 0.1)));
  // 5 rps: 1 instance; min_instances (2, the floor without a breach) wins; below 5: held
  CHECK(d.rule == "floor+hysteresis");
  CHECK(d.desired == 5);
}

TEST_CASE("predictive: refits every refit_intervals and keeps deciding", "[predictive]") {
  auto c = make({{"refit_intervals", 10L}, {"lead_s", 60.0}, {"quantile", 0.5}, {"buffer_fraction", 0.0}},
                {{"kind", std::string("ar")}, {"order", 1L}});
  int desired = 2;
  // A series alternating 100, 200: an AR(1) with phi = -1 around 150 predicts the next value exactly.
  for (int k = 1; k <= 40; ++k) {
    auto d = only(c->decide(obs(60.0 * k, k % 2 ? 100 : 200, desired)));
    desired = d.desired;
    if (k >= 30) {
      INFO("interval " << k);
      CHECK(d.diagnostics.at("forecast") == Approx(k % 2 ? 200 : 100).margin(1e-6));
    }
  }
}

TEST_CASE("predictive: bad settings fail naming the key", "[predictive]") {
  MapParams none({{"interval_s", 60.0}});
  CHECK_THROWS_WITH(make_controller("predictive", none, ControllerContext{{"web"}}),
                    Catch::Contains("rps_per_instance"));
  CHECK_THROWS_WITH(make({}, {{"kind", std::string("nope")}}), Catch::Contains("kind"));
  CHECK_THROWS_WITH(make({{"quantile", 1.0}}), Catch::Contains("quantile"));
}
