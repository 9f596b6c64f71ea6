// rl: the observation encoder against hand-computed values, the action mapping, and the safety wrapper around
// a policy (each fallback, the rate limits and bounds, the rule strings), with small hand-written policies in
// place of a network: what is tested is the wrapper.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <limits>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "controllers/rl/action.hpp"
#include "controllers/rl/features.hpp"
#include "controllers/rl/rl_controller.hpp"
#include "forecasters/torch/rl.hpp"

using namespace autoscale;
using namespace autoscale::rl;

namespace {

using V = MapParams::Value;
using Map = std::map<std::string, V>;
MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

FeatureScales scales() {
  FeatureScales s;
  s.rps_scale = 100;
  s.sla_latency_s = 0.5;
  s.max_instances = 10;
  s.queue_scale = 4;
  s.concurrency_scale = 4;
  return s;
}

Observation observation(double t_s = 21600) {
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 10;
  s.desired = 4;
  s.in_service = 4;
  s.metrics_valid = true;
  s.cpu_utilization = 0.5;
  s.arrival_rps = 30;
  s.completed_rps = 28;
  s.latency_p95_s = 0.25;
  s.queue_depth = 3;
  s.concurrency = 2;
  s.error_rate = 0.01;
  s.sample_age_s = 30;
  Observation o;
  o.time_s = t_s;
  o.services.push_back(s);
  return o;
}

// Answers a fixed action and remembers the observation it was shown.
class FixedPolicy : public Policy {
 public:
  FixedPolicy(double action, ActionSpace space, int size = FeatureEncoder::kBaseSize)
      : action_(action), space_(space), size_(size) {}
  double act(const std::vector<float>& obs) const override {
    ++calls;
    seen = obs;
    return action_;
  }
  int observation_size() const override { return size_; }
  ActionSpace action_space() const override { return space_; }
  mutable int calls = 0;
  mutable std::vector<float> seen;

 private:
  double action_;
  ActionSpace space_;
  int size_;
};

// A fallback that always answers 7 instances with its own rule.
class FixedFallback : public Controller {
 public:
  Decision decide(const Observation& obs) override {
    ++calls;
    Decision d;
    d.services.push_back({obs.services.at(0).name, 7, "cpu_utilization", 0.5, "fixed_fallback"});
    return d;
  }
  double interval_s() const override { return 15; }
  int calls = 0;
};

const ActionSpace kDiscrete{true, 2};
const ActionSpace kContinuous{false, 2};

// The training range: each feature's clip range, except arrival_rps, seen in [0, 0.5].
RlConfig config() {
  RlConfig c;
  c.service = "web";
  c.interval_s = 60;
  FeatureEncoder e("web", scales(), {});
  for (const auto& s : e.specs()) {
    c.feature_min.push_back(s.lo);
    c.feature_max.push_back(s.hi);
  }
  c.feature_max[1] = 0.5;
  return c;
}

struct Rig {
  std::shared_ptr<FixedPolicy> policy;
  FixedFallback* fallback;
  std::unique_ptr<RlController> controller;
};

Rig rig(double action, ActionSpace space = kDiscrete, RlConfig c = config()) {
  Rig r;
  r.policy = std::make_shared<FixedPolicy>(action, space);
  auto fb = std::make_unique<FixedFallback>();
  r.fallback = fb.get();
  r.controller = std::make_unique<RlController>(std::move(c), r.policy, FeatureEncoder("web", scales(), {}),
                                                std::move(fb));
  return r;
}

ServiceDecision decide(Rig& r, const Observation& o) {
  Decision d = r.controller->decide(o);
  REQUIRE(d.services.size() == 1);
  return d.services[0];
}

}  // namespace

