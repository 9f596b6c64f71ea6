// Failure attribution on real runs whose cause is known by construction: one service on 2-vCPU VMs (2
// workers, exponential work of mean 0.05 s: 40 requests/s per instance at most, "needed" counts 32 at 80 %),
// 4 instances, a step of load from 60 to 200 requests/s at 120 s (needed: ceil(200 x 0.05 / 1.6) = 7). From
// the step the 4 instances are overloaded by 40 requests/s: the backlog makes every request slower than the
// 1-second SLA within seconds, so an episode starts exactly at the record interval of the step. What the
// scripted controller does decides its cause. Each TEST_CASE runs in its own process (one SimGrid engine
// each).
#include <catch2/catch.hpp>

#include "sim/core/presets.hpp"
#include "support.hpp"

using namespace autoscale;
using test::ScriptedController;

namespace {

RunSpec step_run() {
  QueuePreset p;
  p.duration_s = 600;
  p.instances = 4;
  p.hosts = 4;  // 32 cores: room for 16 VMs
  p.client_timeout_s = 30;
  RunSpec r = single_queue(p);
  r.record_interval_s = 30;
  r.sla.latency_s = 1.0;
  ServiceSpec& s = r.services[0];
  s.min_instances = 1;
  s.max_instances = 16;
  s.startup.provision_s = Distribution::constant(60);
  s.startup.boot_s = Distribution::constant(60);
  s.startup.readiness_period_s = 5;
  TrafficComponent& c = r.traffic.components[0];
  c.kind = TrafficComponent::Kind::step;
  c.before_rps = 60;
  c.start_s = 120;
  c.rate_rps = 200;
  return r;
}

// Every episode has this cause and service; their seconds add up in the summary.
void all_are(const RunResult& r, const std::string& cause, int service) {
  REQUIRE(!r.episodes.empty());
  for (const auto& e : r.episodes) {
    CHECK(e.cause == cause);
    CHECK(e.service == service);
  }
  const double total = find_metric(r.summary, "violation_s")->value;
  CHECK(total > 0);
  CHECK(find_metric(r.summary, "violation_s_" + cause)->value == total);
  CHECK(find_metric(r.summary, "violation_episodes")->value == static_cast<double>(r.episodes.size()));
}

}  // namespace

TEST_CASE("attribution on a run: a controller that never scales is under_forecast from the step to the end",
          "[sim][attribution]") {
  RunResult r = test::run_with(
      step_run(), std::make_shared<ScriptedController>(30, std::map<double, int>{{30.0, 4}}));  // keeps 4
  REQUIRE(r.episodes.size() == 1);
  CHECK(r.episodes[0].start_s == 120);
  CHECK(r.episodes[0].end_s == 600);
  CHECK(r.episodes[0].peak_shortfall == 3);  // needed 7, ready 4
  CHECK(r.episodes[0].violation_fraction > 0.5);
  all_are(r, "under_forecast", 0);
  // The SLA counts: every end-user request arrived in some interval; those violating match the summary.
  double arrived = 0, violated = 0;
  for (size_t i = 0; i < r.time_s.size(); ++i) {
    arrived += r.sla_requests.at(i);
    violated += r.sla_violations.at(i);
  }
  const double total = find_metric(r.summary, "requests_total")->value;
  CHECK(arrived == total);
  CHECK(violated / total == Approx(find_metric(r.summary, "sla_violation_fraction")->value).epsilon(1e-12));
}

TEST_CASE("attribution on a run: scaling at once behind a 2-minute startup is startup_lag",
          "[sim][attribution]") {
  // Asks for 8 at the step; they are ready at about 120 + 125 s. The backlog then drains; ready >= needed.
  RunResult r =
      test::run_with(step_run(), std::make_shared<ScriptedController>(30, std::map<double, int>{{120.0, 8}}));
  REQUIRE(r.episodes.size() == 1);
  CHECK(r.episodes[0].start_s == 120);
  CHECK(r.episodes[0].end_s >= 270);
  CHECK(r.episodes[0].end_s <= 480);
  CHECK(r.episodes[0].peak_shortfall == 3);
  all_are(r, "startup_lag", 0);
}

TEST_CASE("attribution on a run: instances with no host to run on are pending_nodes", "[sim][attribution]") {
  RunSpec run = step_run();
  run.hosts.count = 1;  // 8 cores: the 4 initial VMs fill it, the 4 more asked for stay pending
  RunResult r =
      test::run_with(run, std::make_shared<ScriptedController>(30, std::map<double, int>{{120.0, 8}}));
  REQUIRE(r.episodes.size() == 1);
  CHECK(r.episodes[0].start_s == 120);
  CHECK(r.episodes[0].end_s == 600);
  all_are(r, "pending_nodes", 0);
}

TEST_CASE("attribution on a run: capacity removed before the peak is overshoot_flapping",
          "[sim][attribution]") {
  // 8 instances; the controller cuts them to 4 at 60 s (enough for 60 requests/s) and asks for 8 again only
  // at the step, 60 s later: the cut was within the 300-second lookback, from 8 >= the need of 7.
  RunSpec run = step_run();
  run.services[0].initial_instances = 8;
  auto script = [] {
    return std::make_shared<ScriptedController>(30, std::map<double, int>{{60.0, 4}, {120.0, 8}});
  };
  // With a lookback shorter than the 60 s between the cut and the episode, the same run is startup_lag (in a
  // child process, run first: one engine per process).
  RunSpec short_lookback = run;
  short_lookback.sla.episode_lookback_s = 30;
  std::vector<double> q = test::in_child([&] {
    RunResult x = test::run_with(short_lookback, script());
    return std::vector<double>{find_metric(x.summary, "violation_s")->value,
                               find_metric(x.summary, "violation_s_startup_lag")->value};
  });
  REQUIRE(q.size() == 2);
  CHECK(q[0] > 0);
  CHECK(q[1] == q[0]);
  RunResult r = test::run_with(run, script());
  REQUIRE(r.episodes.size() == 1);
  CHECK(r.episodes[0].start_s == 120);
  all_are(r, "overshoot_flapping", 0);
  CHECK(find_metric(r.summary, "violation_s")->value == q[0]);  // the same run: only the label changed
}

TEST_CASE("attribution on a run: a database out of connections is bottleneck_elsewhere",
          "[sim][attribution]") {
  // web (8 instances, more than its need of 7) calls db once per request; db has one instance, max_instances
  // 1, 2 connections holding each query 0.02 s: 100 queries/s at most, enough for 60/s, not for the 200/s
  // after the step (db's need: ceil(200 x 0.02 / 1.6) = 3).
  RunSpec run = step_run();
  run.services[0].initial_instances = 8;
  ServiceSpec db = run.services[0];
  db.name = "db";
  db.node_pool = "db";
  db.database = true;
  db.work_cpu_s = Distribution::exponential_mean(0.02);
  db.initial_instances = db.min_instances = db.max_instances = 1;
  run.services.push_back(db);
  NodePool pool = run.node_pools[0];
  pool.name = "db";
  run.node_pools.push_back(pool);
  EdgeSpec e;
  e.from = "svc";
  e.to = "db";
  run.edges.push_back(e);
  RunResult r =
      test::run_with(run, std::make_shared<ScriptedController>(30, std::map<double, int>{{30.0, 8}}));
  REQUIRE(!r.episodes.empty());
  CHECK(r.episodes[0].start_s == 120);
  all_are(r, "bottleneck_elsewhere", 1);
}
