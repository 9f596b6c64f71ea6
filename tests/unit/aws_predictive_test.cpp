// aws_predictive: AWS predictive scaling on hand-made hourly histories, without an engine. The forecast of an
// hour is the mean of the same hour on the earlier days; the capacity is ceil(load / TargetValue); hour H's
// capacity is the minimum from H - SchedulingBufferTime. The arithmetic is in the comments.
#include <catch2/catch.hpp>
#include <cmath>

#include "controllers/aws_predictive/aws_predictive.hpp"
#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {

using V = MapParams::Value;
using Map = std::map<std::string, V>;
MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}
V str(const char* s) {
  return std::string(s);
}
const double kPi = std::acos(-1.0);

// A PredictiveScalingConfiguration on ALBRequestCount with TargetValue 600 requests per minute per instance
// (10 rps), plus `extra` keys in it and `top` keys beside it.
std::unique_ptr<Controller> predictive(const std::vector<double>& hourly_rps, Map extra = {}, Map top = {},
                                       const char* pair = "ALBRequestCount") {
  Map spec{{"TargetValue", 600.0},
           {"PredefinedMetricPairSpecification", table({{"PredefinedMetricType", str(pair)}})}};
  extra.emplace("MetricSpecifications", std::vector<MapParams::Table>{table(spec)});
  top.emplace("PredictiveScalingConfiguration", table(extra));
  MapParams p(top);
  ControllerContext ctx{{"web"}};
  ctx.history_step_s = 3600;
  ctx.history_arrival_rps["web"] = hourly_rps;
  auto c = make_controller("aws_predictive", p, ctx);
  p.finish();
  return c;
}

// `ready` instances in service since t = 0 at `cpu_pct` percent of their 2 cores; the group wants `desired`.
Observation obs(double t, int desired, double rps, int ready = 2, double cpu_pct = 50, int max = 20) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = max;
  s.desired = desired;
  s.metrics_valid = true;
  s.arrival_rps = rps;
  for (int k = 0; k < ready; ++k) {
    InstanceObservation i;
    i.id = k;
    i.ready = true;
    i.ready_time_s = 0;
    i.has_metrics = true;
    i.cpu_request_cores = 2;
    i.cpu_usage_cores = 2 * cpu_pct / 100;
    s.instances.push_back(i);
  }
  s.in_service = ready;
  s.cpu_utilization = cpu_pct / 100;
  o.services.push_back(s);
  return o;
}

// Two days of a sinusoid with a 24-hour period: hour h of the day at 100 + 50 sin(2 pi h / 24) rps. The
// history's first hour (-48) is hour 0 of a day, so hour H >= 0 of the run is hour H mod 24.
double sinusoid(long hour_of_day) {
  return 100 + 50 * std::sin(2 * kPi * static_cast<double>(hour_of_day) / 24);
}
std::vector<double> two_days() {
  std::vector<double> v;
  for (int i = 0; i < 48; ++i) v.push_back(sinusoid(i % 24));
  return v;
}

}  // namespace

TEST_CASE("aws_predictive: the same-hour forecast averages the earlier days", "[aws_predictive]") {
  std::map<long, double> hours;
  for (long h = -48; h < 0; ++h) hours[h] = h < -24 ? 10.0 : 30.0;  // the second day three times the first
  hours[-30] = 70;                                                  // one odd hour on day one (hour 18)
  auto f = aws::same_hour_forecast(hours, -1, 48);
  REQUIRE(f.size() == 48);
  CHECK(f.at(0) == Approx(20));   // (hour -24: 30 + hour -48: 10) / 2
  CHECK(f.at(18) == Approx(50));  // (30 + 70) / 2
  CHECK(f.at(24) == Approx(20));  // hour 24: hours 0 (absent), -24, -48
  CHECK(f.at(47) == Approx(20));

  // Eight days, day d of the history at 10 (d mod 7 + 1): with a week behind it, hour H is the same hour a
  // week back (hour 0: hour -168, day 1, 20; hour 30: hour -138, day 2, 30), not the mean of the days (37.5).
  std::map<long, double> week;
  for (long i = 0; i < 192; ++i) week[i - 192] = 10.0 * static_cast<double>((i / 24) % 7 + 1);
  f = aws::same_hour_forecast(week, -1, 48);
  CHECK(f.at(0) == Approx(20));
  CHECK(f.at(30) == Approx(30));
}

