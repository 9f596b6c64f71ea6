// AWS EC2 Auto Scaling (target tracking, step scaling, scheduled actions) and the flapping guard, step by
// step on hand-worked sequences of observations, without an engine. The arithmetic is in the comments.
#include <algorithm>
#include <catch2/catch.hpp>
#include <limits>
#include <optional>

#include "controllers/aws/cloudwatch.hpp"
#include "controllers/aws/step_scaling.hpp"
#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "controllers/wrappers/schedule_time.hpp"
#include "sim/scenario/key_ranges.hpp"

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

// A group of 2-vCPU instances: `warm` in service for long (ready at 0) at `cpu` percent, `warming` ready at
// `warming_ready_s` at `warming_cpu` percent, `starting` not ready yet, `draining` leaving.
struct Group {
  int desired = 0;
  int warm = 0;
  double cpu = 0;
  int warming = 0;
  double warming_cpu = 100;
  double warming_ready_s = 0;
  int starting = 0;
  int draining = 0;
  std::vector<double> cpus = {};  // per warm instance, instead of `cpu`
};

Observation obs(double t, const Group& g) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 20;
  s.desired = g.desired;
  s.metrics_valid = true;
  int id = 0;
  auto add = [&](bool ready, double ready_time, double cpu_pct, bool deleting) {
    InstanceObservation i;
    i.id = id++;
    i.ready = ready;
    i.deleting = deleting;
    i.ready_time_s = ready_time;
    i.has_metrics = ready;
    i.cpu_request_cores = 2;
    i.cpu_usage_cores = 2 * cpu_pct / 100;
    s.instances.push_back(i);
  };
  double busy = 0;
  int warm = g.cpus.empty() ? g.warm : static_cast<int>(g.cpus.size());
  for (int k = 0; k < warm; ++k) {
    double c = g.cpus.empty() ? g.cpu : g.cpus[static_cast<size_t>(k)];
    add(true, 0, c, false);
    busy += c;
  }
  for (int k = 0; k < g.warming; ++k) {
    add(true, g.warming_ready_s, g.warming_cpu, false);
    busy += g.warming_cpu;
  }
  for (int k = 0; k < g.starting; ++k) add(false, -1, 0, false);
  for (int k = 0; k < g.draining; ++k) add(false, 0, 0, true);
  s.in_service = warm;
  s.warming = g.warming;
  s.starting = g.starting;
  s.draining = g.draining;
  s.cpu_utilization = s.ready() > 0 ? busy / 100 / s.ready() : 0;
  o.services.push_back(s);
  return o;
}

const ControllerContext kCtx{{"web"}};

std::unique_ptr<Controller> target_tracking(Map top = {}, Map tt = {}) {
  tt.emplace("TargetValue", 50.0);
  top.emplace("TargetTrackingConfiguration", table(tt));
  MapParams p(top);
  return make_controller("aws_target_tracking", p, kCtx);
}

ServiceDecision decide(Controller& c, double t, const Group& g) {
  return c.decide(obs(t, g)).services.at(0);
}

}  // namespace

