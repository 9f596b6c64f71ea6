// The threshold controller follows AWS simple scaling step by step (hand-worked sequences), without an
// engine.
#include <catch2/catch.hpp>

#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "controllers/threshold_controller.hpp"

using namespace autoscale;

namespace {
Observation obs(double t, double util, int desired, int starting = 0, int draining = 0) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 2;
  s.max_instances = 10;
  s.desired = desired;
  s.in_service = desired - starting;
  s.starting = starting;
  s.draining = draining;
  s.metrics_valid = true;
  s.cpu_utilization = util;
  o.services.push_back(s);
  return o;
}
ThresholdConfig config() {
  ThresholdConfig c;
  c.services = {"web"};
  c.scale_out_above = 0.7;
  c.scale_in_below = 0.3;
  c.scale_out_adjustment = 2;
  c.scale_in_adjustment = 1;
  c.evaluation_periods = 2;
  c.cooldown_s = 300;
  return c;
}
}  // namespace

TEST_CASE("threshold: alarm after evaluation periods, then cooldown and in-progress activity hold it",
          "[controller]") {
  ThresholdController c(config());
  auto d = c.decide(obs(60, 0.9, 4)).services.at(0);
  CHECK(d.desired == 4);  // one breaching datapoint of two
  CHECK(d.rule == "within_bounds");
  d = c.decide(obs(120, 0.9, 4)).services.at(0);
  CHECK(d.desired == 6);
  CHECK(d.rule == "scale_out_above");
  CHECK(d.metric == "cpu_utilization");
  CHECK(d.metric_value == 0.9);
  d = c.decide(obs(180, 0.95, 6, 2)).services.at(0);
  CHECK(d.desired == 6);
  CHECK(d.rule == "cooldown");
  d = c.decide(obs(480, 0.95, 6, 1)).services.at(0);  // cooldown over, but an instance is still starting
  CHECK(d.rule == "activity_in_progress");
  d = c.decide(obs(540, 0.95, 6, 0)).services.at(0);
  CHECK(d.desired == 8);
  d = c.decide(obs(900, 0.95, 8)).services.at(0);
  CHECK(d.desired == 10);
  d = c.decide(obs(1200, 0.95, 10)).services.at(0);
  CHECK(d.desired == 10);
  CHECK(d.rule == "max_instances");
}

TEST_CASE("threshold: scale-in below the lower bound, clamped at the minimum", "[controller]") {
  ThresholdController c(config());
  c.decide(obs(60, 0.1, 3));
  auto d = c.decide(obs(120, 0.1, 3)).services.at(0);
  CHECK(d.desired == 2);
  CHECK(d.rule == "scale_in_below");
  c.decide(obs(480, 0.1, 2));
  d = c.decide(obs(540, 0.1, 2)).services.at(0);
  CHECK(d.desired == 2);
  CHECK(d.rule == "min_instances");
  // A breach that stops resets the count: in-between values never alarm.
  ThresholdController c2(config());
  c2.decide(obs(60, 0.9, 4));
  c2.decide(obs(120, 0.5, 4));
  CHECK(c2.decide(obs(180, 0.9, 4)).services.at(0).desired == 4);
}

TEST_CASE("threshold: percent adjustments round toward zero with a minimum magnitude", "[controller]") {
  ThresholdConfig cfg = config();
  cfg.adjustment = ThresholdConfig::Adjustment::percent_change_in_capacity;
  cfg.scale_out_adjustment = 50;
  cfg.scale_in_adjustment = 10;
  cfg.evaluation_periods = 1;
  cfg.min_adjustment_magnitude = 1;
  ThresholdController c(cfg);
  CHECK(c.decide(obs(60, 0.9, 5)).services.at(0).desired == 7);  // 50 % of 5 = 2.5 -> 2
  ThresholdController d(cfg);
  CHECK(d.decide(obs(60, 0.1, 5)).services.at(0).desired == 4);  // 10 % of 5 = 0.5 -> 0 -> at least 1
}

TEST_CASE("threshold: no decision without metrics", "[controller]") {
  ThresholdController c(config());
  Observation o = obs(60, 0.9, 4);
  o.services[0].metrics_valid = false;
  auto d = c.decide(o).services.at(0);
  CHECK(d.desired == 4);
  CHECK(d.rule == "no_metrics");
}

