// The `hpa` controller on hand-made observations, worked through by hand with upstream's arithmetic
// (kubernetes pkg/controller/podautoscaler: horizontal.go, replica_calculator.go, metrics/utilization.go).
// Cases named after an upstream test use that test's numbers; upstream's own test harness sets
// cpuInitializationPeriod = 2 min and initialReadinessDelay = 10 s, which these cases use too.
#include <catch2/catch.hpp>

#include "controllers/base/error.hpp"
#include "controllers/hpa/quantity.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {

using V = MapParams::Value;
using Map = std::map<std::string, V>;
MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}
V s(const char* v) {
  return std::string(v);
}

constexpr double kNow = 10000;  // "now"; Go's zero time is t = 0, far enough in the past for every window

V cpu_utilization(long target) {
  return std::vector<MapParams::Table>{
      table({{"type", s("Resource")},
             {"resource",
              table({{"name", s("cpu")},
                     {"target", table({{"type", s("Utilization")}, {"averageUtilization", target}})}})}})};
}

MapParams::Table external(const char* name, const char* type, const char* quantity) {
  std::string key = std::string(type) == "Value" ? "value" : "averageValue";
  return table({{"type", s("External")},
                {"external", table({{"metric", table({{"name", s(name)}})},
                                    {"target", table({{"type", s(type)}, {key, s(quantity)}})}})}});
}

// Upstream's test controller: tolerance 0.1, CPU initialization 2 min, readiness delay 10 s.
Map base(long min, long max) {
  return {{"minReplicas", min},
          {"maxReplicas", max},
          {"cpuInitializationPeriodSeconds", 120.0},
          {"initialReadinessDelaySeconds", 10.0}};
}

std::unique_ptr<Controller> make_hpa(Map m) {
  MapParams p(std::move(m));
  return make_controller("hpa", p, ControllerContext{{"web"}});
}

// A pod with `cpu_m` millicores used (negative: no sample) of `request_m`, ready since it started at
// `start` (Go's zero time by default).
InstanceObservation pod(int i, double cpu_m, double request_m = 1000, bool ready = true, double start = 0) {
  InstanceObservation p;
  p.id = i;
  p.name = "test-pod-" + std::to_string(i);
  p.ready = ready;
  p.start_time_s = start;
  p.ready_time_s = start;
  p.has_metrics = cpu_m >= 0;
  p.cpu_usage_cores = cpu_m / 1000;
  p.cpu_request_cores = request_m / 1000;
  p.metrics_timestamp_s = kNow;
  p.metrics_window_s = 60;
  return p;
}

Observation observe(int current, std::vector<InstanceObservation> pods, double now = kNow) {
  Observation o;
  o.time_s = now;
  ServiceObservation svc;
  svc.name = "web";
  svc.desired = current;
  svc.instances = std::move(pods);
  svc.metrics_valid = true;
  o.services.push_back(std::move(svc));
  return o;
}

// Upstream's `recommendations: []timestampedRecommendation{}`: initialised and empty.
Observation with_empty_history(Observation o) {
  o.services[0].history = ControllerHistory{};
  o.services[0].history->recommendations.emplace();
  return o;
}

ServiceDecision decide(Controller& c, const Observation& o) {
  return c.decide(o).services.at(0);
}

}  // namespace

TEST_CASE("hpa: Kubernetes quantities as upstream parses them", "[hpa]") {
  using hpa::parse_quantity;
  CHECK(parse_quantity("500m")->milli == 500);
  CHECK(parse_quantity("15")->milli == 15000);
  CHECK(parse_quantity("15.0")->milli == 15000);
  CHECK(parse_quantity("1.5k")->milli == 1500000);
  CHECK(parse_quantity("2Mi")->milli == 2LL * 1024 * 1024 * 1000);
  CHECK(parse_quantity("1e3")->milli == 1000000);
  CHECK(parse_quantity("6666m")->value == Approx(6.666));
  CHECK(parse_quantity("0.05")->milli == 50);
  CHECK(parse_quantity("100u")->milli == 1);  // 0.1 milli, rounded up as MilliValue() rounds
  CHECK(parse_quantity("1n")->milli == 1);
  CHECK(parse_quantity("0")->milli == 0);
  CHECK_FALSE(parse_quantity("abc"));
  CHECK_FALSE(parse_quantity("5K"));  // decimal kilo is lower-case k
  CHECK_FALSE(parse_quantity(""));
  CHECK_FALSE(parse_quantity("1.5 k"));
  CHECK(hpa::to_milli(8.6) == 8600);  // a sample in base units back to milli-units despite 8.6 * 1000 noise
  CHECK(hpa::to_milli(0.0015) == 2);
}