TEST_CASE("aws_target_tracking: scales out only after three breaching minutes, proportionally", "[aws]") {
  auto c = target_tracking();
  CHECK(c->interval_s() == 60);  // one CloudWatch datapoint per minute
  Group g{4, 4, 80};             // 4 instances at 80 %, target 50 %
  auto d = decide(*c, 60, g);
  CHECK(d.desired == 4);
  CHECK(d.rule == "ok high 1/3 low 0/15");
  CHECK(d.metric == "ASGAverageCPUUtilization");
  CHECK(d.metric_value == Approx(80));
  CHECK(decide(*c, 120, g).desired == 4);  // 2 of 3
  d = decide(*c, 180, g);                  // 3 of 3: AlarmHigh
  CHECK(d.rule == "high_alarm 3/3");
  CHECK(d.desired == 7);  // ceil(4 x 80 / 50) = ceil(6.4)
  // The 3 launches are in flight: the same breach asks for 7 again, which they already cover.
  d = decide(*c, 240, Group{7, 4, 80, 0, 0, 0, 3});
  CHECK(d.desired == 7);
  CHECK(d.rule == "high_alarm 3/3,in_flight");
  CHECK(d.diagnostics.at("capacity_counted") == 4);
  CHECK(d.diagnostics.at("in_flight") == 3);
  // A bigger breach adds what the launches do not cover: ceil(4 x 100 / 50) = 8.
  CHECK(decide(*c, 300, Group{7, 4, 100, 0, 0, 0, 3}).desired == 8);

  // One datapoint at or below the target breaks the run: three more are needed.
  auto c2 = target_tracking();
  decide(*c2, 60, g);
  decide(*c2, 120, g);
  CHECK(decide(*c2, 180, Group{4, 4, 50}).rule == "ok high 2/3 low 0/15");  // 50 is not above 50
  CHECK(decide(*c2, 240, g).desired == 4);                                  // 50, 80: 2 of the last 3
  CHECK(decide(*c2, 300, g).desired == 4);
  CHECK(decide(*c2, 360, g).desired == 7);
}

TEST_CASE("aws_target_tracking: scales in only after 15 minutes below 90 % of the target, never past it",
          "[aws]") {
  auto c = target_tracking();
  Group g{10, 10, 20};  // 10 instances at 20 %: below AlarmLow's 45 (0.9 x 50)
  for (int k = 1; k <= 13; ++k) CHECK(decide(*c, 60.0 * k, g).desired == 10);
  CHECK(decide(*c, 840, g).rule == "ok high 0/3 low 14/15");  // the 14th
  auto d = decide(*c, 900, g);
  CHECK(d.rule == "low_alarm 15/15");
  CHECK(d.desired == 4);  // ceil(10 x 20 / 50): the metric becomes 20 x 10 / 4 = 50, the target, not above
  CHECK(d.diagnostics.at("alarm_low_threshold") == Approx(45));

  // 46 % is below the target but above AlarmLow's threshold: never a scale-in.
  auto c2 = target_tracking();
  for (int k = 1; k <= 30; ++k) CHECK(decide(*c2, 60.0 * k, Group{10, 10, 46}).desired == 10);
  // 44 % is below it: after 15 datapoints, ceil(10 x 44 / 50) = ceil(8.8) = 9.
  auto c3 = target_tracking();
  for (int k = 1; k <= 14; ++k) decide(*c3, 60.0 * k, Group{10, 10, 44});
  CHECK(decide(*c3, 900, Group{10, 10, 44}).desired == 9);
  // Conservative: 3 at 40 % would be 40 x 3 / 2 = 60 % on 2, above the target: ceil(3 x 40 / 50) = 3, no
  // change.
  auto c4 = target_tracking();
  for (int k = 1; k <= 14; ++k) decide(*c4, 60.0 * k, Group{3, 3, 40});
  d = decide(*c4, 900, Group{3, 3, 40});
  CHECK(d.rule == "low_alarm 15/15");
  CHECK(d.desired == 3);
  // DisableScaleIn: no AlarmLow at all.
  auto c5 = target_tracking({}, {{"DisableScaleIn", true}});
  for (int k = 1; k <= 20; ++k) CHECK(decide(*c5, 60.0 * k, g).desired == 10);
  CHECK(decide(*c5, 1260, g).rule == "ok high 0/3");
}

