// The startup distribution controllers plan with (sim/core/startup: closed forms), the `event` controller's
// pre-warm timing and hand-back (worked by hand), and `mpc` planning with a quantile of that distribution.
#include <catch2/catch.hpp>
#include <cmath>

#include "controllers/event/startup_quantile.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "sim/core/startup.hpp"

using namespace autoscale;

namespace {
using Table = MapParams::Table;
using Values = std::map<std::string, MapParams::Value>;

Observation one(double t, int desired, double cpu = 0.5) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 20;
  s.desired = desired;
  s.in_service = desired;
  s.metrics_valid = true;
  s.cpu_utilization = cpu;
  s.arrival_rps = 100;
  o.services.push_back(s);
  return o;
}

// 1, 2, ..., n seconds: the nearest-rank p95 of 1..100 is 95.
std::vector<double> ramp(int n) {
  std::vector<double> v;
  for (int i = 1; i <= n; ++i) v.push_back(i);
  return v;
}

const ServiceDecision& web(const Decision& d) {
  REQUIRE(d.services.size() == 1);
  return d.services[0];
}
}  // namespace

TEST_CASE("startup: constant phases sum as the fleet's probes see them", "[startup]") {
  StartupSpec st;
  st.launch_s = Distribution::constant(5);
  st.provision_s = Distribution::constant(10);
  st.boot_s = Distribution::constant(20);
  st.init_s = Distribution::constant(30);
  st.readiness_period_s = 10;
  // Boot ends at 35, init at 65; probes at 35, 45, ...: the one at 65 is the first after init.
  CHECK(startup_ready_s(st, {5, 10, 20, 30}, 0) == 65);
  st.readiness_success_threshold = 3;  // two more periods
  CHECK(startup_ready_s(st, {5, 10, 20, 30}, 0) == 85);
  // Init CPU of 40 s wall outlasts init's 30: init done at 75, probes succeed at 75, 85, 95.
  CHECK(startup_ready_s(st, {5, 10, 20, 30}, 40) == 95);
  st.readiness_initial_delay_s = 50;  // first probe at 85, after init
  CHECK(startup_ready_s(st, {5, 10, 20, 30}, 0) == 105);

  RunSpec run;
  run.hosts.speed_gflops = 2;
  run.reference_speed_gflops = 1;
  ServiceSpec s;
  s.name = "web";
  s.startup = st;
  s.startup.readiness_initial_delay_s = 0;
  s.startup.init_cpu_s = 80;  // 80 CPU-seconds at reference speed: 40 s on hosts twice as fast
  run.services.push_back(s);
  auto samples = startup_samples_s(run);
  REQUIRE(samples.at("web").size() == static_cast<size_t>(kStartupSamples));
  CHECK(samples.at("web").front() == 95);
  CHECK(samples.at("web").back() == 95);
}

TEST_CASE("startup: the p95 of exponential phases matches the closed form", "[startup]") {
  // One exponential phase of mean 20 (probes every 1e-3 s: ready when boot ends): p95 = -ln(0.05) x 20.
  StartupSpec st;
  st.boot_s = Distribution::exponential_mean(20);
  st.readiness_period_s = 1e-3;
  Rng rng(7, "test");
  auto one_phase = startup_samples_s(st, 0, rng, 100000);
  CHECK(std::is_sorted(one_phase.begin(), one_phase.end()));
  CHECK(*sample_quantile(one_phase, 0.95) == Approx(-std::log(0.05) * 20).epsilon(0.02));
  // Two of them (boot and provision, mean 20 each): Erlang-2, P(X > x) = (1 + x / 20) e^(-x / 20); its p95
  // by bisection.
  st.provision_s = Distribution::exponential_mean(20);
  auto two_phases = startup_samples_s(st, 0, rng, 100000);
  double lo = 0, hi = 1000;
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi);
    ((1 + mid / 20) * std::exp(-mid / 20) > 0.05 ? lo : hi) = mid;
  }
  CHECK(lo == Approx(94.88).epsilon(1e-3));  // y = 4.7439 means
  CHECK(*sample_quantile(two_phases, 0.95) == Approx(lo).epsilon(0.02));
}