TEST_CASE("hpa: TestScaleUp and the unready, hot-CPU and failed-pod variants", "[hpa]") {
  Map m = base(2, 6);
  m["metrics"] = cpu_utilization(30);
  // TestScaleUp: utilization (300 + 500 + 700) * 100 / 3000 = 50 %, ratio 50 / 30 = 1.67, ceil(1.67 * 3) = 5.
  auto c = make_hpa(m);
  auto d = decide(*c, observe(3, {pod(0, 300), pod(1, 500), pod(2, 700)}));
  CHECK(d.desired == 5);
  CHECK(d.rule == "above_target");
  CHECK(d.metric == "cpu resource utilization (percentage of request)");
  CHECK(d.metric_value == Approx(50.0 / 30));
  CHECK(d.diagnostics.at("raw_recommendation") == 5);
  CHECK(d.diagnostics.at("current_value") == 50);
  CHECK(d.diagnostic_strings.at("limited_by") == "above_target");

  // TestScaleUpUnreadyLessScale: pod 0 never turned ready (ready time = start time, zero): ignored, so 1200 /
  // 2000 = 60 %, ratio 2; a scale-up with an unready pod counts it at 0: 1200 * 100 / 3000 = 40 %,
  // ratio 1.33, ceil(1.33 * 3) = 4.
  c = make_hpa(m);
  CHECK(decide(*c, observe(3, {pod(0, 300, 1000, false), pod(1, 500), pod(2, 700)})).desired == 4);

  // TestScaleUpHotCpuLessScale: pod 0 started now and turned ready now: within the 2 min initialisation
  // period its sample (taken now, window 60 s) is not a full window after readiness, so it is unready: 4
  // again.
  c = make_hpa(m);
  CHECK(decide(*c, observe(3, {pod(0, 300, 1000, true, kNow), pod(1, 500, 1000, true, kNow - 180),
                               pod(2, 700, 1000, true, kNow - 180)}))
            .desired == 4);

  // TestScaleUpUnreadyNoScale: only pod 0 counts: 40 %, ratio 1.33 > 1 with unready pods: 400 * 100 / 3000 =
  // 13 %, ratio 0.43 < 1: the direction flipped, keep 3.
  c = make_hpa(m);
  d = decide(*c, observe(3, {pod(0, 400), pod(1, 500, 1000, false), pod(2, 700, 1000, false)}));
  CHECK(d.desired == 3);
  CHECK(d.rule == "direction_flip");

  // TestScaleUpIgnoresFailedPods: two failed pods (no samples) are ignored: 1200 / 2000 = 60 %, ratio 2,
  // ceil(2 * 2) = 4.
  c = make_hpa(m);
  auto failed1 = pod(2, -1, 1000, false), failed2 = pod(3, -1, 1000, false);
  failed1.phase = failed2.phase = "Failed";
  CHECK(decide(*c, observe(2, {pod(0, 500), pod(1, 700), failed1, failed2})).desired == 4);
}