TEST_CASE("aws_target_tracking: instances in warm-up are left out of the metric and block scale-in",
          "[aws]") {
  auto c = target_tracking({{"EstimatedInstanceWarmup", 300.0}});
  // 4 warm instances at 60 %, 2 ready at t = 100 still at 100 % (warm from t = 400 on); desired 6.
  Group g{6, 4, 60, 2, 100, 100};
  auto d = decide(*c, 120, g);
  CHECK(d.metric_value == Approx(60));  // not (4 x 60 + 2 x 100) / 6 = 73.3
  CHECK(d.diagnostics.at("capacity_counted") == 4);
  CHECK(d.diagnostics.at("in_flight") == 2);
  decide(*c, 180, g);
  d = decide(*c, 240, g);
  CHECK(d.rule == "high_alarm 3/3,in_flight");
  CHECK(d.desired == 6);  // ceil(4 x 60 / 50) = 5: the two warming instances cover it
  // Warm at t = 400: (4 x 60 + 2 x 100) / 6 = 73.3 on 6 counted: ceil(6 x 73.3 / 50) = ceil(8.8) = 9.
  d = decide(*c, 420, g);
  CHECK(d.metric_value == Approx(73.333).epsilon(1e-4));
  CHECK(d.desired == 9);
  // The group's DefaultInstanceWarmup applies when the policy has none.
  auto c2 = target_tracking({{"DefaultInstanceWarmup", 60.0}});
  CHECK(decide(*c2, 180, g).metric_value == Approx(73.333).epsilon(1e-4));  // 100 + 60 <= 180: warm
  // Scale-in waits until the warming instance is warm: 15 datapoints at 10 % with one instance warming.
  auto c3 = target_tracking();
  Group low{5, 4, 10, 1, 10, 600};
  for (int k = 1; k <= 14; ++k) decide(*c3, 60.0 * k, low);
  d = decide(*c3, 900, low);  // 600 + 300 <= 900: warm now
  CHECK(d.rule == "low_alarm 15/15");
  CHECK(d.desired == 1);  // ceil(5 x 10 / 50)
  auto c4 = target_tracking();
  low.warming_ready_s = 700;
  for (int k = 1; k <= 14; ++k) decide(*c4, 60.0 * k, low);
  d = decide(*c4, 900, low);  // 700 + 300 > 900: still warming
  CHECK(d.rule == "low_alarm 15/15,scaling_in_progress");
  CHECK(d.desired == 5);
}

TEST_CASE("aws_target_tracking: settings are checked", "[aws]") {
  MapParams no_config;
  CHECK_THROWS_AS(make_controller("aws_target_tracking", no_config, kCtx), InputError);
  auto predef = table({{"PredefinedMetricType", str("ASGAverageNetworkIn")}});
  MapParams bad_type({{"TargetTrackingConfiguration",
                       table({{"TargetValue", 50.0}, {"PredefinedMetricSpecification", predef}})}});
  CHECK_THROWS_AS(make_controller("aws_target_tracking", bad_type, kCtx), InputError);
  auto custom = table({{"MetricName", str("queue_depth")}, {"Statistic", str("Average")}});
  auto c = target_tracking({}, {{"CustomizedMetricSpecification", custom}});
  auto o = obs(60, Group{2, 2, 50});
  o.services[0].queue_depth = 7;
  auto d = c->decide(o).services.at(0);
  CHECK(d.metric == "queue_depth");
  CHECK(d.metric_value == 7);
}

TEST_CASE("aws_step: adjustments round and count as AWS documents", "[aws]") {
  using aws::AdjustmentType;
  CHECK(aws::adjusted(AdjustmentType::change_in_capacity, 7, -2, 1) == 5);
  CHECK(aws::adjusted(AdjustmentType::exact_capacity, 7, 3, 1) == 3);
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 10, 10, 1) == 11);  // 1
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 10, 25, 1) == 12);  // 2.5 rounds down
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 4, 10, 1) == 5);    // 0.4 becomes 1
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 4, 10, 2) ==
        6);  // MinAdjustmentMagnitude 2
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 15, -33, 1) ==
        11);                                                                         // -4.95 rounds up to -4
  CHECK(aws::adjusted(AdjustmentType::percent_change_in_capacity, 2, -10, 1) == 1);  // -0.2 becomes -1

  // Bounds are relative to the threshold; above it the lower bound is inclusive, below it the upper one.
  aws::StepPolicy up;
  up.threshold = 60;
  up.comparison = aws::Comparison::greater_or_equal;
  up.steps = {{0, 10, 1}, {10, 25, 2}, {25, std::numeric_limits<double>::infinity(), 4}};
  CHECK(up.step_for(60)->adjustment == 1);  // diff 0 in [0, 10)
  CHECK(up.step_for(70)->adjustment == 2);  // diff 10 in [10, 25)
  CHECK(up.step_for(84.9)->adjustment == 2);
  CHECK(up.step_for(85)->adjustment == 4);
  CHECK(up.step_for(59) == nullptr);
  aws::StepPolicy down;
  down.threshold = 30;
  down.comparison = aws::Comparison::less_or_equal;
  down.steps = {{-std::numeric_limits<double>::infinity(), -10, -2}, {-10, 0, -1}};
  CHECK(down.step_for(30)->adjustment == -1);  // diff 0 in (-10, 0]
  CHECK(down.step_for(20)->adjustment == -2);  // diff -10 in (-inf, -10]
  CHECK(down.step_for(21)->adjustment == -1);
}

