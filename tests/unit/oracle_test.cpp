// The oracle on a hand-made future: a fake Foresight with a piecewise-constant rate and given startup
// samples. Every expected tick is worked by hand in a comment.
#include <catch2/catch.hpp>
#include <map>
#include <vector>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {
// rate(t) = the value of the last breakpoint at or before t; startups by launch index (the last one
// repeats). `launched` shifts the index, as the fleet's launches consume samples.
class FakeForesight : public Foresight {
 public:
  FakeForesight(std::map<double, double> rate, std::vector<double> startups)
      : rate_(std::move(rate)), startups_(std::move(startups)) {}
  double peak_rps(const std::string& service, double t0, double t1) override {
    CHECK(service == "web");
    double peak = 0;
    for (auto it = rate_.begin(); it != rate_.end(); ++it) {
      auto next = std::next(it);
      double from = it->first, to = next == rate_.end() ? 1e300 : next->first;
      if (from < t1 && to > t0) peak = std::max(peak, it->second);
    }
    return peak;
  }
  double startup_s(const std::string&, int k) override {
    size_t i = static_cast<size_t>(launched + k);
    return startups_[std::min(i, startups_.size() - 1)];
  }
  double capacity_rps(const std::string& service) override {
    CHECK(service == "web");
    return capacity;
  }
  int launched = 0;
  double capacity = 0;  // what one fully busy instance serves (0: unknown)

 private:
  std::map<double, double> rate_;
  std::vector<double> startups_;
};

Observation obs(double t, int desired) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 40;
  s.desired = desired;
  s.in_service = desired;
  o.services.push_back(s);
  return o;
}

// Without rps_per_instance: sized from the foresight's capacity.
std::unique_ptr<Controller> make_derived(std::map<std::string, MapParams::Value> v = {}) {
  MapParams p(v);
  auto c = make_controller("oracle", p, ControllerContext{{"web"}});
  p.finish();
  return c;
}

std::unique_ptr<Controller> make(std::map<std::string, MapParams::Value> v = {}) {
  if (!v.count("rps_per_instance")) v["rps_per_instance"] = 50.0;
  return make_derived(std::move(v));
}

const ServiceDecision& only(const Decision& d) {
  REQUIRE(d.services.size() == 1);
  return d.services[0];
}

// Runs the controller every 60 s over [60, until] as the engine would (the desired count carries over, each
// launch consumes a startup sample) and returns the desired count after each tick.
std::map<double, int> drive(Controller& c, FakeForesight& f, int initial, double until) {
  std::map<double, int> out;
  int desired = initial;
  for (double t = 60; t <= until; t += 60) {
    int want = only(c.decide(obs(t, desired))).desired;
    if (want > desired) f.launched += want - desired;
    desired = want;
    out[t] = desired;
  }
  return out;
}
}  // namespace

TEST_CASE("oracle: a step at 600 s with a 120 s startup is ordered at 480 s, not before", "[oracle]") {
  // 100 rps (2 instances at 50 rps each) until 600, then 300 rps (6). At tick T the next launch would be
  // ready at T + 120, or at T + 180 if left to the next tick: at 420 the window [420, 600) needs 2; at 480
  // [480, 660) reaches the step: 4 more now, ready at 600 exactly.
  FakeForesight f({{0, 100}, {600, 300}}, {120});
  auto c = make();
  c->set_foresight(f);
  auto counts = drive(*c, f, 2, 900);
  CHECK(counts.at(420) == 2);
  CHECK(counts.at(480) == 6);
  CHECK(counts.at(540) == 6);
  CHECK(counts.at(900) == 6);
}

TEST_CASE("oracle: the decision's rule, metric and diagnostics", "[oracle]") {
  FakeForesight f({{0, 100}, {600, 300}}, {120});
  auto c = make({{"interval_s", 60.0}});
  c->set_foresight(f);
  auto hold = only(c->decide(obs(420, 2)));
  CHECK(hold.rule == "foresight_hold");
  CHECK(hold.metric == "arrival_rps_peak");
  CHECK(hold.metric_value == 100);
  CHECK(hold.diagnostics.at("need_now") == 2);
  CHECK(hold.diagnostics.at("startup_s") == 120);
  CHECK(hold.diagnostics.at("horizon_s") == 180);
  CHECK(!hold.diagnostic_flags.at("late"));
  auto out = only(c->decide(obs(480, 2)));
  CHECK(out.rule == "foresight_out");
  CHECK(out.desired == 6);
  CHECK(out.metric_value == 300);
  // Too late for the step: at 600 it needs 6 and has 2.
  auto late = only(c->decide(obs(600, 2)));
  CHECK(late.diagnostic_flags.at("late"));
  CHECK(late.desired == 6);
}