TEST_CASE("hpa: missing metrics, tolerance and the re-check after the adjustment", "[hpa]") {
  // TestMissingMetrics: pods 2 and 3 have no sample. 495 * 100 / 2000 = 24 %, ratio 0.24 < 1: on a scale-down
  // a missing pod counts at 100 % of its request: 2495 * 100 / 4000 = 62 %, ratio 0.62, ceil(0.62 * 4) = 3.
  Map m = base(2, 6);
  m["metrics"] = cpu_utilization(100);
  auto c = make_hpa(m);
  auto d = decide(*c, with_empty_history(observe(4, {pod(0, 400), pod(1, 95), pod(2, -1), pod(3, -1)})));
  CHECK(d.desired == 3);
  CHECK(d.rule == "below_target");

  // TestReplicaCalcMissingMetricsNoChangeGt: 1900 / 1000 = 190 %, ratio 1.9: the missing pod counts at 0 on a
  // scale-up: 1900 * 100 / 2000 = 95 %, ratio 0.95: within tolerance, keep 2.
  c = make_hpa(m);
  d = decide(*c, observe(2, {pod(0, 1900), pod(1, -1)}));
  CHECK(d.desired == 2);
  CHECK(d.rule == "tolerance");

  // TestTolerance: requests 900 + 1000 + 1100, usage 1010 + 1030 + 1020: 3060 * 100 / 3000 = 102 %, within
  // [0.9, 1.1].
  c = make_hpa(m);
  d = decide(*c, observe(3, {pod(0, 1010, 900), pod(1, 1030, 1000), pod(2, 1020, 1100)}));
  CHECK(d.desired == 3);
  CHECK(d.rule == "tolerance");

  // TestReplicaCalcConfigurableTolerance, "Outside 8% scale-up tolerance": 3270 * 100 / 3000 = 109 %. The
  // controller-wide 10 % keeps 3; behavior.scaleUp.tolerance = 0.08 (KEP-4951) gives ceil(1.09 * 3) = 4.
  std::vector<InstanceObservation> pods = {pod(0, 1100, 900), pod(1, 1080, 1000), pod(2, 1090, 1100)};
  CHECK(decide(*make_hpa(m), observe(3, pods)).desired == 3);
  Map tolerant = m;
  tolerant["behavior"] = table({{"scaleUp", table({{"tolerance", s("0.08")}})}});
  CHECK(decide(*make_hpa(tolerant), observe(3, pods)).desired == 4);
}

TEST_CASE("hpa: Pods, Object and External metrics", "[hpa]") {
  // TestScaleUpCM: qps 20, 10, 30 per pod against 15: average 20000 m / 15000 m = 1.33, ceil(1.33 * 3) = 4.
  Map m = base(2, 6);
  m["metrics"] = std::vector<MapParams::Table>{table(
      {{"type", s("Pods")},
       {"pods", table({{"metric", table({{"name", s("qps")}})},
                       {"target", table({{"type", s("AverageValue")}, {"averageValue", s("15.0")}})}})}})};
  std::vector<InstanceObservation> pods = {pod(0, 0), pod(1, 0), pod(2, 0)};
  pods[0].pod_metrics["qps"] = 20;
  pods[1].pod_metrics["qps"] = 10;
  pods[2].pod_metrics["qps"] = 30;
  auto d = decide(*make_hpa(m), observe(3, pods));
  CHECK(d.desired == 4);
  CHECK(d.metric == "pods metric qps");

  // TestScaleUpCMExternal: 8.6 against a Value of 6666m: ratio 1.29, three ready pods: ceil(3.87) = 4.
  m["metrics"] = std::vector<MapParams::Table>{external("qps", "Value", "6666m")};
  Observation o = observe(3, {pod(0, 0), pod(1, 0), pod(2, 0)});
  o.services[0].named_metrics["qps"] = 8.6;
  CHECK(decide(*make_hpa(m), o).desired == 4);

  // TestScaleUpPerPodCMExternal: AverageValue 2222m: 8600 / (2222 * 3) = 1.29, ceil(8600 / 2222) = 4.
  m["metrics"] = std::vector<MapParams::Table>{external("qps", "AverageValue", "2222m")};
  CHECK(decide(*make_hpa(m), o).desired == 4);

  // TestScaleUpFromZeroCMObject (minReplicas 0): from zero replicas an Object Value metric scales to
  // ceil(20 / 15) = 2, without tolerance or ready pods.
  Map zero = base(0, 6);
  zero["metrics"] = std::vector<MapParams::Table>{
      table({{"type", s("Object")},
             {"object",
              table({{"describedObject", table({{"kind", s("Deployment")}, {"name", s("some-deployment")}})},
                     {"metric", table({{"name", s("qps")}})},
                     {"target", table({{"type", s("Value")}, {"value", s("15.0")}})}})}})};
  Observation from_zero = observe(0, {});
  from_zero.services[0].named_metrics["qps"] = 20;
  auto z = decide(*make_hpa(zero), from_zero);
  CHECK(z.desired == 2);
  CHECK(z.metric == "Deployment metric qps");
}