TEST_CASE("rl features: each index holds its normalised input", "[rl_controller]") {
  FeatureEncoder e("web", scales(), {});
  Observation o = observation();
  auto& s = o.services[0];
  s.pending = 1;
  s.starting = 2;
  s.warming = 1;
  s.draining = 1;
  s.desired = 8;
  std::vector<float> x = e.encode(o);
  REQUIRE(x.size() == 20);
  REQUIRE(e.size() == 20);
  const std::vector<double> expected = {0.5,
                                        0.30,
                                        0.28,
                                        0.5,
                                        0.75,
                                        0.5,
                                        0.01,
                                        0.1,
                                        0.2,
                                        0.1,
                                        0.4,
                                        0.1,
                                        0.8,
                                        1,
                                        0.5,
                                        1.0,  // sin(2 pi 6 h / 24 h)
                                        0.0,  // cos
                                        0.22252093395631440,
                                        0.97492791218182360,  // pi / 14: 6 h of a week
                                        0};
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("feature " << i << " " << e.names()[i]);
    CHECK(x[i] == Approx(expected[i]).margin(1e-6));
  }
  auto names = e.names();
  CHECK(names[0] == "cpu_utilization");
  CHECK(names[3] == "latency_p95");
  CHECK(names[12] == "desired");
  CHECK(names[14] == "sample_age");
  CHECK(names[17] == "time_of_week_sin");
  CHECK(names[FeatureEncoder::kNonFinite] == "non_finite");
  CHECK(e.last_non_finite().empty());
}

TEST_CASE("rl features: clipped to their ranges; NaN is 0 and raises the flag", "[rl_controller]") {
  FeatureEncoder e("web", scales(), {});
  Observation o = observation();
  o.services[0].arrival_rps = 5000;  // 50 x rps_scale
  o.services[0].cpu_utilization = 9;
  o.services[0].latency_p95_s = kNaN;
  o.services[0].metrics_valid = false;
  std::vector<float> x = e.encode(o);
  CHECK(x[0] == 4.0f);
  CHECK(x[1] == 10.0f);
  CHECK(x[3] == 0.0f);
  CHECK(x[13] == 0.0f);
  CHECK(x[FeatureEncoder::kNonFinite] == 1.0f);
  REQUIRE(e.last_non_finite() == std::vector<std::string>{"latency_p95"});
  // The flag is per call.
  e.encode(observation());
  CHECK(e.last_non_finite().empty());
  Observation other = observation();
  other.services[0].name = "db";
  CHECK_THROWS_AS(e.encode(other), InputError);
}

TEST_CASE("rl features: the forecast block feeds the forecaster one rate per call", "[rl_controller]") {
  FeatureOptions opt;
  opt.forecast = true;
  opt.forecast_horizons_steps = {1, 5};
  CHECK_THROWS_AS(FeatureEncoder("web", scales(), opt), InputError);
  MapParams none;
  FeatureEncoder e("web", scales(), opt, forecast::make_forecaster("naive", none));
  REQUIRE(e.size() == 22);
  CHECK(e.names()[20] == "forecast_h1");
  CHECK(e.names()[21] == "forecast_h5");
  // Nothing observed yet (invalid metrics): the observed rate stands in.
  Observation o = observation(60);
  o.services[0].metrics_valid = false;
  o.services[0].arrival_rps = 20;
  auto x = e.encode(o);
  CHECK(x[20] == Approx(0.2));
  // naive: the last observed rate at every horizon.
  o = observation(120);
  o.services[0].arrival_rps = 40;
  x = e.encode(o);
  CHECK(x[20] == Approx(0.4));
  CHECK(x[21] == Approx(0.4));
  o = observation(180);
  o.services[0].arrival_rps = 60;
  x = e.encode(o);
  CHECK(x[21] == Approx(0.6));
}