TEST_CASE("oracle: it scales in when the drop comes, not before", "[oracle]") {
  // 300 rps (6) until 1200, then 100 (2). A replacement launched at the next tick would be ready 180 s after
  // this one: at 1140 the window [1140, 1320) still has 300; at 1200 [1200, 1380) has 100 only.
  FakeForesight f({{0, 300}, {1200, 100}}, {120});
  auto c = make();
  c->set_foresight(f);
  auto counts = drive(*c, f, 6, 1500);
  CHECK(counts.at(1140) == 6);
  CHECK(counts.at(1200) == 2);
  CHECK(counts.at(1500) == 2);
}

TEST_CASE("oracle: it keeps instances through a dip shorter than a replacement's startup", "[oracle]") {
  // 300 rps over [0, 700) and from 800 on, 100 in between. At 720 the dip is on, but an instance let go now
  // could only be needed back by 800, before the next tick's launch (720 + 60 + 120 = 900) could be ready:
  // it keeps 6. Never in and back out.
  FakeForesight f({{0, 300}, {700, 100}, {800, 300}}, {120});
  auto c = make();
  c->set_foresight(f);
  auto counts = drive(*c, f, 6, 1200);
  for (const auto& [t, n] : counts) {
    INFO("t = " << t);
    CHECK(n == 6);
  }
  // A 10 s startup and a dip over [700, 900): at 720 an instance let go is not needed before the launch of
  // the tick after next could be ready (720 + 120 + 10 = 850 < 900), so it scales in; at 780 it would be
  // (910): it holds 2, and at 840 it launches 4, ready at 850, before the rise.
  FakeForesight quick({{0, 300}, {700, 100}, {900, 300}}, {10});
  auto q = make();
  q->set_foresight(quick);
  auto qc = drive(*q, quick, 6, 1200);
  CHECK(qc.at(660) == 6);
  CHECK(qc.at(720) == 2);
  CHECK(qc.at(780) == 2);
  CHECK(qc.at(840) == 6);
  CHECK(qc.at(900) == 6);
}

TEST_CASE("oracle: it never aborts a launch of its own to launch again with a shorter startup", "[oracle]") {
  // 100 rps (2) until 600, 150 (3) after. The 3rd instance starts in 200 s: launched at 360 (at 300,
  // 300 + 60 + 200 = 560 is still before 600), ready at 560. From 420 the next launch would start in 60 s:
  // letting the 3rd go and launching another at 540 would also be in time, but an oracle does not abort
  // what it launched for a need it knew: it holds 3 while the launch is on, and from 560 the need is 3.
  FakeForesight f({{0, 100}, {600, 150}}, {200, 60});
  auto c = make();
  c->set_foresight(f);
  auto counts = drive(*c, f, 2, 900);
  CHECK(counts.at(300) == 2);
  for (double t = 360; t <= 900; t += 60) {
    INFO("t = " << t);
    CHECK(counts.at(t) == 3);
  }
  auto d = only(c->decide(obs(960, 3)));
  CHECK(d.diagnostics.at("starting") == 0);
}

TEST_CASE("oracle: each launch is weighed with its own startup sample", "[oracle]") {
  // Need 2 until 600, then 4. The next launches start in 60 s then 300 s. At 240: the 3rd instance (sample
  // 60 s) is needed by 600, after 240 + 60 + 60 = 360: not yet; the 4th (sample 300 s) would be ready at
  // 240 + 60 + 300 = 600 if it waited a tick: just in time, so it waits. At 300: 300 + 60 + 300 = 660 > 600:
  // the 4th is launched now, and launches are in order, so the 3rd comes with it.
  FakeForesight f({{0, 100}, {600, 200}}, {60, 300, 60});
  auto c = make();
  c->set_foresight(f);
  CHECK(only(c->decide(obs(240, 2))).desired == 2);
  CHECK(only(c->decide(obs(300, 2))).desired == 4);
}

