// The Knative Pod Autoscaler, decider and reconciler, on hand-made observations: upstream's
// autoscaler_test.go sequences (knative/serving pkg/autoscaler/scaling) and the reconciler's scale-to-zero
// path, without an engine.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

Observation kobs(double t, int ready, double stable, double panic) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.max_instances = 1000;
  s.desired = ready;
  s.in_service = ready;
  s.metrics_valid = true;
  s.stable_value = stable;
  s.panic_value = panic;
  o.services.push_back(s);
  return o;
}

// Upstream's test autoscaler: target per pod, total = target / 0.75, panic at 200 %, rates 10.
std::map<std::string, MapParams::Value> upstream_settings(double target, double tbc) {
  return {{"target", target},       {"totalValue", target / 0.75}, {"targetBurstCapacity", tbc},
          {"maxScaleUpRate", 10.0}, {"maxScaleDownRate", 10.0},    {"panicThresholdPercentage", 200.0},
          {"stableWindow", 60.0},   {"activatorCapacity", 150.0}};
}

std::unique_ptr<Controller> make(std::map<std::string, MapParams::Value> values, bool reconciler = false) {
  values["reconciler"] = reconciler;
  MapParams p(std::move(values));
  return make_controller("kpa", p, ControllerContext{{"web"}});
}

ServiceDecision step(Controller& c, const Observation& o) {
  return c.decide(o).services.at(0);
}

// Upstream's tests create the autoscaler with one ready pod, then change the count.
Observation created_with_one_pod(Observation o) {
  o.services[0].history = ControllerHistory{};
  o.services[0].history->created_at_s = o.time_s;
  o.services[0].history->ready_pods_at_creation = 1;
  return o;
}

int ebc(double target, double tbc, double panic, int pods) {
  return static_cast<int>(std::floor(pods * (target / 0.75) - tbc - panic));
}
}  // namespace

TEST_CASE("kpa: stable mode scales to ceil(stable / target), within the rates", "[controller][kpa]") {
  auto c = make(upstream_settings(10, 100));
  auto d = step(*c, kobs(2, 1, 50, 10));
  CHECK(d.desired == 5);
  CHECK(d.rule == "stable");
  CHECK(d.metric == "concurrency");
  CHECK(d.metric_value == 50);
  CHECK(d.diagnostic_flags.at("scale_valid"));
  CHECK(!d.diagnostic_flags.at("panic"));
  CHECK(d.diagnostics.at("excess_burst_capacity") == ebc(10, 100, 10, 1));

  // TestAutoscalerRateLimitScaleUp / ScaleDown: at most x10 up, /10 down per tick.
  auto up = make(upstream_settings(10, 61));
  d = step(*up, kobs(2, 1, 1000, 1001));
  CHECK(d.desired == 10);
  CHECK(d.rule == "max_scale_up_rate");
  CHECK(step(*up, kobs(4, 10, 1000, 1001)).desired == 100);
  auto down = make(upstream_settings(10, 61));
  d = step(*down, created_with_one_pod(kobs(2, 100, 1, 1)));
  CHECK(d.desired == 10);
  CHECK(d.rule == "max_scale_down_rate");
  CHECK(step(*down, kobs(4, 10, 1, 1)).desired == 1);
}

TEST_CASE("kpa: panic on a burst, no scale-down while panicking, stable again a window later",
          "[controller][kpa]") {
  // TestAutoscalerPanicThenUnPanicScaleDown.
  auto c = make(upstream_settings(10, 93));
  CHECK(step(*c, kobs(0, 1, 100, 100)).desired == 10);
  auto d = step(*c, kobs(2, 10, 100, 1000));
  CHECK(d.desired == 100);
  CHECK(d.rule == "panic");
  CHECK(d.diagnostic_flags.at("panic"));
  CHECK(d.metric_value == 1000);
  // Traffic drops: still panicking, the count holds.
  d = step(*c, kobs(32, 10, 1, 1));
  CHECK(d.desired == 100);
  CHECK(d.rule == "panic_hold");
  CHECK(d.diagnostic_flags.at("panic"));
  // A stable window after the threshold was last met (at 2 s): panic ends and the count falls.
  d = step(*c, kobs(62, 10, 1, 1));
  CHECK(d.desired == 100);  // 2 + 60 is not before 62
  d = step(*c, kobs(63, 10, 1, 1));
  CHECK(d.desired == 1);
  CHECK(d.rule == "stable");
  CHECK(!d.diagnostic_flags.at("panic"));
}

TEST_CASE("kpa: a KPA created with more than one ready pod starts in panic", "[controller][kpa]") {
  // TestStartInPanicMode: it holds the current scale until the windows fill again.
  auto c = make(upstream_settings(10, 100));
  auto d = step(*c, kobs(0, 5, 10, 10));
  CHECK(d.desired == 5);
  CHECK(d.diagnostic_flags.at("panic"));
  CHECK(step(*c, kobs(61, 5, 10, 10)).desired == 1);
}

