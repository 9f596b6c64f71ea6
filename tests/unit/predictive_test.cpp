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
  CHECK_THROWS_WITH(make({{"rps_per_instance", -1.0}}), Catch::Contains("rps_per_instance"));
  CHECK_THROWS_WITH(make({{"target_utilization", 0.0}}), Catch::Contains("target_utilization"));
  CHECK_THROWS_WITH(make({}, {{"kind", std::string("nope")}}), Catch::Contains("kind"));
  CHECK_THROWS_WITH(make({{"quantile", 1.0}}), Catch::Contains("quantile"));
}

TEST_CASE("predictive: without rps_per_instance the capacity is estimated from throughput and CPU",
          "[predictive]") {
  std::map<std::string, MapParams::Value> v{
      {"buffer_fraction", 0.0}, {"target_utilization", 0.5}, {"capacity_alpha", 0.5}, {"interval_s", 60.0}};
  v["forecaster"] =
      std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{{"kind", std::string("naive")}});
  MapParams p(v);
  auto c = make_controller("predictive", p, ControllerContext{{"web"}});
  // 4 ready instances complete 80 rps at 80 % CPU: 20 rps each at 0.8, so 12.5 rps each at the 0.5 target.
  auto o = obs(60, 80, 4, 0.8);
  o.services[0].completed_rps = 80;
  only(c->decide(o));  // the first observation: the floor holds
  o = obs(120, 80, 4, 0.8);
  o.services[0].completed_rps = 80;
  auto d = only(c->decide(o));
  CHECK(d.diagnostics.at("rps_per_instance") == Approx(12.5));
  CHECK(d.desired == 7);  // ceil(80 / 12.5) = ceil(6.4)
  // A new sample of 10 rps per instance at the target (4 x 10 = 40 rps at 0.5 x ... ): 40 rps at 50 % CPU ->
  // 10 rps each at 0.5; EWMA with weight 0.5: 12.5 + 0.5 (10 - 12.5) = 11.25.
  o = obs(180, 40, 4, 0.5);
  o.services[0].completed_rps = 40;
  d = only(c->decide(o));
  CHECK(d.diagnostics.at("rps_per_instance") == Approx(11.25));
  // Too little CPU to estimate: the estimate stays.
  o = obs(240, 40, 4, 0.01);
  o.services[0].completed_rps = 1;
  d = only(c->decide(o));
  CHECK(d.diagnostics.at("rps_per_instance") == Approx(11.25));
}

TEST_CASE("predictive: with no capacity estimate yet the floor decides", "[predictive]") {
  std::map<std::string, MapParams::Value> v{{"interval_s", 60.0}};
  MapParams p(v);
  auto c = make_controller("predictive", p, ControllerContext{{"web"}});
  for (int k = 1; k <= 3; ++k) {
    auto o = obs(60.0 * k, 100, 4, 0.0);  // idle: no estimate
    auto d = only(c->decide(o));
    CHECK(d.desired == 4);
    CHECK(d.diagnostic_strings.count("warmup") == 1);
  }
}

TEST_CASE("predictive: buffer_spread adds multiples of the forecast's 80 % interval width", "[predictive]") {
  auto c = make({{"buffer_fraction", 0.0}, {"buffer_spread", 1.0}, {"lead_s", 60.0}, {"quantile", 0.5}});
  int desired = 2;
  for (int k = 1; k <= 3; ++k) desired = only(c->decide(obs(60.0 * k, 10.0 * k, desired))).desired;
  auto d = only(c->decide(obs(240, 40, desired)));
  // naive, sigma 10, one step: p50 = 40, p90 - p10 = 2 z(0.9) 10 = 25.63; (40 + 25.63) / 10 -> 7 instances.
  double width = 2 * forecast::normal_quantile(0.9) * 10;
  CHECK(d.diagnostics.at("interval_80_width") == Approx(width));
  CHECK(d.desired == static_cast<int>(std::ceil((40 + width) / 10)));
}

TEST_CASE("predictive: an inline LibTorch model trains once its warm-up (four windows) is seen",
          "[predictive]") {
  auto c = make({{"lead_s", 120.0}}, {{"kind", std::string("gru")},
                                      {"input_steps", 4L},
                                      {"max_horizon_steps", 2L},
                                      {"hidden", 4L},
                                      {"epochs", 2L}});
  // warm-up: 4 x (4 + 2) = 24 observations; the floor decides until then
  int desired = 4;
  for (int k = 1; k <= 24; ++k) {
    double rps = 100 + 30 * std::sin(k * 2 * M_PI / 12);
    auto d = only(c->decide(obs(60.0 * k, rps, desired)));
    CHECK((d.diagnostic_strings.count("warmup") == 1) == (k < 24));
    if (k == 24) {
      CHECK(d.rule.rfind("forecast", 0) == 0);
      CHECK(d.diagnostics.at("forecast") > 0);
    }
  }
  // a lead past the model's two output heads is refused when the controller is built
  CHECK_THROWS_WITH(make({{"lead_s", 180.0}}, {{"kind", std::string("gru")}, {"max_horizon_steps", 2L}}),
                    Catch::Contains("lead_s") && Catch::Contains("2 intervals"));
}