namespace {
MapParams::Table step(std::optional<double> lower, std::optional<double> upper, long adjustment) {
  Map m{{"ScalingAdjustment", adjustment}};
  if (lower) m.emplace("MetricIntervalLowerBound", *lower);
  if (upper) m.emplace("MetricIntervalUpperBound", *upper);
  return table(m);
}
std::unique_ptr<Controller> step_controller(std::vector<MapParams::Table> policies, Map top = {}) {
  top.emplace("ScalingPolicies", policies);
  MapParams p(top);
  return make_controller("aws_step", p, kCtx);
}
}  // namespace

TEST_CASE("aws_step: the step holding the breach, alarms M of N, warm-up instead of a cooldown", "[aws]") {
  auto out = table({{"Threshold", 60.0},
                    {"ComparisonOperator", str("GreaterThanOrEqualToThreshold")},
                    {"EvaluationPeriods", 2L},
                    {"DatapointsToAlarm", 2L},
                    {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, 10.0, 1), step(10.0, 25.0, 2),
                                                                      step(25.0, std::nullopt, 4)}}});
  auto in = table({{"Threshold", 30.0},
                   {"ComparisonOperator", str("LessThanOrEqualToThreshold")},
                   {"StepAdjustments",
                    std::vector<MapParams::Table>{step(-10.0, 0.0, -1), step(std::nullopt, -10.0, -2)}}});
  auto c = step_controller({out, in}, {{"DefaultInstanceWarmup", 120.0}});
  auto d = decide(*c, 60, Group{10, 10, 60});  // 60 >= 60: 1 of 2
  CHECK(d.desired == 10);
  CHECK(d.rule == "ok high_alarm 1/2 low_alarm 0/1");
  d = decide(*c, 120, Group{10, 10, 75});  // 2 of 2; 75 - 60 = 15 in [10, 25): +2 on 10 counted
  CHECK(d.rule == "high_alarm 2/2");
  CHECK(d.desired == 12);
  CHECK(d.metric == "CPUUtilization");
  // Still in ALARM, same step, the two launches in flight: 10 + 2 = 12, no new activity.
  d = decide(*c, 180, Group{12, 10, 72, 0, 100, 0, 2});
  CHECK(d.desired == 12);
  CHECK(d.rule == "high_alarm 2/2,in_flight");
  // A bigger breach while they warm: 90 - 60 = 30 in [25, inf): +4 on the 10 counted = 14, two more.
  d = decide(*c, 240, Group{12, 10, 90, 2, 100, 200});
  CHECK(d.desired == 14);
  // Scale-in: 14 warm at 25 %, 25 - 30 = -5 in (-10, 0]: -1. (High alarm: 2 of the last 2 are 90 and 25: OK.)
  d = decide(*c, 360, Group{14, 14, 25});
  CHECK(d.rule == "low_alarm 1/1");
  CHECK(d.desired == 13);
  // ... not while a previous scale-in drains, nor while an instance warms.
  CHECK(decide(*c, 420, Group{13, 13, 15, 0, 100, 0, 0, 1}).rule == "low_alarm 1/1,scaling_in_progress");
  CHECK(decide(*c, 480, Group{13, 12, 15, 1, 15, 400}).rule == "low_alarm 1/1,scaling_in_progress");
  // 15 - 30 = -15 in (-inf, -10]: -2.
  CHECK(decide(*c, 540, Group{13, 13, 15}).desired == 11);
}