TEST_CASE("oracle: headroom adds a fraction of the rate", "[oracle]") {
  FakeForesight f({{0, 100}}, {120});
  auto c = make({{"headroom", 0.25}});
  c->set_foresight(f);
  // 100 x 1.25 / 50 = 2.5: 3 instances.
  CHECK(only(c->decide(obs(60, 3))).desired == 3);
  CHECK(only(c->decide(obs(120, 5))).desired == 3);
  auto plain = make();
  plain->set_foresight(f);
  CHECK(only(plain->decide(obs(60, 3))).desired == 2);
}

TEST_CASE("oracle: the service's bounds hold", "[oracle]") {
  FakeForesight f({{0, 10000}}, {120});
  auto c = make();
  c->set_foresight(f);
  CHECK(only(c->decide(obs(60, 3))).desired == 40);
  FakeForesight idle({{0, 0}}, {120});
  auto d = make();
  d->set_foresight(idle);
  CHECK(only(d->decide(obs(60, 3))).desired == 1);
}

TEST_CASE("oracle: it wants foresight, refuses to decide without it, and checks its keys", "[oracle]") {
  auto c = make();
  CHECK(c->wants_foresight());
  CHECK_THROWS_AS(c->decide(obs(60, 2)), InputError);
  CHECK_THROWS_AS(make({{"rps_per_instance", 0.0}}), InputError);
  CHECK_THROWS_AS(make({{"target_utilization", 0.0}}), InputError);
  CHECK_THROWS_AS(make({{"target_utilization", 1.01}}), InputError);
  CHECK_NOTHROW(make({{"target_utilization", 1.0}}));
  CHECK_THROWS_AS(make({{"headroom", -0.1}}), InputError);
  CHECK_THROWS_AS(make({{"services", std::vector<std::string>{"db"}}}), InputError);
  MapParams fixed({{"instances", 2L}});
  CHECK(!make_controller("static", fixed, ControllerContext{{"web"}})->wants_foresight());
}

TEST_CASE("oracle: without rps_per_instance it sizes at target_utilization of the service's capacity",
          "[oracle]") {
  // Capacity 10 rps, target 0.5: 5 rps per instance. 12 rps need ceil(12 / 5) = 3 instances.
  FakeForesight f({{0, 12}}, {120});
  f.capacity = 10;
  auto c = make_derived({{"target_utilization", 0.5}});
  c->set_foresight(f);
  auto d = only(c->decide(obs(60, 1)));
  CHECK(d.desired == 3);
  CHECK(d.diagnostics.at("rps_per_instance") == 5);
  CHECK(d.diagnostics.at("need_now") == 3);
  // 10 rps: 2 instances exactly, not 3 (10 / 5 = 2).
  FakeForesight g({{0, 10}}, {120});
  g.capacity = 10;
  auto e = make_derived({{"target_utilization", 0.5}});
  e->set_foresight(g);
  CHECK(only(e->decide(obs(60, 4))).desired == 2);
  // The default target is 0.6: 6 rps per instance, 12 rps need 2.
  auto dflt = make_derived();
  dflt->set_foresight(f);
  auto dd = only(dflt->decide(obs(60, 1)));
  CHECK(dd.diagnostics.at("rps_per_instance") == Approx(6));
  CHECK(dd.desired == 2);
  // rps_per_instance, when given, wins over the capacity: 12 rps at 4 per instance need 3.
  auto given = make({{"rps_per_instance", 4.0}, {"target_utilization", 0.5}});
  given->set_foresight(f);
  auto gd = only(given->decide(obs(60, 1)));
  CHECK(gd.diagnostics.at("rps_per_instance") == 4);
  CHECK(gd.desired == 3);
}

TEST_CASE("oracle: neither rps_per_instance nor a capacity to derive it from fails clearly", "[oracle]") {
  FakeForesight unknown({{0, 12}}, {120});  // capacity 0: the foresight cannot tell
  auto c = make_derived();
  CHECK_THROWS_WITH(c->set_foresight(unknown),
                    Catch::Contains("rps_per_instance") && Catch::Contains("service 'web'"));
  // It does not decide as if it had been given one.
  CHECK_THROWS_AS(c->decide(obs(60, 1)), InputError);
  // Given one, the unknown capacity does not matter.
  auto given = make();
  CHECK_NOTHROW(given->set_foresight(unknown));
  CHECK(only(given->decide(obs(60, 1))).desired == 1);
}