TEST_CASE("hpa: several metrics, the largest wins; invalid ones as upstream handles them", "[hpa]") {
  Map m = base(2, 6);
  auto cpu = std::get<std::vector<MapParams::Table>>(cpu_utilization(30)).front();
  m["metrics"] = std::vector<MapParams::Table>{cpu, external("qps", "Value", "100m")};
  // TestScaleUpOneMetricEmpty: the External fetch fails; CPU 1200 / 3000 = 40 %, ratio 1.33, ceil(4) = 4 >=
  // 3: scale up on the valid metric.
  auto d = decide(*make_hpa(m), observe(3, {pod(0, 300), pod(1, 400), pod(2, 500)}));
  CHECK(d.desired == 4);
  CHECK(d.diagnostics.at("invalid_metrics") == 1);
  // TestNoScaleDownOneMetricEmpty: CPU alone would scale down 5 -> 3 (1400 / 5000 = 28 % of 50 %), but no
  // scale-down while a metric cannot be read.
  m["metrics"] = std::vector<MapParams::Table>{
      std::get<std::vector<MapParams::Table>>(cpu_utilization(50)).front(), external("qps", "Value", "1")};
  d = decide(*make_hpa(m), with_empty_history(observe(
                               5, {pod(0, 100), pod(1, 300), pod(2, 500), pod(3, 250), pod(4, 250)})));
  CHECK(d.desired == 5);
  CHECK(d.rule == "invalid_metrics");
  // TestEmptyMetrics: no sample at all: invalid, keep 4.
  m["metrics"] = cpu_utilization(100);
  d = decide(*make_hpa(m), observe(4, {pod(0, -1), pod(1, -1), pod(2, -1), pod(3, -1)}));
  CHECK(d.desired == 4);
  CHECK(d.rule == "invalid_metrics");
}

TEST_CASE("hpa: legacy normalization: downscale stabilization over calls, scale-up limit, bounds", "[hpa]") {
  Map m = base(1, 100);
  m["metrics"] = cpu_utilization(50);
  auto c = make_hpa(m);
  // t = 10000: 3 pods at 100 %: ratio 2, 6 replicas; the first call records the current count (3) as the
  // initial recommendation, which does not hold a scale-up.
  std::vector<InstanceObservation> busy = {pod(0, 1000), pod(1, 1000), pod(2, 1000)};
  CHECK(decide(*c, observe(3, busy)).desired == 6);
  // t = 10015: 6 pods at 10 %: ratio 0.2, ceil(1.2) = 2; the recommendation of 6 fifteen seconds ago holds
  // it.
  std::vector<InstanceObservation> idle;
  for (int i = 0; i < 6; ++i) idle.push_back(pod(i, 100));
  for (auto& p : idle) p.metrics_timestamp_s = kNow + 15;
  auto d = decide(*c, observe(6, idle, kNow + 15));
  CHECK(d.desired == 6);
  CHECK(d.rule == "stabilization_window");
  CHECK(d.diagnostics.at("raw_recommendation") == 2);
  // t = 10300: the 6 is 300 s old, still in the window (older than the cutoff means strictly before it).
  CHECK(decide(*c, observe(6, idle, kNow + 300)).desired == 6);
  // t = 10316: recommendations 6 (t 10000) and 2 (t 10015) are out of the window, 2 (t 10300) is not: 2.
  d = decide(*c, observe(6, idle, kNow + 316));
  CHECK(d.desired == 2);
  CHECK(d.rule == "below_target");

  // The scale-up limit: max(2 x 3, 4) = 6 even at ratio 10 (3 pods at 500 %: ceil(10 * 3) = 30).
  auto c2 = make_hpa(m);
  d = decide(*c2, observe(3, {pod(0, 5000), pod(1, 5000), pod(2, 5000)}));
  CHECK(d.desired == 6);
  CHECK(d.rule == "scale_up_limit");

  // TestScaleUpRCImmediately / TestScaleDownRCImmediately: outside [min, max], no metric is read.
  Map bounds = base(2, 5);
  bounds["metrics"] = cpu_utilization(50);
  CHECK(decide(*make_hpa(bounds), observe(1, {})).desired == 2);
  CHECK(decide(*make_hpa(bounds), observe(6, {})).rule == "max_replicas");
  // TestZeroReplicas: a target at zero with minReplicas > 0 is not autoscaled.
  CHECK(decide(*make_hpa(bounds), observe(0, {})).rule == "scaling_disabled");
}