TEST_CASE("aws_step: AWS's percent example, ExactCapacity, aggregation and competing alarms", "[aws]") {
  // Threshold 50; [0, 10): 0 %, [10, 20): +10 %, [20, inf): +30 %, PercentChangeInCapacity; 10 instances.
  auto pct =
      table({{"Threshold", 50.0},
             {"ComparisonOperator", str("GreaterThanOrEqualToThreshold")},
             {"AdjustmentType", str("PercentChangeInCapacity")},
             {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, 10.0, 0), step(10.0, 20.0, 10),
                                                               step(20.0, std::nullopt, 30)}}});
  auto c = step_controller({pct});
  CHECK(decide(*c, 60, Group{10, 10, 60}).desired == 11);  // 10 % of 10 = 1
  // 62 while the new instance warms: the current capacity is still 10, 10 + 1 = 11: no change.
  CHECK(decide(*c, 120, Group{11, 10, 62, 1, 100, 90}).desired == 11);
  // 70 while it warms: 30 % of 10 = 3, 10 + 3 = 13: two more.
  CHECK(decide(*c, 180, Group{11, 10, 70, 1, 100, 90}).desired == 13);

  // ExactCapacity: to 8 from 5 (a scale-out), and from 10 (a scale-in).
  auto exact = table({{"Threshold", 50.0},
                      {"ComparisonOperator", str("GreaterThanThreshold")},
                      {"AdjustmentType", str("ExactCapacity")},
                      {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, std::nullopt, 8)}}});
  auto e = step_controller({exact});
  CHECK(decide(*e, 60, Group{5, 5, 70}).desired == 8);
  CHECK(decide(*e, 120, Group{10, 10, 70}).desired == 8);

  // MetricAggregationType Maximum: one hot instance (40, 40, 90) breaches 80; the average (56.7) would not.
  auto mx = table({{"Threshold", 80.0},
                   {"ComparisonOperator", str("GreaterThanThreshold")},
                   {"MetricAggregationType", str("Maximum")},
                   {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, std::nullopt, 1)}}});
  auto m = step_controller({mx});
  Group hot{3};
  hot.cpus = {40, 40, 90};
  auto d = decide(*m, 60, hot);
  CHECK(d.metric_value == 90);
  CHECK(d.desired == 4);

  // Two alarms in ALARM: the policy giving the largest capacity wins (+1 vs +3).
  auto small = table({{"Threshold", 50.0},
                      {"PolicyName", str("cpu_small")},
                      {"ComparisonOperator", str("GreaterThanThreshold")},
                      {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, std::nullopt, 1)}}});
  auto big = table({{"Threshold", 20.0},
                    {"PolicyName", str("queue_big")},
                    {"MetricName", str("queue_depth")},
                    {"ComparisonOperator", str("GreaterThanThreshold")},
                    {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, std::nullopt, 3)}}});
  auto both = step_controller({small, big});
  auto o = obs(60, Group{4, 4, 70});
  o.services[0].queue_depth = 30;
  d = both->decide(o).services.at(0);
  CHECK(d.desired == 7);
  CHECK(d.rule == "queue_big 1/1");
  CHECK(d.metric == "queue_depth");

  // Steps with a gap are refused, as AWS refuses them.
  auto gap = table(
      {{"Threshold", 50.0},
       {"ComparisonOperator", str("GreaterThanThreshold")},
       {"StepAdjustments", std::vector<MapParams::Table>{step(0.0, 10.0, 1), step(20.0, std::nullopt, 2)}}});
  CHECK_THROWS_AS(step_controller({gap}), InputError);
}