TEST_CASE("kpa: scale-down delay keeps the maximum of the delay window", "[controller][kpa]") {
  // TestAutoscalerScaleDownDelay: no ready pods, the delay is five minutes.
  auto c = make({{"target", 10.0},
                 {"maxScaleUpRate", 10.0},
                 {"maxScaleDownRate", 10.0},
                 {"panicThresholdPercentage", 10000.0},
                 {"scaleDownDelay", 300.0}});
  CHECK(step(*c, kobs(2, 0, 40, 40)).desired == 4);
  auto d = step(*c, kobs(300, 0, 0, 0));
  CHECK(d.desired == 4);
  CHECK(d.rule == "scale_down_delay");
  CHECK(step(*c, kobs(302, 0, 0, 0)).desired == 0);
  // Gradual: 4 then 3 scroll out of the window in turn.
  CHECK(step(*c, kobs(540, 0, 40, 40)).desired == 4);
  CHECK(step(*c, kobs(600, 0, 30, 30)).desired == 4);
  CHECK(step(*c, kobs(660, 0, 0, 0)).desired == 4);
  CHECK(step(*c, kobs(840, 0, 0, 0)).desired == 3);
  CHECK(step(*c, kobs(900, 0, 0, 0)).desired == 0);
}

TEST_CASE("kpa: excess burst capacity by target burst capacity", "[controller][kpa]") {
  auto tbc0 = make(upstream_settings(10, 0));
  CHECK(step(*tbc0, kobs(2, 1, 50, 49)).diagnostics.at("excess_burst_capacity") == 0);
  auto unlimited = make(upstream_settings(181, -1));
  auto d = step(*unlimited, kobs(2, 1, 21, 26));
  CHECK(d.desired == 1);
  CHECK(d.diagnostics.at("excess_burst_capacity") == -1);
  auto positive = make(upstream_settings(10, 98));
  CHECK(step(*positive, kobs(2, 8, 100, 100)).diagnostics.at("excess_burst_capacity") == ebc(10, 98, 100, 8));
}

TEST_CASE("kpa: activation scale, and no decision without metrics or a pod count", "[controller][kpa]") {
  auto settings = upstream_settings(10, 75);
  settings["activationScale"] = 2L;
  auto c = make(settings);
  CHECK(step(*c, kobs(2, 1, 0, 0)).desired == 0);
  auto d = step(*c, kobs(4, 1, 1, 0));
  CHECK(d.desired == 2);
  CHECK(d.rule == "activation_scale");

  auto invalid = make(upstream_settings(10, 100));
  Observation o = kobs(2, 3, 1000, 1000);
  o.services[0].metrics_error = true;
  d = step(*invalid, o);
  CHECK(d.desired == 3);  // the count stays
  CHECK(!d.diagnostic_flags.at("scale_valid"));
  CHECK(d.rule == "no_metrics");
  o = kobs(4, 3, 1000, 1000);
  o.services[0].ready_pods_error = true;
  CHECK(step(*invalid, o).rule == "no_ready_pod_count");
  o = kobs(6, 3, kNaN, kNaN);  // nothing observed and no sample of its own yet
  o.services[0].metrics_valid = false;
  CHECK(!step(*invalid, o).diagnostic_flags.at("scale_valid"));
}

TEST_CASE("kpa: the reconciler scales to zero only after a stable window active and the grace period",
          "[controller][kpa]") {
  // No burst capacity required: the activator leaves the path while pods are wanted, so the grace period runs
  // from the moment the PA turns inactive.
  auto c = make({{"target", 10.0}, {"targetBurstCapacity", 0.0}}, true);
  auto d = step(*c, kobs(2, 1, 5, 5));
  CHECK(d.desired == 1);
  CHECK(!d.diagnostic_flags.at("activator_in_path"));
  // Traffic stops: the decider wants 0, the active PA holds one pod for a stable window.
  d = step(*c, kobs(4, 1, 0, 0));
  CHECK(d.diagnostics.at("desired_pod_count") == 0);
  CHECK(d.desired == 1);
  CHECK(d.rule == "scale_to_zero_grace");
  CHECK(step(*c, kobs(60, 1, 0, 0)).desired == 1);
  // Active since 2 s for 60 s: the PA turns inactive (nothing applied), the activator enters the path.
  d = step(*c, kobs(62, 1, 0, 0));
  CHECK(d.desired == 1);
  CHECK(d.diagnostic_flags.at("activator_in_path"));
  CHECK(step(*c, kobs(90, 1, 0, 0)).desired == 1);
  d = step(*c, kobs(92, 1, 0, 0));
  CHECK(d.desired == 0);
  CHECK(d.rule == "scale_to_zero");
  // Traffic again: the decider wants a pod and the reconciler applies it at once.
  d = step(*c, kobs(94, 0, 3, 3));
  CHECK(d.desired == 1);
}