TEST_CASE("startup: nearest-rank quantiles of a sample", "[startup]") {
  CHECK(*sample_quantile(ramp(20), 0.95) == 19);
  CHECK(*sample_quantile(ramp(20), 0.5) == 10);
  CHECK(*sample_quantile(ramp(20), 1.0) == 20);
  CHECK(*sample_quantile(ramp(100), 0.95) == 95);
  CHECK_FALSE(sample_quantile({}, 0.5));
  CHECK_FALSE(startup_quantile_s({{"db", ramp(3)}}, "web", 0.5));
}

TEST_CASE("event: pre-warms at start minus the p95 startup and hands back after the end", "[event]") {
  ControllerContext ctx{{"web"}};
  ctx.startup_samples_s["web"] = ramp(100);  // p95 = 95 s
  Values ev{{"name", std::string("campaign")}, {"start_s", 1000.0}, {"end_s", 1600.0}, {"instances", 8L}};
  MapParams p(Values{{"interval_s", 10.0}, {"events", std::vector<Table>{std::make_shared<MapParams>(ev)}}});
  auto c = make_controller("event", p, ctx);
  CHECK(c->interval_s() == 10);
  CHECK(web(c->decide(one(10, 2))).desired == 2);  // no inner controller: held at the first tick's count
  CHECK(web(c->decide(one(10, 2))).rule == "event_baseline");
  // Ready by 1000 means launching by 905: the last tick at or before it is 900.
  CHECK(web(c->decide(one(890, 2))).desired == 2);
  const ServiceDecision pre = web(c->decide(one(900, 2)));
  CHECK(pre.desired == 8);
  CHECK(pre.rule == "event_prewarm");
  CHECK(pre.diagnostics.at("lead_s") == 95);
  CHECK(pre.diagnostic_strings.at("event") == "campaign");
  CHECK(web(c->decide(one(1000, 8))).rule == "event");
  CHECK(web(c->decide(one(1590, 8))).desired == 8);
  const ServiceDecision after = web(c->decide(one(1600, 8)));
  CHECK(after.desired == 2);
  CHECK(after.rule == "event_baseline");

  // lead_s given: ready by 1000 after 30 s: the tick at 970 (960 is one interval early).
  ev["lead_s"] = 30.0;
  MapParams q(Values{{"interval_s", 10.0}, {"events", std::vector<Table>{std::make_shared<MapParams>(ev)}}});
  auto fixed = make_controller("event", q, ctx);
  CHECK(web(fixed->decide(one(960, 2))).desired == 2);
  CHECK(web(fixed->decide(one(970, 2))).desired == 8);
}

TEST_CASE("event: a reactive inner controller keeps the count above the event's, and decides after it",
          "[event]") {
  ControllerContext ctx{{"web"}};
  ctx.startup_samples_s["web"] = std::vector<double>(50, 120.0);  // a constant 120 s
  Values inner{{"kind", std::string("threshold")},
               {"scale_out_above", 0.7},
               {"scale_in_below", 0.3},
               {"cooldown_s", 0.0},
               {"interval_s", 60.0}};
  Values ev{{"start_s", 3600.0}, {"duration_s", 600.0}, {"multiplier", 2.5}, {"every_s", 86400.0}};
  MapParams p(Values{{"inner", std::make_shared<MapParams>(inner)},
                     {"events", std::vector<Table>{std::make_shared<MapParams>(ev)}}});
  auto c = make_controller("event", p, ctx);
  CHECK(c->interval_s() == 60);
  // 3600 - 120 = 3480 is a tick: the pre-warm is ordered there; 2.5 x 3 instances = 8 (rounded up).
  CHECK(web(c->decide(one(3420, 3))).desired == 3);
  const ServiceDecision pre = web(c->decide(one(3480, 3)));
  CHECK(pre.desired == 8);
  CHECK(pre.diagnostics.at("inner_desired") == 3);
  // The inner controller wants fewer (CPU low): the event holds 8. It wants more (CPU high): it gets it.
  const ServiceDecision low = web(c->decide(one(3600, 8, 0.1)));
  CHECK(low.desired == 8);
  CHECK(low.rule == "event");
  CHECK(low.diagnostic_strings.at("inner_rule") == "scale_in_below");
  const ServiceDecision high = web(c->decide(one(3660, 8, 0.9)));
  CHECK(high.desired == 9);
  CHECK(high.rule == "scale_out_above");
  // 4200 = start + duration: handed back, the inner controller scales in from the count the event left.
  const ServiceDecision back = web(c->decide(one(4200, 9, 0.1)));
  CHECK(back.desired == 8);
  CHECK(back.rule == "scale_in_below");
  // The next day's occurrence, its base the count then.
  CHECK(web(c->decide(one(86400 + 3420, 2))).desired == 2);
  CHECK(web(c->decide(one(86400 + 3480, 2))).desired == 5);
}