TEST_CASE("hpa: behavior policies count the scale events within each period", "[hpa]") {
  // TestScalingWithRules, "scaleUp with pod policy and previous scale up events": scale-ups of 1, 5 and 9
  // replicas 100, 60 and 20 s ago; Pods 150 / 120 s: the count 120 s ago was 100 - 15 = 85, so at most 235.
  // The prenormalized 500 comes from an External AverageValue metric: 500 / 1 per pod.
  Map m = base(1, 1000);
  m["metrics"] = std::vector<MapParams::Table>{external("qps", "AverageValue", "1")};
  m["behavior"] =
      table({{"scaleUp",
              table({{"stabilizationWindowSeconds", 0L},
                     {"policies", std::vector<MapParams::Table>{table(
                                      {{"type", s("Pods")}, {"value", 150L}, {"periodSeconds", 120L}})}}})}});
  auto c = make_hpa(m);
  Observation o = observe(100, {});
  o.services[0].named_metrics["qps"] = 500;
  o.services[0].history = ControllerHistory{};
  o.services[0].history->recommendations.emplace();
  o.services[0].history->scale_events = {{kNow - 100, 84, 85}, {kNow - 60, 85, 90}, {kNow - 20, 90, 99}};
  auto d = decide(*c, o);
  CHECK(d.desired == 235);
  CHECK(d.rule == "scale_up policy Pods 150/120s");
  // Fifteen seconds later the controller remembers its own scale-up of 135: the count 120 s ago was
  // 235 - (1 + 5 + 9 + 135) = 85, so the limit is still 85 + 150 = 235: no further step.
  o.time_s = kNow + 15;
  o.services[0].desired = 235;
  o.services[0].history.reset();
  d = decide(*c, o);
  CHECK(d.desired == 235);
  CHECK(d.rule == "scale_up policy Pods 150/120s");

  // Default scale-down: stabilization 300 s (the controller-manager's window), Percent 100 / 15 s.
  Map down = base(1, 1000);
  down["metrics"] = std::vector<MapParams::Table>{external("qps", "AverageValue", "1")};
  down["behavior"] = table({});
  auto c2 = make_hpa(down);
  Observation low = observe(10, {});
  low.services[0].named_metrics["qps"] = 2;
  d = decide(*c2, low);  // the initial recommendation (10, now) holds the scale-down
  CHECK(d.desired == 10);
  CHECK(d.rule == "stabilization_window");
  low.time_s = kNow + 301;
  CHECK(decide(*c2, low).desired == 2);
}

