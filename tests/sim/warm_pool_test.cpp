// Warm pools, lifecycle hooks and shadows (sim/fleet): exact timelines and bills with constant phases, worked
// by hand from the AWS semantics README.md describes.
#include <catch2/catch.hpp>
#include <map>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;
using namespace autoscale::test;

namespace {
using Timeline = std::vector<std::pair<double, std::string>>;

// No traffic, a 3.6 USD/hour instance type (0.001 USD/s), start-up launch 2 + provision 5 + boot 8 + init 4,
// a probe every second: a fresh launch at t is ready at t + 19.
RunSpec base(int initial = 1) {
  QueuePreset p;
  p.instances = initial;
  p.duration_s = 120;
  p.arrival_rps = 0;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 3;
  run.instance_types[0].price_per_hour_usd = 3.6;
  constant_phases(run.services[0].startup, 2, 5, 8, 4, 1);
  return run;
}

WarmPoolSpec pool(WarmPoolState state, int min_size, int max_prepared) {
  WarmPoolSpec w;
  w.enabled = true;
  w.pool_state = state;
  w.min_size = min_size;
  w.max_prepared_capacity = max_prepared;
  w.resume_s = Distribution::constant(6);
  w.stopped_price_per_hour_usd = 0.36;  // 0.0001 USD/s
  return w;
}

LifecycleHookSpec hook(bool launching, double timeout_s, bool abandon) {
  LifecycleHookSpec h;
  h.name = launching ? "launch" : "terminate";
  h.launching = launching;
  h.heartbeat_timeout_s = timeout_s;
  h.abandon = abandon;
  return h;
}

RunResult run_plan(const RunSpec& run, const std::map<double, int>& plan) {
  return run_with(run, std::make_shared<ScriptedController>(0.5, plan));
}
}  // namespace

TEST_CASE("warm pool, running: a scale-out is ready after readiness only; the pool refills",
          "[sim][warm_pool]") {
  RunSpec run = base();
  // Pool size max(min_size 1, 2 - desired 1) = 1 at time 0, prepared already.
  run.services[0].warm_pool = pool(WarmPoolState::running, 1, 2);
  run.services[0].startup.readiness_initial_delay_s = 3;
  run.services[0].startup.readiness_success_threshold = 2;
  run.monitoring = {1.0, 0.0, 5.0};  // scrape every second, no lag, 5 s window
  auto rec = std::make_shared<RecordingController>(0.5, std::map<double, int>{{10, 2}});
  RunResult r = run_with(run, rec);
  // Taken at 10 (registered: probes from 10 + 3 s, two successes needed): ready at 14.
  Timeline one = {{0, "warmed_running"}, {10, "probing"}, {14, "in_service"}};
  CHECK(timeline(r, 1) == one);
  // The pool refills to max(1, 2 - 2) = 1: a new instance prepared 10 -> 29 (no probes in the pool).
  Timeline two = {{10, "warmed_launching"},
                  {12, "warmed_provisioning"},
                  {17, "warmed_booting"},
                  {25, "warmed_initializing"},
                  {29, "warmed_running"}};
  CHECK(timeline(r, 2) == two);
  // The pool is not in the group: controllers see only the group's instances.
  CHECK(rec->at(5).services[0].instances.size() == 1);
  CHECK(rec->at(30).services[0].instances.size() == 2);
  const ServiceSeries& s = r.services[0];
  CHECK(s.instances_warm_pool.front() == 1);
  CHECK(s.instances_ready.back() == 2);
  CHECK(s.instances_warm_pool.back() == 1);
  // A running pool pays full price: 0.001 USD/s for instance 0 (0-120) and 1 (0-120), instance 2 from boot
  // (17-120).
  CHECK(metric(r, "cost_usd") == Approx(0.001 * (120 + 120 + 103)));
}