TEST_CASE("rl features: scales, options and the record round-trip through JSON", "[rl_controller]") {
  FeatureScales s = scales();
  FeatureScales back = FeatureScales::from_json(s.to_json(), "model.json");
  CHECK(back.rps_scale == 100);
  CHECK(back.sla_latency_s == 0.5);
  CHECK(back.queue_scale == 4);
  nlohmann::json j = s.to_json();
  j.erase("sla_latency_s");
  try {
    FeatureScales::from_json(j, "model.json");
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.file() == "model.json");
    CHECK(e.field() == "features.scales.sla_latency_s");
  }
  j = s.to_json();
  j["rps_scale"] = 0;
  CHECK_THROWS_AS(FeatureScales::from_json(j, "model.json"), InputError);

  FeatureOptions o;
  o.day_s = 3600;
  o.forecast = true;
  o.forecast_horizons_steps = {2, 4};
  FeatureOptions ob = FeatureOptions::from_json(o.to_json(), "m");
  CHECK(ob.day_s == 3600);
  CHECK(ob.forecast);
  CHECK(ob.forecast_horizons_steps == std::vector<int>{2, 4});

  FeatureRecord r;
  FeatureEncoder e("web", s, {});
  r.names = e.names();
  r.scales = s;
  r.feature_min.assign(20, 0.0);
  r.feature_max.assign(20, 1.0);
  FeatureRecord rb = FeatureRecord::from_json(r.to_json(), "m");
  CHECK(rb.names == r.names);
  CHECK(rb.feature_max == r.feature_max);
  nlohmann::json bad = r.to_json();
  bad["feature_min"] = std::vector<double>(3, 0.0);
  CHECK_THROWS_AS(FeatureRecord::from_json(bad, "m"), InputError);
}

TEST_CASE("rl actions: discrete index -> delta, continuous fraction -> round(f x max), clamped",
          "[rl_controller]") {
  ActionSpace d{true, 2};
  REQUIRE(d.size() == 5);
  CHECK(apply_action(d, 0, 5, 1, 10) == 3);
  CHECK(apply_action(d, 2, 5, 1, 10) == 5);
  CHECK(apply_action(d, 4, 5, 1, 10) == 7);
  CHECK(apply_action(d, 4, 9, 1, 10) == 10);  // clamped at max
  CHECK(apply_action(d, 0, 2, 1, 10) == 1);   // clamped at min
  ActionSpace c{false, 2};
  CHECK(apply_action(c, 0.55, 3, 1, 10) == 6);  // 5.5 rounds half away from zero
  CHECK(apply_action(c, 0.34, 3, 1, 10) == 3);
  CHECK(apply_action(c, 0.0, 3, 1, 10) == 1);
  CHECK(apply_action(c, 1.0, 3, 1, 10) == 10);
  CHECK(apply_action(c, kNaN, 3, 1, 10) == 3);

  CHECK(action_problem(d, 3).empty());
  CHECK(action_problem(d, kNaN) == "nan");
  CHECK(action_problem(d, std::numeric_limits<double>::infinity()) == "nan");
  CHECK(action_problem(d, 2.5) == "not_an_index");
  CHECK(action_problem(d, 5) == "outside_space");
  CHECK(action_problem(d, -1) == "outside_space");
  CHECK(action_problem(c, 1.0).empty());
  CHECK(action_problem(c, 1.01) == "outside_space");
  CHECK(action_problem(c, -0.1) == "outside_space");
  CHECK(valid_action(c, 0.5));
  CHECK_FALSE(valid_action(c, kNaN));
}

TEST_CASE("rl: a normal decision passes the policy's action through", "[rl_controller]") {
  Rig r = rig(3);  // +1
  Observation o = observation();
  ServiceDecision d = decide(r, o);
  CHECK(d.desired == 5);
  CHECK(d.rule == "rl");
  CHECK(d.diagnostics.at("raw_action") == 3);
  CHECK(d.diagnostics.at("policy_desired") == 5);
  CHECK(d.diagnostics.at("fallback_desired") == 7);
  CHECK(d.diagnostics.at("needed_instances") == 2);  // ceil(0.5 x 4 ready)
  CHECK(d.diagnostic_strings.at("fallback_rule") == "fixed_fallback");
  // The policy saw the encoder's vector; the fallback decided too (kept current) but was not used.
  FeatureEncoder e("web", scales(), {});
  CHECK(r.policy->seen == e.encode(o));
  CHECK(r.fallback->calls == 1);
  CHECK(r.controller->interval_s() == 60);
}

TEST_CASE("rl: invalid metrics hand the decision to the fallback", "[rl_controller]") {
  Rig r = rig(3);
  Observation o = observation();
  o.services[0].metrics_valid = false;
  ServiceDecision d = decide(r, o);
  CHECK(d.rule == "fallback:invalid_metrics");
  CHECK(d.desired == 7);
  CHECK(d.metric == "cpu_utilization");
  CHECK(r.policy->calls == 0);
}