TEST_CASE("aws_predictive: schedules each hour's capacity at the hour start minus the buffer",
          "[aws_predictive]") {
  auto c = predictive(two_days(), {{"Mode", str("ForecastAndScale")}, {"SchedulingBufferTime", 300L}});
  CHECK(c->interval_s() == 60);
  // Hour 0: 100 rps = 6000 per minute / 600 = 10 instances (exactly: no rounding up).
  auto d = c->decide(obs(60, 2, sinusoid(0))).services.at(0);
  CHECK(d.desired == 10);
  CHECK(d.rule == "forecast_min");
  CHECK(d.diagnostics.at("predicted_capacity") == 10);
  CHECK(d.diagnostics.at("history_hours") == 48);
  CHECK(d.metric == "ALBRequestCount");
  CHECK(d.metric_value == Approx(6000));
  // At 3240 s hour 0 still holds; at 3300 s = 3600 - 300 hour 1's capacity takes over: 100 + 50 sin(15 deg) =
  // 112.94 rps = 6776 per minute -> ceil(11.29) = 12.
  CHECK(c->decide(obs(3240, 10, sinusoid(0))).services.at(0).desired == 10);
  d = c->decide(obs(3300, 10, sinusoid(0))).services.at(0);
  CHECK(d.desired == 12);
  CHECK(d.diagnostics.at("forecast_hour") == 1);
  CHECK(d.diagnostics.at("predicted_load") == Approx(60 * sinusoid(1)));
  // Hour 6 (from 21300 s): 150 rps -> 15. Scale-out only: a group already at 18 keeps 18.
  CHECK(c->decide(obs(21240, 12, sinusoid(5))).services.at(0).desired == 15);  // hour 5: 148.3 -> ceil(14.83)
  d = c->decide(obs(21300, 18, sinusoid(6))).services.at(0);
  CHECK(d.desired == 18);
  CHECK(d.rule == "hold");
  CHECK(d.diagnostics.at("scheduled_min") == 15);
}

TEST_CASE("aws_predictive: a zero buffer switches at the hour start", "[aws_predictive]") {
  auto c = predictive(two_days(), {{"Mode", str("ForecastAndScale")}, {"SchedulingBufferTime", 0L}});
  CHECK(c->decide(obs(3540, 2, 100)).services.at(0).desired == 10);
  CHECK(c->decide(obs(3600, 2, 100)).services.at(0).desired == 12);
}

TEST_CASE("aws_predictive: refuses to forecast with 23 hours, starts at 24 from its own samples",
          "[aws_predictive]") {
  auto c = predictive(std::vector<double>(23, 60.0), {{"Mode", str("ForecastAndScale")}});
  for (double t = 60; t <= 3600; t += 60) {
    auto d = c->decide(obs(t, 2, 120)).services.at(0);
    CHECK(d.desired == 2);
    CHECK(d.rule == "insufficient_history");
    CHECK(d.diagnostics.at("history_hours") == 23);
  }
  // The tick at 3660 s closes hour 0 (mean 120 rps): 24 hours. Hour 1 (active from 3300 s) is hour -23's
  // 60 rps = 3600 per minute -> 6; hour 24 will be hour 0's 120 rps -> 12.
  auto d = c->decide(obs(3660, 2, 120)).services.at(0);
  CHECK(d.diagnostics.at("history_hours") == 24);
  CHECK(d.rule == "forecast_min");
  CHECK(d.desired == 6);
  // Hour 23 (refreshed forecasts still read hour -1's 60 rps) until 24 h - 300 s, then hour 24's 12.
  CHECK(c->decide(obs(24 * 3600 - 360, 6, 120)).services.at(0).desired == 6);
  d = c->decide(obs(24 * 3600 - 300, 6, 120)).services.at(0);
  CHECK(d.desired == 12);
  CHECK(d.diagnostics.at("forecast_hour") == 24);
}

TEST_CASE("aws_predictive: HonorMaxCapacity caps, IncreaseMaxCapacity lifts the maximum by the buffer",
          "[aws_predictive]") {
  // 500 rps = 30000 per minute / 600 = 50 instances against a maximum of 40 (AWS's documented example).
  const std::vector<double> h(24, 500.0);
  auto honor = predictive(h, {{"Mode", str("ForecastAndScale")}});
  auto d = honor->decide(obs(60, 10, 500, 10, 50, 40)).services.at(0);
  CHECK(d.desired == 40);
  CHECK(d.rule == "forecast_min,max_capacity");
  CHECK(d.diagnostics.at("effective_max") == 40);

  auto lift = predictive(h, {{"Mode", str("ForecastAndScale")},
                             {"MaxCapacityBreachBehavior", str("IncreaseMaxCapacity")},
                             {"MaxCapacityBuffer", 10L}});
  d = lift->decide(obs(60, 10, 500, 10, 50, 40)).services.at(0);
  CHECK(d.desired == 50);
  CHECK(d.diagnostics.at("effective_max") == 55);  // 50 x 1.1
  CHECK(d.rule == "forecast_min");

  auto exact = predictive(h, {{"Mode", str("ForecastAndScale")},
                              {"MaxCapacityBreachBehavior", str("IncreaseMaxCapacity")},
                              {"MaxCapacityBuffer", 0L}});
  d = exact->decide(obs(60, 10, 500, 10, 50, 40)).services.at(0);
  CHECK(d.desired == 50);
  CHECK(d.diagnostics.at("effective_max") == 50);  // equal to, not above, the forecast

  // The group's MaxSize below the service's bound: 45 x 1.2 = 54 with a 20 % buffer above a MaxSize of 30.
  auto sized = predictive(std::vector<double>(24, 450.0),
                          {{"Mode", str("ForecastAndScale")},
                           {"MaxCapacityBreachBehavior", str("IncreaseMaxCapacity")},
                           {"MaxCapacityBuffer", 20L}},
                          {{"MaxSize", 30L}});
  d = sized->decide(obs(60, 10, 450, 10, 50, 100)).services.at(0);
  CHECK(d.desired == 45);
  CHECK(d.diagnostics.at("effective_max") == 54);
}