TEST_CASE("hpa: settings are checked as upstream's validation checks them", "[hpa]") {
  auto error = [](Map m) {
    try {
      make_hpa(std::move(m));
    } catch (const InputError& e) {
      return e.field();
    }
    return std::string("no error");
  };
  Map ok = base(1, 5);
  CHECK(error(ok) == "no error");
  Map no_max = ok;
  no_max.erase("maxReplicas");
  CHECK(error(no_max) == "maxReplicas");
  Map inverted = base(6, 5);
  CHECK(error(inverted) == "minReplicas");
  Map memory = ok;
  memory["metrics"] = std::vector<MapParams::Table>{table(
      {{"type", s("Resource")},
       {"resource", table({{"name", s("memory")},
                           {"target", table({{"type", s("Utilization")}, {"averageUtilization", 50L}})}})}})};
  CHECK(error(memory) == "name");
  Map bad_quantity = ok;
  bad_quantity["metrics"] = std::vector<MapParams::Table>{external("qps", "Value", "ten")};
  CHECK(error(bad_quantity) == "value");
  Map bad_type = ok;
  bad_type["metrics"] = std::vector<MapParams::Table>{table({{"type", s("CheddarCheese")}})};
  CHECK(error(bad_type) == "type");
  Map empty_policies = ok;
  empty_policies["behavior"] = table({{"scaleDown", table({{"policies", std::vector<MapParams::Table>{}}})}});
  CHECK(error(empty_policies) == "policies");
  // A plain number is a quantity too.
  Map number = ok;
  number["metrics"] = std::vector<MapParams::Table>{
      table({{"type", s("External")},
             {"external", table({{"metric", table({{"name", s("qps")}})},
                                 {"target", table({{"type", s("Value")}, {"value", 15.0}})}})}})};
  CHECK(error(number) == "no error");
  CHECK(make_hpa(ok)->interval_s() == 15);
}

TEST_CASE(
    "hpa: paths upstream's tables do not reach: a scale-down flipping up, a pod that was ready, "
    "events older than the period",
    "[hpa]") {
  Map m = base(1, 10);
  m["metrics"] = cpu_utilization(50);
  // One sample of 10 % (ratio 0.2) and three pods without one: on a scale-down they count at 100 % of their
  // request: 3100 * 100 / 4000 = 77 %, ratio 1.55 > 1: the direction flipped, keep 4 (not ceil(1.55 * 4) =
  // 7).
  auto d = decide(*make_hpa(m), observe(4, {pod(0, 100), pod(1, -1), pod(2, -1), pod(3, -1)}));
  CHECK(d.desired == 4);
  CHECK(d.rule == "direction_flip");

  // Past the 2 min initialisation period, an unready pod whose Ready condition changed 60 s after it started
  // (so it was ready once: start + 10 s < transition) keeps counting: 1800 / 2000 = 90 %, ratio 1.8,
  // ceil(3.6) = 4. Were it ignored, it would count at 0 on this scale-up: 45 %, ratio 0.9, within tolerance.
  auto was_ready = pod(1, 900, 1000, false, kNow - 600);
  was_ready.ready_time_s = kNow - 540;
  CHECK(decide(*make_hpa(m), observe(2, {pod(0, 900), was_ready})).desired == 4);

  // Default scale-up policies (Pods 4 / 15 s, Percent 100 / 15 s): a scale-up of 10 twenty seconds ago is out
  // of their period, so from 10 replicas the limit is max(10 + 4, 2 x 10) = 20.
  Map b = base(1, 1000);
  b["metrics"] = std::vector<MapParams::Table>{external("qps", "AverageValue", "1")};
  b["behavior"] = table({});
  Observation o = observe(10, {});
  o.services[0].named_metrics["qps"] = 100;
  o.services[0].history = ControllerHistory{};
  o.services[0].history->recommendations.emplace();
  o.services[0].history->scale_events = {{kNow - 20, 0, 10}};
  d = decide(*make_hpa(b), o);
  CHECK(d.desired == 20);
  CHECK(d.rule == "scale_up policy Percent 100/15s");
  // Ten seconds ago it would count: the count 15 s ago was 0, so at most max(0 + 4, 2 x 0) = 4, and never
  // below the current 10.
  o.services[0].history->scale_events = {{kNow - 10, 0, 10}};
  d = decide(*make_hpa(b), o);
  CHECK(d.desired == 10);
  CHECK(d.rule == "scale_up policy Pods 4/15s");
}