TEST_CASE("warm pool, stopped: resume_s, then init again; hibernated skips init", "[sim][warm_pool]") {
  for (WarmPoolState state : {WarmPoolState::stopped, WarmPoolState::hibernated}) {
    std::vector<double> got = in_child([&] {
      RunSpec run = base();
      run.services[0].warm_pool = pool(state, 1, 2);
      RunResult r = run_plan(run, {{10, 2}});
      std::vector<double> v;
      for (const auto& [t, name] : timeline(r, 1)) {
        v.push_back(t);
        v.push_back(name == "warmed_stopped" || name == "warmed_hibernated" ? 0
                    : name == "resuming"                                    ? 1
                    : name == "initializing"                                ? 2
                    : name == "probing"                                     ? 3
                    : name == "in_service"                                  ? 4
                                                                            : 9);
      }
      v.push_back(metric(r, "cost_usd"));
      return v;
    });
    if (state == WarmPoolState::stopped) {
      // Taken at 10: resumes 10 -> 16, init 4 s -> 20, first probe at 20 passes: in service at 20 (19 s less
      // than a launch would take: ready at 29).
      std::vector<double> want = {0, 0, 10, 1, 16, 2, 20, 3, 20, 4};
      REQUIRE(got.size() == want.size() + 1);
      CHECK(std::vector<double>(got.begin(), got.end() - 1) == want);
      // Bill, by hand: instance 0 in service 0-120: 0.120. Instance 1 stopped 0-10 at 0.0001 USD/s (0.001),
      // running 10-120 (0.110). Instance 2 refills the pool from 10: billed from boot (17) at full price
      // until it is prepared and stops (29): 12 s, billed as EC2's one-minute minimum (0.060); stopped 29-120
      // (0.0091).
      CHECK(got.back() == Approx(0.120 + 0.001 + 0.110 + 0.060 + 0.0091));
    } else {
      // Hibernated: resumes with its memory, no init: probing and in service at 16.
      std::vector<double> want = {0, 0, 10, 1, 16, 3, 16, 4};
      REQUIRE(got.size() == want.size() + 1);
      CHECK(std::vector<double>(got.begin(), got.end() - 1) == want);
    }
  }
}

TEST_CASE("warm pool billing over a known interval: stopped instances pay their storage only",
          "[sim][warm_pool][billing]") {
  RunSpec run = base();
  run.services[0].warm_pool = pool(WarmPoolState::stopped, 2, 0);  // two stopped instances, no scaling
  RunResult r = run_plan(run, {});
  // 120 s in service at 0.001 USD/s, two instances stopped 120 s at 0.0001 USD/s.
  CHECK(metric(r, "cost_usd") == Approx(0.120 + 2 * 0.012));
  CHECK(r.services[0].cost_usd.back() == Approx(0.144));
  CHECK(r.services[0].instances_warm_pool.back() == 2);
  CHECK(r.services[0].instances_ready.back() == 1);
}

TEST_CASE("ReuseOnScaleIn returns a scaled-in instance to the pool, which a scale-out takes back",
          "[sim][warm_pool]") {
  RunSpec run = base(2);
  WarmPoolSpec w = pool(WarmPoolState::stopped, 0, 2);  // max(0, 2 - 2) = 0: no pool at first
  w.reuse_on_scale_in = true;
  run.services[0].warm_pool = w;
  RunResult r = run_plan(run, {{10, 1}, {40, 2}});
  Timeline one = {{0, "in_service"},    {10, "draining"}, {10, "warmed_stopped"}, {40, "resuming"},
                  {46, "initializing"}, {50, "probing"},  {50, "in_service"}};
  CHECK(timeline(r, 1) == one);
  CHECK(timeline(r, 2).empty());  // nothing launched: the pool's size max(0, 2 - 1) = 1 was met by the return
  // Instance 1: running 0-10 (the one-minute minimum: 0.060), stopped 10-40 (0.003), running 40-120 (0.080);
  // instance 0: 0.120.
  CHECK(metric(r, "cost_usd") == Approx(0.060 + 0.003 + 0.080 + 0.120));
}

TEST_CASE("a launch hook delays readiness by exactly its heartbeat timeout", "[sim][hooks]") {
  RunSpec run = base();
  run.services[0].lifecycle_hooks = {hook(true, 30, false)};
  RunResult r = run_plan(run, {{10, 2}});
  // Without the hook: ready at 29. Held in Pending:Wait 29 -> 59.
  Timeline one = {{10, "launching"},    {12, "provisioning"}, {17, "booting"},   {25, "initializing"},
                  {29, "pending_wait"}, {59, "probing"},      {59, "in_service"}};
  CHECK(timeline(r, 1) == one);
}