TEST_CASE("aws_predictive: ForecastOnly decides as target tracking and records the forecast",
          "[aws_predictive]") {
  Map tt{{"TargetValue", 50.0}};
  MapParams tp({{"TargetTrackingConfiguration", table(tt)}});
  auto alone = make_controller("aws_target_tracking", tp, ControllerContext{{"web"}});
  auto only = predictive(two_days(), {}, {{"TargetTrackingConfiguration", table(tt)}});  // Mode's default
  // CPU at 80 % for three minutes (AlarmHigh: 4 x 80 / 50 -> 7), then 20 % for fifteen (AlarmLow).
  int desired_a = 4, desired_b = 4;
  for (int k = 1; k <= 25; ++k) {
    double cpu = k <= 5 ? 80 : 20;
    auto a = alone->decide(obs(60.0 * k, desired_a, 100, 4, cpu)).services.at(0);
    auto b = only->decide(obs(60.0 * k, desired_b, 100, 4, cpu)).services.at(0);
    CHECK(a.desired == b.desired);
    CHECK(a.rule == b.rule);
    CHECK(b.diagnostics.at("predicted_capacity") >= 10);  // recorded, not acted on
    CHECK(b.diagnostic_strings.at("mode") == "ForecastOnly");
    if (k == 3) CHECK(b.desired == 7);  // AlarmHigh: ceil(4 x 80 / 50)
    desired_a = a.desired;
    desired_b = b.desired;
  }
  CHECK(desired_b < 4);  // and back in on AlarmLow, as target tracking did, though the forecast says 10
}

TEST_CASE("aws_predictive: ForecastAndScale stacks target tracking: the max, scale-in above the forecast",
          "[aws_predictive]") {
  Map tt{{"TargetValue", 50.0}};
  auto c = predictive(two_days(), {{"Mode", str("ForecastAndScale")}},
                      {{"TargetTrackingConfiguration", table(tt)}});
  // Hour 0's minimum is 10. At 80 % on 10 instances AlarmHigh fires at the third minute: ceil(10 x 80 / 50)
  // = 16.
  CHECK(c->decide(obs(60, 4, 100, 10, 80)).services.at(0).desired == 10);
  CHECK(c->decide(obs(120, 10, 100, 10, 80)).services.at(0).desired == 10);
  auto d = c->decide(obs(180, 10, 100, 10, 80)).services.at(0);
  CHECK(d.desired == 16);
  CHECK(d.rule == "high_alarm 3/3");
  // 15 minutes at 10 % on 16: target tracking would go to ceil(16 x 10 / 50) = 4; the forecast holds 10.
  for (int k = 4; k <= 18; ++k) d = c->decide(obs(60.0 * k, 16, 100, 16, 10)).services.at(0);
  CHECK(d.desired == 10);
  CHECK(d.rule == "low_alarm 15/15,min_instances");
}

TEST_CASE("aws_predictive: settings are checked with AWS's names", "[aws_predictive]") {
  const std::vector<double> h(24, 10.0);
  CHECK_THROWS_AS(predictive(h, {{"MaxCapacityBuffer", 10L}}), InputError);  // only with IncreaseMaxCapacity
  CHECK_THROWS_AS(predictive(h, {{"MaxCapacityBreachBehavior", str("IncreaseMaxCapacity")}}), InputError);
  CHECK_THROWS_AS(predictive(h, {{"Mode", str("ForecastAndscale")}}), InputError);
  CHECK_THROWS_AS(predictive(h, {{"SchedulingBufferTime", 3601L}}), InputError);
  CHECK_THROWS_AS(predictive(h, {}, {}, "ASGNetworkIn"), InputError);
  CHECK_THROWS_AS(predictive(h, {}, {}, "ASGCPU"), InputError);
  MapParams none;
  CHECK_THROWS_AS(make_controller("aws_predictive", none, ControllerContext{{"web"}}), InputError);
}