TEST_CASE("registry: kinds map to factories, bad settings name the key", "[controller]") {
  ControllerContext ctx{{"web", "db"}};
  MapParams ok(
      {{"scale_out_above", 0.8}, {"scale_in_below", 0.2}, {"services", std::vector<std::string>{"web"}}});
  auto c = make_controller("threshold", ok, ctx);
  CHECK(c->interval_s() == 60);
  MapParams stat({{"instances", 3L}});
  auto s = make_controller("static", stat, ctx);
  Decision d = s->decide(Observation{});
  REQUIRE(d.services.size() == 2);
  CHECK(d.services[1].desired == 3);
  MapParams none;
  CHECK_THROWS_WITH(make_controller("threshhold", none, ctx), Catch::Contains("did you mean 'threshold'"));
  MapParams inverted({{"scale_out_above", 0.2}, {"scale_in_below", 0.8}});
  CHECK_THROWS_WITH(make_controller("threshold", inverted, ctx), Catch::Contains("scale_in_below"));
  MapParams unknown_service({{"instances", 1L}, {"services", std::vector<std::string>{"cache"}}});
  CHECK_THROWS_WITH(make_controller("static", unknown_service, ctx), Catch::Contains("cache"));
  MapParams bad_metric({{"scale_out_above", 0.8}, {"scale_in_below", 0.2}, {"metric", std::string("cpu")}});
  CHECK_THROWS_WITH(make_controller("threshold", bad_metric, ctx), Catch::Contains("cpu_utilization"));
}

namespace {
MapParams::Table static_section(const std::string& service, long instances, double interval_s) {
  return std::make_shared<MapParams>(
      std::map<std::string, MapParams::Value>{{"kind", std::string("static")},
                                              {"services", std::vector<std::string>{service}},
                                              {"instances", instances},
                                              {"interval_s", interval_s}});
}
}  // namespace

TEST_CASE("composite: each controller at its own cadence, on its own services", "[controller]") {
  // Every 6 s for a, every 4 s for b: the composite ticks every gcd(6, 4) = 2 s and asks a at 6, 12 and b at
  // 4, 8, 12 (k x its interval), nobody at 2 and 10.
  MapParams p(
      {{"controllers", std::vector<MapParams::Table>{static_section("a", 3, 6), static_section("b", 5, 4)}}});
  auto c = make_controller("composite", p, ControllerContext{{"a", "b"}});
  CHECK(c->interval_s() == 2);
  std::map<double, std::string> asked;
  for (double t = 2; t <= 12; t += 2) {
    Observation o;
    o.time_s = t;
    std::string who;
    for (const auto& d : c->decide(o).services) who += d.service + std::to_string(d.desired);
    asked[t] = who;
  }
  std::map<double, std::string> expected = {{2, ""}, {4, "b5"}, {6, "a3"}, {8, "b5"}, {10, ""}, {12, "a3b5"}};
  CHECK(asked == expected);
}

TEST_CASE("composite: a service has one controller, named explicitly; no composite inside", "[controller]") {
  MapParams twice(
      {{"controllers", std::vector<MapParams::Table>{static_section("a", 3, 6), static_section("a", 5, 4)}}});
  CHECK_THROWS_AS(make_controller("composite", twice, ControllerContext{{"a"}}), InputError);
  auto unnamed = std::make_shared<MapParams>(
      std::map<std::string, MapParams::Value>{{"kind", std::string("static")}, {"instances", 2L}});
  MapParams implicit({{"controllers", std::vector<MapParams::Table>{unnamed}}});
  CHECK_THROWS_AS(make_controller("composite", implicit, ControllerContext{{"a"}}), InputError);
  auto nested = std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{
      {"kind", std::string("composite")}, {"services", std::vector<std::string>{"a"}}});
  MapParams inside({{"controllers", std::vector<MapParams::Table>{nested}}});
  CHECK_THROWS_AS(make_controller("composite", inside, ControllerContext{{"a"}}), InputError);
  MapParams none;
  CHECK_THROWS_AS(make_controller("composite", none, ControllerContext{{"a"}}), InputError);
}