TEST_CASE("scheduled: cron, ISO-8601 times and fixed time zones", "[aws]") {
  using wrappers::Cron;
  auto t = [](const char* s) { return *wrappers::parse_date_time(s, 0); };
  CHECK(t("1970-01-01T00:00:00Z") == 0);
  CHECK(t("2024-03-04T06:00:00Z") == 1709532000);
  CHECK(t("2024-03-04T08:00:00+02:00") == 1709532000);
  CHECK(*wrappers::parse_date_time("2024-03-04T07:00", 3600) == 1709532000);  // local to UTC+1
  CHECK_FALSE(wrappers::parse_date_time("2024-02-30T00:00:00Z", 0));
  CHECK(*wrappers::parse_time_zone("UTC") == 0);
  CHECK(*wrappers::parse_time_zone("UTC+05:30") == 19800);
  CHECK(*wrappers::parse_time_zone("-03:00") == -10800);
  CHECK(*wrappers::parse_time_zone("Etc/GMT-2") == 7200);  // POSIX sign
  CHECK_FALSE(wrappers::parse_time_zone("America/New_York"));

  // 2024-03-02 is a Saturday: weekdays at 08:00 next fire on Monday 2024-03-04 08:00.
  Cron weekdays("0 8 * * MON-FRI");
  CHECK(*weekdays.next_at_or_after(t("2024-03-02T12:00:00Z"), 0) == t("2024-03-04T08:00:00Z"));
  CHECK(*weekdays.next_at_or_after(t("2024-03-04T08:00:00Z"), 0) == t("2024-03-04T08:00:00Z"));
  CHECK(*weekdays.next_at_or_after(t("2024-03-04T08:00:01Z"), 0) == t("2024-03-05T08:00:00Z"));
  // In UTC+01:00, 08:00 local is 07:00 UTC.
  CHECK(*weekdays.next_at_or_after(t("2024-03-04T00:00:00Z"), 3600) == t("2024-03-04T07:00:00Z"));
  Cron quarter("*/15 9-17 * * *");
  CHECK(*quarter.next_at_or_after(t("2024-03-04T17:50:00Z"), 0) == t("2024-03-05T09:00:00Z"));
  CHECK(*quarter.next_at_or_after(t("2024-03-04T10:01:00Z"), 0) == t("2024-03-04T10:15:00Z"));
  // Both day fields restricted: either matches (the 1st of the month, or a Monday).
  Cron either("0 0 1 * 1");
  CHECK(*either.next_at_or_after(t("2024-03-02T00:00:00Z"), 0) == t("2024-03-04T00:00:00Z"));
  CHECK(*either.next_at_or_after(t("2024-03-26T00:00:00Z"), 0) == t("2024-04-01T00:00:00Z"));
  CHECK(*Cron("0 12 29 2 *").next_at_or_after(t("2024-03-01T00:00:00Z"), 0) == t("2028-02-29T12:00:00Z"));
  CHECK_FALSE(Cron("0 0 30 2 *").next_at_or_after(0, 0));
  CHECK_THROWS_AS(Cron("0 8 * *"), std::invalid_argument);
  CHECK_THROWS_AS(Cron("61 8 * * *"), std::invalid_argument);
}

namespace {
MapParams::Table simple_inner(double in_below = 0.3) {
  return table({{"kind", str("aws_simple")},
                {"scale_out_above", 0.7},
                {"scale_in_below", in_below},
                {"cooldown_s", 0.0}});
}
Observation util(double t, int desired, double u) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 20;
  s.desired = desired;
  s.in_service = desired;
  s.metrics_valid = true;
  s.cpu_utilization = u;
  o.services.push_back(s);
  return o;
}
}  // namespace