TEST_CASE("rl: a NaN in the observation hands the decision to the fallback", "[rl_controller]") {
  Rig r = rig(3);
  Observation o = observation();
  o.services[0].latency_p95_s = kNaN;
  ServiceDecision d = decide(r, o);
  CHECK(d.rule == "fallback:non_finite:latency_p95");
  CHECK(d.desired == 7);
  CHECK(r.policy->calls == 0);
}

TEST_CASE("rl: an observation outside the training range names the feature and falls back",
          "[rl_controller]") {
  Rig r = rig(3);
  Observation o = observation();
  o.services[0].arrival_rps = 55;  // 0.55: outside [0, 0.5] but within the 0.1 margin
  CHECK(decide(r, o).rule == "rl");
  o.services[0].arrival_rps = 65;  // 0.65 > 0.5 + 0.1
  ServiceDecision d = decide(r, o);
  CHECK(d.rule == "fallback:out_of_range:arrival_rps");
  CHECK(d.desired == 7);
  CHECK(d.diagnostics.at("arrival_rps") == Approx(0.65));
  CHECK(d.diagnostics.at("feature_max") == Approx(0.5));
  // Exempt from the check: the policy decides.
  RlConfig c = config();
  c.safety.unchecked_features = {"arrival_rps"};
  Rig exempt = rig(3, kDiscrete, c);
  CHECK(decide(exempt, o).rule == "rl");
  // A margin of 0: the edge of the range itself is allowed, 0.55 is not.
  c = config();
  c.safety.out_of_range_margin = 0;
  Rig tight = rig(3, kDiscrete, c);
  o.services[0].arrival_rps = 50;
  CHECK(decide(tight, o).rule == "rl");
  o.services[0].arrival_rps = 55;
  CHECK(decide(tight, o).rule == "fallback:out_of_range:arrival_rps");
}

TEST_CASE("rl: absurd actions fall back and say why", "[rl_controller]") {
  SECTION("NaN") {
    Rig r = rig(kNaN);
    ServiceDecision d = decide(r, observation());
    CHECK(d.rule == "fallback:absurd:nan");
    CHECK(d.desired == 7);
    CHECK(d.diagnostics.count("raw_action") == 0);
  }
  SECTION("outside the action space") {
    Rig r = rig(7);
    ServiceDecision d = decide(r, observation());
    CHECK(d.rule == "fallback:absurd:outside_space");
    CHECK(d.desired == 7);
    CHECK(d.diagnostics.at("raw_action") == 7);
  }
  SECTION("not an index") {
    Rig r = rig(1.5);
    CHECK(decide(r, observation()).rule == "fallback:absurd:not_an_index");
  }
  SECTION("a continuous fraction above 1") {
    Rig r = rig(1.2, kContinuous);
    CHECK(decide(r, observation()).rule == "fallback:absurd:outside_space");
  }
  SECTION("below what carries the current load at 100 % CPU") {
    Rig r = rig(0);  // 4 - 2 = 2 instances
    Observation o = observation();
    o.services[0].cpu_utilization = 0.8;  // 0.8 x 4 ready = 3.2: 4 instances needed
    ServiceDecision d = decide(r, o);
    CHECK(d.rule == "fallback:absurd:below_load");
    CHECK(d.desired == 7);
    CHECK(d.diagnostics.at("needed_instances") == 4);
    CHECK(d.diagnostics.at("policy_desired") == 2);
    // 0.5 x 4 = 2 needed: the same action is fine.
    o.services[0].cpu_utilization = 0.5;
    CHECK(decide(r, o).rule == "rl");
    // The check can be turned off.
    RlConfig c = config();
    c.safety.check_load = false;
    Rig off = rig(0, kDiscrete, c);
    o.services[0].cpu_utilization = 0.8;
    ServiceDecision od = decide(off, o);
    CHECK(od.rule == "rl");
    CHECK(od.desired == 2);
  }
}