TEST_CASE("a launch hook's action completes it early", "[sim][hooks]") {
  RunSpec run = base();
  LifecycleHookSpec h = hook(true, 30, true);
  h.has_action = true;
  h.action_s = Distribution::constant(12);  // done before the timeout: CONTINUE, whatever the default
  run.services[0].lifecycle_hooks = {h};
  RunResult r = run_plan(run, {{10, 2}});
  Timeline t = timeline(r, 1);
  REQUIRE(t.size() == 7);
  CHECK(t[4] == std::make_pair(29.0, std::string("pending_wait")));
  CHECK(t[6] == std::make_pair(41.0, std::string("in_service")));
}

TEST_CASE("ABANDON at a launch hook's timeout terminates the instance and replaces it", "[sim][hooks]") {
  RunSpec run = base();
  LifecycleHookSpec h = hook(true, 30, true);
  h.has_action = true;
  h.action_s = Distribution::constant(40);  // never in time
  run.services[0].lifecycle_hooks = {h};
  RunResult r = run_plan(run, {{10, 2}});
  Timeline one = {{10, "launching"},    {12, "provisioning"}, {17, "booting"},
                  {25, "initializing"}, {29, "pending_wait"}, {59, "terminated"}};
  CHECK(timeline(r, 1) == one);
  Timeline two = timeline(r, 2);  // the replacement, launched at once, abandoned in its turn at 108
  REQUIRE(two.size() == 6);
  CHECK(two.front() == std::make_pair(59.0, std::string("launching")));
  CHECK(two.back() == std::make_pair(108.0, std::string("terminated")));
  CHECK(r.services[0].instances_ready.back() == 1);
  // Instance 0 all along; 1 billed 17-59 (42 s: the minimum, 60 s); 2 billed 66-108 (the minimum); 3 launched
  // at 108 boots at 115, billed 5 s until the end.
  CHECK(metric(r, "cost_usd") == Approx(0.120 + 0.060 + 0.060 + 0.005));
}

TEST_CASE("a terminate hook holds a drained instance, billed, before it terminates", "[sim][hooks]") {
  RunSpec run = base(2);
  run.services[0].lifecycle_hooks = {hook(false, 30, false)};
  RunResult r = run_plan(run, {{70, 1}});
  Timeline one = {{0, "in_service"}, {70, "draining"}, {70, "terminating_wait"}, {100, "terminated"}};
  CHECK(timeline(r, 1) == one);
  CHECK(metric(r, "cost_usd") == Approx(0.120 + 0.100));
}

TEST_CASE("a shadow is billed shadow_duration_s more, reports, and serves nothing", "[sim][shadow]") {
  QueuePreset p;
  p.instances = 2;
  p.duration_s = 120;
  p.arrival_rps = 20;
  RunSpec run = single_queue(p);
  run.services[0].max_instances = 3;
  run.instance_types[0].price_per_hour_usd = 3.6;
  run.services[0].min_instances = 1;
  run.services[0].shadow_duration_s = 25;
  run.monitoring = {1.0, 0.0, 5.0};  // scrape every second, no lag, 5 s window
  run.record_interval_s = 10;
  auto rec = std::make_shared<RecordingController>(1, std::map<double, int>{{70, 1}});
  RunResult r = run_with(run, rec);
  Timeline t = timeline(r, 1);
  REQUIRE(t.size() == 4);
  CHECK(t[1].second == "draining");
  CHECK(t[2].second == "shadow");
  CHECK(t[3].second == "terminated");
  CHECK(t[3].first - t[2].first == Approx(25));
  const double left = t[2].first;  // drained: the last request it held is done (well within a second)
  CHECK(left >= 70);
  CHECK(left < 71);
  // Billed until it leaves its shadow: instance 0 120 s, instance 1 left + 25 s.
  CHECK(metric(r, "cost_usd") == Approx(0.001 * (120 + left + 25)));
  // Shown to controllers as a shadow: not ready, deleting, idle.
  const auto& obs = rec->at(80).services[0];
  REQUIRE(obs.instances.size() == 2);
  CHECK(obs.instances[1].state == "shadow");
  CHECK_FALSE(obs.instances[1].ready);
  CHECK(obs.instances[1].deleting);
  CHECK(obs.instances[1].cpu_usage_cores == 0);
  CHECK(obs.instances[1].concurrency == 0);
  CHECK(obs.ready() == 1);
  CHECK(r.services[0].instances_shadow[5] == 0);  // at 60
  CHECK(r.services[0].instances_shadow[7] == 1);  // at 80
  CHECK(r.services[0].instances_shadow.back() == 0);
}