TEST_CASE("kpa: behind the activator for the grace period already, zero comes as soon as the PA is inactive",
          "[controller][kpa]") {
  // Default burst capacity 211 > one pod's 100: negative excess capacity keeps the activator in the path.
  auto c = make({{"target", 10.0}}, true);
  CHECK(step(*c, kobs(2, 1, 5, 5)).diagnostic_flags.at("activator_in_path"));
  CHECK(step(*c, kobs(4, 1, 0, 0)).desired == 1);
  CHECK(step(*c, kobs(62, 1, 0, 0)).desired == 1);  // turns inactive
  CHECK(step(*c, kobs(64, 1, 0, 0)).desired == 0);
}

TEST_CASE("kpa: the reconciler's min, max and initial scale", "[controller][kpa]") {
  auto c = make({{"target", 10.0}, {"minScale", 2L}, {"maxScale", 8L}, {"initialScale", 5L}}, true);
  auto d = step(*c, kobs(2, 1, 10, 10));
  CHECK(d.desired == 5);  // the target has not reached its initial scale yet
  CHECK(d.rule == "initial_scale");
  CHECK(step(*c, kobs(4, 5, 10, 10)).desired == 5);  // reached now: it counts from the next reconcile
  d = step(*c, kobs(6, 2, 10, 10));
  CHECK(d.desired == 2);
  CHECK(d.rule == "min_scale");
  d = step(*c, kobs(8, 5, 300, 300));
  CHECK(d.desired == 8);
  CHECK(d.rule == "max_scale");
  auto unreachable = make({{"target", 10.0}, {"minScale", 2L}, {"reachable", false}}, true);
  step(*unreachable, kobs(2, 1, 10, 10));
  step(*unreachable, kobs(4, 1, 0, 0));
  step(*unreachable, kobs(62, 1, 0, 0));
  CHECK(step(*unreachable, kobs(64, 1, 0, 0)).desired == 0);  // no minScale for an unreachable revision
}

TEST_CASE("kpa: without observed window values it averages its own samples", "[controller][kpa]") {
  auto c = make({{"target", 1.0}, {"panicThresholdPercentage", 10000.0}});
  auto sample = [](double t, int ready, double concurrency, double queue) {
    Observation o = kobs(t, ready, kNaN, kNaN);
    o.services[0].concurrency = concurrency;
    o.services[0].queue_depth = queue;
    return o;
  };
  auto d = step(*c, sample(2, 2, 3, 1));  // 2 pods x 4 requests
  CHECK(d.diagnostics.at("observed_stable_value") == 8);
  CHECK(d.desired == 8);
  d = step(*c, sample(4, 2, 1, 0));
  CHECK(d.diagnostics.at("observed_stable_value") == 5);
  CHECK(d.diagnostics.at("observed_panic_value") == 5);
  d = step(*c, sample(10, 2, 1, 0));  // the panic window (6 s) holds only this sample
  CHECK(d.diagnostics.at("observed_stable_value") == 4);
  CHECK(d.diagnostics.at("observed_panic_value") == 2);
  d = step(*c, sample(64, 2, 1, 0));  // the 8 has left the stable window
  CHECK(d.diagnostics.at("observed_stable_value") == 2);
  Observation none = sample(66, 2, 1, 0);
  none.services[0].metrics_valid = false;
  CHECK_FALSE(step(*c, none).diagnostic_flags.at("scale_valid"));
}

TEST_CASE("kpa: a settings update applies from the next tick, keeping the panic state", "[controller][kpa]") {
  // TestAutoscalerUpdateTarget.
  auto c = make(upstream_settings(10, 77));
  CHECK(step(*c, kobs(0, 1, 100, 101)).desired == 10);
  MapParams changes({{"target", 1.0},
                     {"totalValue", 1 / 0.75},
                     {"activatorCapacity", 21.0},
                     {"targetBurstCapacity", 71.0},
                     {"reachable", false}});
  c->update(changes);
  auto d = step(*c, kobs(2, 10, 100, 101));
  CHECK(d.desired == 100);
  CHECK(d.diagnostics.at("excess_burst_capacity") == ebc(1, 71, 101, 10));
}

TEST_CASE("kpa: settings upstream rejects are bad input", "[controller][kpa]") {
  auto bad = [](std::map<std::string, MapParams::Value> v) {
    MapParams p(std::move(v));
    CHECK_THROWS_AS(make_controller("kpa", p, ControllerContext{{"web"}}), InputError);
  };
  bad({{"activationScale", 1L}});
  bad({{"targetBurstCapacity", -2.0}});
  bad({{"scalingMetric", std::string("cpu")}});
  bad({{"minScale", 5L}, {"maxScale", 3L}});
  bad({{"activationScale", 4L}, {"maxScale", 3L}});
  bad({{"stableWindow", 60.5}});
}