TEST_CASE("rl: rate limits and safety bounds clamp the policy's count", "[rl_controller]") {
  RlConfig c = config();
  c.safety.max_step_up = 2;
  c.safety.max_step_down = 1;
  Rig up = rig(1.0, kContinuous, c);  // 10 instances from 4
  ServiceDecision d = decide(up, observation());
  CHECK(d.desired == 6);
  CHECK(d.rule == "rl,rate_limited_up");
  CHECK(d.diagnostics.at("policy_desired") == 10);

  Rig down = rig(0.0, kContinuous, c);  // the service's min, 1, from 4
  Observation o = observation();
  o.services[0].cpu_utilization = 0.1;  // 0.4 instances of load
  d = decide(down, o);
  CHECK(d.desired == 3);
  CHECK(d.rule == "rl,rate_limited_down");

  c = config();
  c.safety.max_instances = 5;
  c.safety.min_instances = 2;
  Rig bounded = rig(4, kDiscrete, c);  // +2: 6
  d = decide(bounded, observation());
  CHECK(d.desired == 5);
  CHECK(d.rule == "rl,max_instances");
  // A fallback decision (7) is kept within the safety bounds too.
  o = observation();
  o.services[0].metrics_valid = false;
  d = decide(bounded, o);
  CHECK(d.desired == 5);
  CHECK(d.rule == "fallback:invalid_metrics");
  Rig low = rig(0.0, kContinuous, c);
  o = observation();
  o.services[0].cpu_utilization = 0.1;
  d = decide(low, o);
  CHECK(d.desired == 2);
  CHECK(d.rule == "rl,min_instances");
}

TEST_CASE("rl: a policy over another observation size is refused", "[rl_controller]") {
  auto policy = std::make_shared<FixedPolicy>(2, kDiscrete, 19);
  CHECK_THROWS_AS(
      RlController(config(), policy, FeatureEncoder("web", scales(), {}), std::make_unique<FixedFallback>()),
      InputError);
  auto ok = std::make_shared<FixedPolicy>(2, kDiscrete);
  CHECK_THROWS_AS(RlController(config(), ok, FeatureEncoder("web", scales(), {}), nullptr), InputError);
}

namespace {

// A loader handing out a fixed policy with a model.json of this build's features.
LoadedPolicy fake_load(const std::string& ref, const std::string&, double action, double interval_s = 60) {
  if (ref != "scaler@1") throw InputError("", 0, "", "no model named " + ref);
  FeatureEncoder e("web", scales(), {});
  FeatureRecord r;
  r.names = e.names();
  r.scales = scales();
  r.options.interval_s = interval_s;
  for (const auto& s : e.specs()) {
    r.feature_min.push_back(s.lo);
    r.feature_max.push_back(s.hi);
  }
  return {std::make_unique<FixedPolicy>(action, kDiscrete), {{"features", r.to_json()}}};
}

Map threshold_fallback() {
  return {{"kind", std::string("threshold")},
          {"scale_out_above", 0.7},
          {"scale_in_below", 0.3},
          {"interval_s", 60.0}};
}

}  // namespace

TEST_CASE("rl: built from its section with a loader, the fallback through the registry", "[rl_controller]") {
  ControllerContext ctx{{"web", "db"}};
  PolicyLoader loader = [](const std::string& ref, const std::string& dir) { return fake_load(ref, dir, 4); };
  MapParams p({{"model", std::string("scaler@1")},
               {"safety", table({{"max_step_up", 1L}, {"out_of_range_margin", 0.05}})},
               {"fallback", table(threshold_fallback())}});
  auto c = make_rl_controller(p, ctx, loader);
  CHECK(c->interval_s() == 60);
  Decision d = c->decide(observation());
  REQUIRE(d.services.size() == 1);
  CHECK(d.services[0].service == "web");
  CHECK(d.services[0].desired == 5);  // +2, limited to +1
  CHECK(d.services[0].rule == "rl,rate_limited_up");
  // The fallback is the threshold controller: cpu 0.9 > 0.7 is one more instance.
  Observation o = observation();
  o.services[0].metrics_valid = false;
  d = c->decide(o);
  CHECK(d.services[0].rule == "fallback:invalid_metrics");
  CHECK(d.services[0].diagnostic_strings.at("fallback_rule") == "no_metrics");
  CHECK(d.services[0].desired == 4);
  o = observation();
  o.services[0].cpu_utilization = 0.9;
  o.services[0].latency_p95_s = kNaN;
  d = c->decide(o);
  CHECK(d.services[0].rule == "fallback:non_finite:latency_p95");
  CHECK(d.services[0].desired == 5);
  CHECK(d.services[0].diagnostic_strings.at("fallback_rule") == "scale_out_above");
}