TEST_CASE("event: bad events are refused with the key", "[event]") {
  auto make = [](Values ev) {
    MapParams p(Values{{"events", std::vector<Table>{std::make_shared<MapParams>(ev)}}});
    return make_controller("event", p, ControllerContext{{"web"}});
  };
  CHECK_THROWS_WITH(make({{"start_s", 10.0}, {"instances", 3L}}), Catch::Contains("end_s"));
  CHECK_THROWS_WITH(make({{"start_s", 10.0}, {"end_s", 5.0}, {"instances", 3L}}), Catch::Contains("after"));
  CHECK_THROWS_WITH(make({{"start_s", 10.0}, {"end_s", 50.0}}), Catch::Contains("multiplier"));
  CHECK_THROWS_WITH(make({{"start_s", 10.0}, {"end_s", 50.0}, {"instances", 3L}, {"every_s", 20.0}}),
                    Catch::Contains("overlap"));
  // Without a startup sample (as in `autoscale decide`) and no lead_s, the lead is 0.
  auto c = make({{"start_s", 600.0}, {"end_s", 900.0}, {"instances", 3L}});
  CHECK(web(c->decide(one(540, 1))).desired == 1);
  CHECK(web(c->decide(one(600, 1))).desired == 3);
}

TEST_CASE("mpc: without startup_s it plans with a quantile of the startup distribution", "[mpc][startup]") {
  auto make = [](Values extra, const ControllerContext& ctx) {
    Values v{{"rps_per_instance", 10.0}, {"interval_s", 60.0}, {"horizon_steps", 5L}};
    v["forecaster"] = std::make_shared<MapParams>(Values{{"kind", std::string("naive")}});
    for (auto& [k, x] : extra) v[k] = x;
    MapParams p(v);
    return make_controller("mpc", p, ctx);
  };
  ControllerContext ctx{{"web"}};
  ctx.startup_samples_s["web"] = ramp(200);  // p95 = 190 s: 4 one-minute steps; the median 100 s: 2
  auto plan = [](Controller& c) {
    c.decide(one(60, 4));
    return c.decide(one(120, 4)).services.at(0);  // a constant 100 rps: 10 instances
  };
  auto p95 = make({}, ctx);
  ServiceDecision d = plan(*p95);
  CHECK(d.desired == 10);
  CHECK(d.diagnostics.at("startup_s") == 190);
  CHECK(d.diagnostics.at("delay_steps") == 4);
  CHECK(d.diagnostics.at("plan_step_3") == 4);  // what is there now serves steps 1..3
  CHECK(d.diagnostics.at("plan_step_4") == 10);
  auto median = make({{"startup_quantile", 0.5}}, ctx);
  ServiceDecision m = plan(*median);
  CHECK(m.diagnostics.at("delay_steps") == 2);
  CHECK(m.diagnostics.at("plan_step_2") == 10);
  // startup_s given: the distribution is not used.
  auto fixed = make({{"startup_s", 60.0}}, ctx);
  CHECK(plan(*fixed).diagnostics.at("delay_steps") == 1);
  // A p95 past the horizon is refused, naming the service.
  ControllerContext slow{{"web"}};
  slow.startup_samples_s["web"] = std::vector<double>(10, 400.0);
  CHECK_THROWS_WITH(make({}, slow), Catch::Contains("horizon_steps") && Catch::Contains("web"));
  CHECK_THROWS_WITH(make({{"startup_s", 60.0}, {"startup_quantile", 0.5}}, ctx),
                    Catch::Contains("startup_quantile"));
}