TEST_CASE("scheduled: an action raises the floor at its time and the inner controller works above it",
          "[aws]") {
  // t = 0 is Monday 2024-03-04 06:00 UTC. Weekdays at 08:00 in UTC+01:00 (07:00 UTC, t = 3600) the floor
  // rises to 6; at 18:00 local (17:00 UTC, t = 39600) it drops back to 2. A one-off at 06:30 UTC (t = 1800)
  // sets the desired count to 10.
  auto morning = table({{"ScheduledActionName", str("morning")},
                        {"Recurrence", str("0 8 * * MON-FRI")},
                        {"TimeZone", str("UTC+01:00")},
                        {"MinSize", 6L}});
  auto evening = table({{"ScheduledActionName", str("evening")},
                        {"Recurrence", str("0 18 * * MON-FRI")},
                        {"TimeZone", str("UTC+01:00")},
                        {"MinSize", 2L}});
  auto burst = table({{"ScheduledActionName", str("burst")},
                      {"StartTime", str("2024-03-04T06:30:00Z")},
                      {"DesiredCapacity", 10L}});
  MapParams p({{"startTime", str("2024-03-04T06:00:00Z")},
               {"inner", simple_inner()},
               {"actions", std::vector<MapParams::Table>{morning, evening, burst}}});
  auto c = make_controller("scheduled", p, kCtx);
  CHECK(c->interval_s() == 60);  // the inner controller's

  auto d = c->decide(util(1740, 3, 0.5)).services.at(0);
  CHECK(d.desired == 3);
  CHECK(d.rule == "within_bounds");
  // The one-off DesiredCapacity holds for its tick (the inner controller's answer is discarded) ...
  d = c->decide(util(1800, 3, 0.1)).services.at(0);
  CHECK(d.desired == 10);
  CHECK(d.rule == "scheduled_action burst");
  CHECK(d.diagnostic_strings.at("inner_rule") == "scale_in_below");
  // ... and the next tick the inner controller moves it (within the bounds), as AWS's dynamic policies do.
  d = c->decide(util(1860, 10, 0.1)).services.at(0);
  CHECK(d.desired == 9);
  CHECK(d.rule == "scale_in_below");
  // 08:00 local: the floor rises to 6 above the 3 running; the inner controller saw min 6 but was within
  // bounds.
  CHECK(c->decide(util(3540, 3, 0.5)).services.at(0).desired == 3);
  d = c->decide(util(3600, 3, 0.5)).services.at(0);
  CHECK(d.desired == 6);
  CHECK(d.rule == "scheduled_min_size");
  CHECK(d.diagnostics.at("min_size") == 6);
  CHECK(d.diagnostic_strings.at("scheduled_action") == "morning");
  // Above the floor the inner controller works: out on a breach, in again, but not below 6.
  d = c->decide(util(3660, 6, 0.9)).services.at(0);
  CHECK(d.desired == 7);
  CHECK(d.rule == "scale_out_above");
  CHECK(c->decide(util(3720, 7, 0.1)).services.at(0).desired == 6);
  d = c->decide(util(3780, 6, 0.1)).services.at(0);
  CHECK(d.desired == 6);
  CHECK(d.rule == "min_instances");  // the inner controller itself stops at the schedule's floor
  // 18:00 local: the floor drops to 2, and the inner controller scales in below 6.
  CHECK(c->decide(util(39540, 6, 0.1)).services.at(0).desired == 6);
  d = c->decide(util(39600, 6, 0.1)).services.at(0);
  CHECK(d.desired == 5);
  CHECK(d.diagnostics.at("min_size") == 2);
  // Tuesday 07:00 UTC (t = 90000): the next morning's floor.
  CHECK(c->decide(util(90000, 2, 0.5)).services.at(0).desired == 6);
}

TEST_CASE("scheduled: settings are checked", "[aws]") {
  auto check = [](Map action) {
    MapParams p({{"inner", simple_inner()}, {"actions", std::vector<MapParams::Table>{table(action)}}});
    return make_controller("scheduled", p, kCtx);
  };
  CHECK_NOTHROW(check({{"StartTime", str("2024-01-01T00:00:00Z")}, {"MinSize", 2L}}));
  CHECK_THROWS_AS(check({{"MinSize", 2L}}), InputError);  // neither StartTime nor Recurrence
  CHECK_THROWS_AS(check({{"Recurrence", str("0 8 * *")}, {"MinSize", 2L}}), InputError);
  CHECK_THROWS_AS(
      check({{"Recurrence", str("0 8 * * *")}, {"TimeZone", str("Europe/Paris")}, {"MinSize", 2L}}),
      InputError);
  CHECK_THROWS_AS(check({{"Recurrence", str("0 8 * * *")}}), InputError);  // sets nothing
  CHECK_THROWS_AS(check({{"Recurrence", str("0 8 * * *")}, {"MinSize", 5L}, {"MaxSize", 3L}}), InputError);
  MapParams no_inner({{"actions", std::vector<MapParams::Table>{
                                      table({{"StartTime", str("2024-01-01T00:00Z")}, {"MinSize", 2L}})}}});
  CHECK_THROWS_AS(make_controller("scheduled", no_inner, kCtx), InputError);
  // A wrapped controller's keys have the ranges of a controller of its own.
  CHECK(range_text(key_range("controller.inner", "scale_out_above")) == "[0, 1e9]");
  CHECK(range_text(key_range("controller.inner.inner.TargetTrackingConfiguration", "TargetValue")) ==
        "(0, 1e9]");
}