TEST_CASE("rl: section errors name the key", "[rl_controller]") {
  ControllerContext ctx{{"web"}};
  PolicyLoader loader = [](const std::string& ref, const std::string& dir) { return fake_load(ref, dir, 2); };
  auto field_of = [&](Map m) {
    MapParams p(std::move(m));
    try {
      make_rl_controller(p, ctx, loader);
    } catch (const InputError& e) {
      return e.field();
    }
    return std::string("no error");
  };
  Map ok{{"model", std::string("scaler@1")}, {"fallback", table(threshold_fallback())}};
  CHECK(field_of(ok) == "no error");
  Map m = ok;
  m.erase("fallback");
  CHECK(field_of(m) == "fallback");
  m = ok;
  m["model"] = std::string("other@2");
  CHECK(field_of(m) == "model");
  m = ok;
  m["service"] = std::string("nope");
  CHECK(field_of(m) == "service");
  m = ok;
  m["interval_s"] = 30.0;  // trained at 60 s
  CHECK(field_of(m) == "interval_s");
  m = ok;
  m["safety"] = table({{"unchecked_features", std::vector<std::string>{"arrival"}}});
  CHECK(field_of(m) == "unchecked_features");
  m = ok;
  m["safety"] = table({{"max_step_down", 0L}});
  CHECK(field_of(m) == "max_step_down");
  m = ok;
  m["safety"] = table({{"min_instances", 5L}, {"max_instances", 3L}});
  CHECK(field_of(m) == "max_instances");
  m = ok;
  m["fallback"] = table({{"kind", std::string("rl")}});
  CHECK(field_of(m) == "kind");
  // Through the registry, the LibTorch loader: a reference to no model is an InputError on `model` (naming
  // the registry), never a stand-in policy.
  Map reg_keys = ok;
  reg_keys["models_dir"] = std::string("/nonexistent/rl-controller-test-models");
  MapParams reg(reg_keys);
  try {
    make_controller("rl", reg, ctx);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(e.field() == "model");
    CHECK_THAT(e.message(), Catch::Contains("/nonexistent/rl-controller-test-models"));
  }
}

TEST_CASE("rl: a LibTorch policy from the registry decides as it does alone", "[rl_controller]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("rl-controller-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  FeatureEncoder e("web", scales(), {});
  FeatureRecord r;
  r.names = e.names();
  r.scales = scales();
  for (const auto& s : e.specs()) {
    r.feature_min.push_back(s.lo);
    r.feature_max.push_back(s.hi);
  }
  TrainConfig tc;
  tc.hidden = {8};
  Learner learner(tc, e.size(), kDiscrete);
  save_policy(dir.string(), "scaler", learner, {{"features", r.to_json()}});

  Map keys{{"model", std::string("scaler@1")},
           {"models_dir", dir.string()},
           {"safety", table({{"check_load", false}})},
           {"fallback", table(threshold_fallback())}};
  MapParams p(keys);
  auto c = make_controller("rl", p, ControllerContext{{"web"}});
  Observation o = observation();
  Decision d = c->decide(o);
  REQUIRE(d.services.size() == 1);
  CHECK(d.services[0].rule == "rl");

  // The same artifact loaded directly: the action the controller reported, and the count it maps to.
  LoadedPolicy alone = load_policy("scaler@1", dir.string());
  const double action = alone.policy->act(e.encode(o));
  CHECK(d.services[0].diagnostics.at("raw_action") == action);
  CHECK(d.services[0].desired == apply_action(kDiscrete, action, 4, 1, 10));
  fs::remove_all(dir);
}