TEST_CASE("flapping_guard: refuses the part of a scale-in that would cross the scale-out threshold",
          "[aws]") {
  // The inner policy scales out above 0.7 and in below 0.4: on 2 instances at 0.38 it wants 1, where the same
  // load would be 0.38 x 2 / 1 = 0.76 > 0.7 and scale out again at once.
  MapParams plain_p({{"scale_out_above", 0.7}, {"scale_in_below", 0.4}, {"cooldown_s", 0.0}});
  auto plain = make_controller("aws_simple", plain_p, kCtx);
  CHECK(plain->decide(util(60, 2, 0.38)).services.at(0).desired == 1);
  CHECK(plain->decide(util(120, 1, 0.76)).services.at(0).desired == 2);  // the flap

  MapParams p({{"scaleOutThreshold", 0.7}, {"inner", simple_inner(0.4)}});
  auto guard = make_controller("flapping_guard", p, kCtx);
  auto d = guard->decide(util(60, 2, 0.38)).services.at(0);
  CHECK(d.desired == 2);
  CHECK(d.rule == "flapping_guard");
  CHECK(d.diagnostics.at("projected_metric") == Approx(0.76));
  CHECK(d.diagnostic_strings.at("inner_rule") == "scale_in_below");
  // 0.3 on 2: 0.3 x 2 / 1 = 0.6 stays below 0.7: the scale-in goes through.
  d = guard->decide(util(120, 2, 0.3)).services.at(0);
  CHECK(d.desired == 1);
  CHECK(d.rule == "scale_in_below");
  // Partly: 3 at 0.28 with a 2-instance scale-in wants 1 (0.84, refused); 2 gives 0.42: it goes to 2.
  MapParams p2({{"scaleOutThreshold", 0.7},
                {"inner", table({{"kind", str("threshold")},
                                 {"scale_out_above", 0.7},
                                 {"scale_in_below", 0.3},
                                 {"scale_in_adjustment", 2.0},
                                 {"cooldown_s", 0.0}})}});
  auto guard2 = make_controller("flapping_guard", p2, kCtx);
  d = guard2->decide(util(60, 3, 0.28)).services.at(0);
  CHECK(d.desired == 2);
  CHECK(d.rule == "flapping_guard");
  CHECK(d.diagnostics.at("inner_desired") == 1);
}

TEST_CASE("aws_simple is threshold's documented name", "[aws]") {
  auto kinds = controller_kinds();
  CHECK(std::find(kinds.begin(), kinds.end(), "aws_simple") != kinds.end());
  CHECK(std::find(kinds.begin(), kinds.end(), "threshold") != kinds.end());
  MapParams a({{"scale_out_above", 0.7}, {"scale_in_below", 0.3}});
  MapParams b({{"scale_out_above", 0.7}, {"scale_in_below", 0.3}});
  auto simple = make_controller("aws_simple", a, kCtx);
  auto threshold = make_controller("threshold", b, kCtx);
  for (double t : {60.0, 120.0, 480.0}) {
    auto x = simple->decide(util(t, 4, 0.9)).services.at(0);
    auto y = threshold->decide(util(t, 4, 0.9)).services.at(0);
    CHECK(x.desired == y.desired);
    CHECK(x.rule == y.rule);
  }
}
