// Instance lifecycle: exact timelines with constant phases, draining, and request conservation.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "controllers/map_params.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;
using namespace autoscale::test;

namespace {
RunSpec scaled_queue(int initial, int target, double interval_s) {
  QueuePreset p;
  p.instances = initial;
  p.hosts = 2;
  p.duration_s = 120;
  p.arrival_rps = 2;
  RunSpec r = single_queue(p);
  r.services[0].min_instances = 1;
  r.services[0].max_instances = 4;
  r.controller.params = std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{
      {"instances", static_cast<long>(target)}, {"interval_s", interval_s}});
  return r;
}
}  // namespace

TEST_CASE("constant phase durations give exactly the configured timeline", "[sim][lifecycle]") {
  RunSpec run = scaled_queue(1, 2, 10);
  StartupSpec& s = run.services[0].startup;
  constant_phases(s, 2, 5, 8, 4, 5);
  s.readiness_initial_delay_s = 1;
  s.readiness_success_threshold = 2;
  s.warmup_s = 10;
  s.warmup_initial_capacity = 0.5;
  RunResult r = run_simulation(run, {});
  // Hand-worked: scale-out decided at t = 10. Launch 10 -> 12, provision -> 17, boot -> 25, init -> 29.
  // Probes every 5 s from boot end + 1 s: 26, 31, 36, ...; the first after init (31) succeeds, the second
  // (36) reaches the threshold of 2: ready at 36. Warm-up 10 s: in service at 46.
  std::vector<std::pair<double, std::string>> expected = {
      {10, "launching"}, {12, "provisioning"}, {17, "booting"},   {25, "initializing"},
      {29, "probing"},   {36, "warming"},      {46, "in_service"}};
  CHECK(timeline(r, 1) == expected);
}

TEST_CASE("CPU-burning init lasts as long as its CPU work needs on a contended host", "[sim][lifecycle]") {
  RunSpec run = scaled_queue(1, 2, 10);
  run.traffic.components[0].rate_rps = 0;  // an idle host: init gets a full core
  StartupSpec& s = run.services[0].startup;
  s.init_s = Distribution::constant(1);
  s.init_cpu_s = 6;  // 6 CPU-seconds at reference speed on an idle core: init ends 6 s after boot, not 1 s
  s.readiness_period_s = 1;
  RunResult r = run_simulation(run, {});
  auto t = timeline(r, 1);
  REQUIRE(t.size() >= 5);
  CHECK(t[3] == std::make_pair(10.0, std::string("initializing")));
  CHECK(t[4].second == "probing");
  CHECK(t[4].first == Approx(16.0).margin(1e-6));
}

TEST_CASE("scale-in drains in-flight requests and loses none when the timeout allows", "[sim][lifecycle]") {
  RunSpec run = scaled_queue(2, 1, 10);
  run.services[0].work_cpu_s = Distribution::constant(4);
  run.services[0].workers = 4;
  run.services[0].drain_timeout_s = 60;
  run.traffic.components[0].rate_rps = 0.8;
  RunResult r = run_simulation(run, {});
  auto t = timeline(r, 1);  // newest instance is the victim
  REQUIRE(t.size() >= 2);
  CHECK(t[t.size() - 2].second == "draining");
  CHECK(t[t.size() - 2].first == 10);
  CHECK(t.back().second == "terminated");
  CHECK(t.back().first > 10);
  CHECK(t.back().first <= 14 + 1e-9);  // the longest in-flight request (4 s of work) was done by then
  CHECK(count(r, "requests_failed") == 0);
}

TEST_CASE("a drain timeout shorter than the work fails what is still in flight", "[sim][lifecycle]") {
  RunSpec run = scaled_queue(2, 1, 10);
  run.services[0].work_cpu_s = Distribution::constant(4);
  run.services[0].workers = 4;
  run.services[0].drain_timeout_s = 0.5;
  run.traffic.components[0].rate_rps = 2;
  RunResult r = run_simulation(run, {});
  auto t = timeline(r, 1);
  REQUIRE(t.back().second == "terminated");
  CHECK(t.back().first == Approx(10.5));
  CHECK(count(r, "requests_failed") > 0);
}

TEST_CASE("conservation: arrivals = completed + failed + in flight at the end", "[sim][lifecycle]") {
  // Overloaded, with rejections (small queues), client timeouts and scale-in with a short drain.
  RunSpec run = scaled_queue(3, 1, 30);
  run.duration_s = 300;
  run.services[0].queue_limit = 3;
  run.services[0].drain_timeout_s = 2;
  run.traffic.client_timeout_s = 3;
  run.traffic.components[0].rate_rps = 70;
  RunResult r = run_simulation(run, {});
  long total = count(r, "requests_total");
  CHECK(total > 15000);
  CHECK(count(r, "requests_failed") > 0);
  CHECK(total ==
        count(r, "requests_completed") + count(r, "requests_failed") + count(r, "requests_in_flight_end"));
}

TEST_CASE("terminating a caller while its downstream calls are in flight fails them cleanly",
          "[sim][lifecycle]") {
  // web -> db, slow database: when web scales in with a short drain timeout, its requests still wait on db
  // replies, and those replies arrive for callers that are gone.
  RunSpec run = scaled_queue(3, 1, 20);
  run.duration_s = 200;
  ServiceSpec db = run.services[0];
  db.name = "db";
  db.work_cpu_s = Distribution::constant(3);
  db.workers = 50;
  db.initial_instances = db.min_instances = db.max_instances = 1;
  run.services.push_back(db);
  run.services[0].drain_timeout_s = 0.5;
  run.edges = {{"svc", "db", 1.0, 2, 0}};
  run.traffic.components[0].rate_rps = 5;
  RunResult r = run_simulation(run, {});
  long total = count(r, "requests_total");
  CHECK(total > 800);
  CHECK(count(r, "requests_failed") > 0);  // the callers that were terminated
  CHECK(count(r, "requests_completed") > 0);
  CHECK(total ==
        count(r, "requests_completed") + count(r, "requests_failed") + count(r, "requests_in_flight_end"));
  // Latency of a completed request: its own work plus two parallel 3-second database calls, at least.
  CHECK(find_metric(r.summary, "latency_p50_s")->value >= 3.0);
}

namespace {
// No traffic, a 3.6 USD/hour instance type, start-up 2 + 5 + 8 s; "svc"'s desired counts ordered by `plan`.
RunResult run_script(const std::map<double, int>& plan) {
  QueuePreset p;
  p.instances = 1;
  p.duration_s = 120;
  p.arrival_rps = 0;
  RunSpec run = single_queue(p);
  run.services[0].max_instances = 3;
  run.instance_types[0].price_per_hour_usd = 3.6;  // 0.001 USD per second
  constant_phases(run.services[0].startup, 2, 5, 8, 0, 1);
  return run_with(run, std::make_shared<ScriptedController>(0.5, plan));
}
}  // namespace

TEST_CASE("billing: per second from boot, with the one-minute minimum", "[sim][billing]") {
  // Instance 0 runs all 120 s. Instance 1: launched at 10, boots at 17 (billing starts), scaled in at 40 with
  // no request in flight: 23 s billed as the 60 s minimum. Cost 0.001 USD/s x (120 + 60).
  RunResult r = run_script({{10, 2}, {40, 1}});
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(0.180));
  CHECK(find_metric(r.summary, "instance_seconds")->value == Approx(120 + 30));
  CHECK(r.cost_usd.back() == Approx(0.180));
  CHECK(r.services[0].cost_usd.back() == Approx(0.180));
  CHECK(count(r, "scaling_actions") == 2);
  CHECK(count(r, "scaling_reversals") == 1);
}

TEST_CASE("billing: a launch aborted before boot costs nothing", "[sim][billing]") {
  // Instance 1 is still provisioning (12 < 17) when the count goes back to 1: terminated unbilled.
  RunResult r = run_script({{10, 2}, {12.5, 1}});
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(0.120));
  CHECK(find_metric(r.summary, "instance_seconds")->value == Approx(120 + 2.5));
  std::vector<std::pair<double, std::string>> expected = {
      {10, "launching"}, {12, "provisioning"}, {12.5, "terminated"}};
  CHECK(timeline(r, 1) == expected);
}

TEST_CASE("controllers see each instance's state, start and ready times and CPU usage", "[sim][monitoring]") {
  // One 2-vCPU instance kept saturated (2 workers, far more arrivals than it can serve): it uses 2 cores.
  QueuePreset p;
  p.instances = 1;
  p.duration_s = 60;
  p.arrival_rps = 100;
  p.work_mean_s = 0.1;
  p.queue_limit = 10;
  RunSpec run = single_queue(p);
  run.services[0].max_instances = 2;
  run.monitoring = {1.0, 0.0, 5.0};  // scrape every second, no lag, 5 s window
  constant_phases(run.services[0].startup, 1, 2, 3, 0, 1);
  // Asks for 2 instances at t = 10 (kept from then on).
  auto rec = std::make_shared<RecordingController>(1, std::map<double, int>{{10, 2}});
  run_with(run, rec);
  auto at = [&](double t) -> const ServiceObservation& { return rec->at(t).services.at(0); };
  const auto& early = at(8);
  REQUIRE(early.instances.size() == 1);
  CHECK(early.instances[0].state == "in_service");
  CHECK(early.instances[0].ready_time_s == 0);
  CHECK(early.instances[0].cpu_usage_cores == Approx(2.0));
  CHECK(early.instances[0].cpu_request_cores == 2);
  CHECK(early.instances[0].concurrency == Approx(2.0));
  CHECK(early.cpu_utilization == Approx(1.0));
  // Launched at t = 10: provisioning from 11, booting from 13, ready at 16 (init 0, probe every second).
  const auto& mid = at(14);
  REQUIRE(mid.instances.size() == 2);
  CHECK(mid.instances[1].state == "booting");
  CHECK(mid.instances[1].start_time_s == 10);
  CHECK_FALSE(mid.instances[1].ready);
  const auto& late = at(30);
  CHECK(late.instances[1].state == "in_service");
  CHECK(late.instances[1].ready_time_s == 16);
}

TEST_CASE("calls cross the network: a large answer takes its transfer time", "[sim][network]") {
  // web -> db, no CPU work anywhere, one request at a time; each VM alone on its host, 1 Gb/s links.
  // A 125 MB answer at 125 MB/s takes at least 1 s; SimGrid's default TCP model (LV08) adds its protocol
  // overheads (97 % of the bandwidth usable, ACK cross-traffic): some percent more, not tens of percent.
  QueuePreset p;
  p.instances = 1;
  p.duration_s = 200;
  p.arrival_rps = 0.05;
  p.hosts = 2;
  p.host_cores = 2;
  RunSpec run = single_queue(p);
  run.network.bandwidth_gbps = 1;
  run.services[0].work_cpu_s = Distribution::constant(0);
  ServiceSpec db = run.services[0];
  db.name = "db";
  run.services.push_back(db);
  EdgeSpec e;
  e.from = "svc";
  e.to = "db";
  e.request_bytes = 100;
  e.response_bytes = 125e6;
  run.edges = {e};
  RunResult r = run_simulation(run, {});
  REQUIRE(count(r, "requests_completed") > 3);
  double p50 = find_metric(r.summary, "latency_p50_s")->value;
  CHECK(p50 >= 1.0);
  CHECK(p50 <= 1.15);
}

TEST_CASE("a timed-out request counts as failed when its client gives up", "[sim][lifecycle]") {
  // One worker, 10 s of work per request, a request every second on average, clients give up after 2 s:
  // nearly every request times out, in the interval where arrival + 2 s falls, whenever the server notices.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 1;
  p.workers = 1;
  p.hosts = 1;
  p.duration_s = 60;
  p.arrival_rps = 1;
  p.client_timeout_s = 2;
  RunSpec run = single_queue(p);
  run.record_interval_s = 1;
  run.record_requests = true;
  run.services[0].work_cpu_s = Distribution::constant(10);
  RunResult r = run_simulation(run, {});
  std::vector<double> expected(r.time_s.size(), 0);
  long failed = 0;
  for (const auto& q : r.requests) {
    if (!q.failed) continue;
    ++failed;
    CHECK(q.latency_s == Approx(2.0));
    expected[std::min(expected.size() - 1, static_cast<size_t>(q.arrival_s + q.latency_s))] += 1;
  }
  CHECK(failed > 30);
  CHECK(failed == count(r, "requests_failed"));
  CHECK(r.services[0].failed_rps == expected);
}

TEST_CASE("an instance with no room waits as pending and is placed when a draining one leaves",
          "[sim][lifecycle]") {
  // One 4-core host: room for two 2-vCPU VMs. Scale 2 -> 1 at t = 10 (the newest drains its 20 s requests),
  // then back to 2 at t = 12: the new VM finds no room after its 1 s launch call and waits until the drain
  // ends.
  QueuePreset p;
  p.instances = 2;
  p.hosts = 1;
  p.host_cores = 4;
  p.duration_s = 120;
  p.arrival_rps = 0.5;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 2;
  run.services[0].work_cpu_s = Distribution::constant(20);
  run.services[0].drain_timeout_s = 60;
  run.services[0].startup.launch_s = Distribution::constant(1);
  RunResult r =
      run_with(run, std::make_shared<ScriptedController>(0.5, std::map<double, int>{{10, 1}, {12, 2}}));
  auto victim = timeline(r, 1);
  REQUIRE(victim.size() >= 3);
  REQUIRE(victim.back().second == "terminated");
  double freed = victim.back().first;
  CHECK(freed > 13);  // still draining when the new launch needs room
  auto fresh = timeline(r, 2);
  REQUIRE(fresh.size() >= 3);
  CHECK(fresh[0] == std::make_pair(12.0, std::string("launching")));
  CHECK(fresh[1] == std::make_pair(13.0, std::string("pending")));
  CHECK(fresh[2].second == "provisioning");
  CHECK(fresh[2].first == Approx(freed));
}

TEST_CASE("stepping a simulation in pieces gives the run it gives in one go", "[sim][step]") {
  // An embedding program (an RL environment, a test) drives time with step_until; the result must not depend
  // on where it stops. Steps of 7 s do not line up with the 10 s control interval nor the 60 s records.
  RunSpec run = scaled_queue(1, 3, 10);
  run.duration_s = 300;
  run.traffic.components[0].rate_rps = 30;
  // One SimGrid engine per process: the run in one go happens in a child process, which sends its summary
  // back.
  std::vector<double> whole = in_child([&] {
    RunResult r = run_simulation(run, {});
    std::vector<double> v = summary_values(r);
    v.push_back(static_cast<double>(r.events.size()));
    return v;
  });
  Simulation sim(run, {});
  std::vector<double> seen;
  double t = 0;
  while (sim.step_until(t += 7)) {
    CHECK(sim.now_s() == Approx(std::min(t, 300.0)));
    seen.push_back(sim.last_observation().time_s);
  }
  RunResult pieces = sim.finish();
  // The controller ticks every 10 s: after the step to 28 s it last decided at 20 s.
  REQUIRE(seen.size() > 3);
  CHECK(seen[3] == 20);
  REQUIRE(whole.size() == pieces.summary.size() + 1);
  for (size_t i = 0; i < pieces.summary.size(); ++i) {
    INFO(pieces.summary[i].key);
    CHECK(same_value(pieces.summary[i].value, whole[i]));
  }
  CHECK(static_cast<double>(pieces.events.size()) == whole.back());
}

namespace {
// A service scaled from zero: nothing ready at first, one instance ordered at t = 10 (launch 1 s, boot 4 s:
// ready at 15), requests every ~0.5 s from t = 0, clients that give up after `timeout_s`.
RunResult from_zero(bool activator, double timeout_s) {
  QueuePreset p;
  p.instances = 0;
  p.duration_s = 60;
  p.arrival_rps = 2;
  p.work_mean_s = 0.01;
  p.client_timeout_s = timeout_s;
  RunSpec run = single_queue(p);
  run.record_requests = true;
  run.services[0].min_instances = 0;
  run.services[0].max_instances = 1;
  run.services[0].activator = activator;
  run.services[0].startup.launch_s = Distribution::constant(1);
  run.services[0].startup.boot_s = Distribution::constant(4);
  run.services[0].startup.readiness_period_s = 1;
  return test::run_with(run, std::make_shared<test::ScriptedController>(1, std::map<double, int>{{10, 1}}));
}
}  // namespace

TEST_CASE("scale from zero: requests wait at the activator for the cold start, then succeed",
          "[sim][activator]") {
  RunResult r = from_zero(true, 30);
  // Ordered at 10, launched until 11, provisioning 0 s, booting until 15, probe at 15: ready at 15. Every
  // request that arrived before 15 waited and then completed; the cold start's first request (the first
  // arrival) waited 15 - its arrival.
  REQUIRE(r.requests.size() > 60);
  double first = r.requests.front().arrival_s;  // rows are in completion order: the earliest arrival
  for (const auto& q : r.requests) first = std::min(first, q.arrival_s);
  for (const auto& q : r.requests) {
    CHECK_FALSE(q.failed);
    if (q.arrival_s < 15) CHECK(q.latency_s >= 15 - q.arrival_s - 1e-9);
  }
  CHECK(test::metric(r, "cold_starts") == 1);
  CHECK(find_metric(r.summary, "cold_start_wait_s")->value == Approx(15 - first));
}

TEST_CASE("scale from zero: without an activator requests fail at once", "[sim][activator]") {
  RunResult none = from_zero(false, 30);
  long failed_before = 0, early = 0;
  for (const auto& q : none.requests)
    if (q.arrival_s < 15) {
      ++early;
      failed_before += q.failed ? 1 : 0;
      CHECK(q.latency_s == 0);  // the load balancer answers 503 at once
    }
  CHECK(failed_before == early);
  CHECK(test::metric(none, "cold_starts") == 0);  // nobody waited: no cold start
}

TEST_CASE("scale from zero: clients waiting at the activator give up at their timeout", "[sim][activator]") {
  // Clients that give up after 3 s: whoever arrived before 12 s gave up at arrival + 3 (the activator drops
  // them at the next scrape, the failure counts when the client saw it); later arrivals were served at 15.
  RunResult impatient = from_zero(true, 3);
  for (const auto& q : impatient.requests) {
    if (q.arrival_s < 12 - 1e-9) {
      CHECK(q.failed);
      CHECK(q.latency_s == Approx(3));
    } else if (q.arrival_s > 12 + 1e-9) {
      CHECK_FALSE(q.failed);
    }
  }
}

TEST_CASE(
    "a KPA service scales to zero after its grace period; the next request waits for a cold start, then "
    "succeeds",
    "[sim][activator][kpa]") {
  // Pods on one node; 2 rps of 10 ms requests, none from 100 s to 600 s, then 2 rps again. Knative's
  // defaults: a 60 s stable window, 30 s scale-to-zero grace. Containers start in 1 + 4 s.
  QueuePreset p;
  p.instances = 1;
  p.duration_s = 900;
  p.arrival_rps = 2;
  p.work_mean_s = 0.01;
  p.client_timeout_s = 60;
  RunSpec run = single_queue(p);
  run.record_requests = true;
  run.services[0].min_instances = 0;
  run.services[0].max_instances = 5;
  run.services[0].startup.launch_s = Distribution::constant(1);
  run.services[0].startup.boot_s = Distribution::constant(4);
  run.services[0].startup.readiness_period_s = 1;
  run.monitoring = {1.0, 1.0, 6.0};
  TrafficComponent quiet;
  quiet.kind = TrafficComponent::Kind::scheduled;
  quiet.name = "quiet";
  quiet.shape = true;
  quiet.start_s = 100;
  quiet.duration_s = 500;
  quiet.ramp_s = 0;
  quiet.multiplier = 0;
  run.traffic.components.push_back(quiet);
  run.controller.kind = "kpa";
  run.controller.params = std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{
      {"services", std::vector<std::string>{"svc"}}, {"target", 1.0}});
  RunResult r = run_simulation(run, {});
  // Zero ready instances at some record during the quiet spell, and none failed: the first request after it
  // waited at the activator for the cold start (at least the 5 s startup), then completed.
  bool zero = false;
  for (size_t i = 0; i < r.time_s.size(); ++i)
    if (r.time_s[i] > 200 && r.time_s[i] < 600 && r.services[0].instances_ready[i] == 0) zero = true;
  CHECK(zero);
  CHECK(test::metric(r, "requests_failed") == 0);
  CHECK(test::metric(r, "cold_starts") >= 1);
  CHECK(find_metric(r.summary, "cold_start_wait_s")->value >= 5.0);
  double first_after = 1e9, its_latency = 0;
  for (const auto& q : r.requests)
    if (q.arrival_s >= 600 && q.arrival_s < first_after) {
      first_after = q.arrival_s;
      its_latency = q.latency_s;
    }
  CHECK(its_latency >= 5.0);
}

namespace {
// Keeps one instance and puts the activator in the request path (or not) at its first tick.
class ActivatorInPath : public Controller {
 public:
  explicit ActivatorInPath(bool in_path) : in_path_(in_path) {}
  Decision decide(const Observation&) override {
    ServiceDecision d{"svc", 1, "", 0, "in_path"};
    d.activator_in_path = in_path_;
    Decision out;
    out.services.push_back(d);
    return out;
  }
  double interval_s() const override { return 1; }

 private:
  bool in_path_;
};

// One instance with one worker and no queue, 1 s of work per request, a request every ~2 s (Poisson): a
// request that finds the worker busy has nowhere to wait at the pod.
RunResult one_worker_no_queue(bool in_path) {
  QueuePreset p;
  p.instances = 1;
  p.workers = 1;
  p.queue_limit = 0;
  p.duration_s = 400;
  p.arrival_rps = 0.5;
  p.client_timeout_s = 1e9;
  RunSpec run = single_queue(p);
  run.services[0].work_cpu_s = Distribution::constant(1);
  run.record_requests = true;
  return test::run_with(run, std::make_shared<ActivatorInPath>(in_path));
}
}  // namespace

TEST_CASE("the activator in the path buffers what finds every worker busy, and hands it to the next free one",
          "[sim][activator]") {
  RunResult r = one_worker_no_queue(true);
  // ~200 requests, each served one at a time by the single worker: none fails; one that arrived while another
  // ran waited for it (latency above its own 1 s of work), and the worker never ran two at once (completions
  // at least 1 s apart).
  REQUIRE(r.requests.size() > 150);
  CHECK(test::metric(r, "requests_failed") == 0);
  std::vector<double> done;
  long waited = 0;
  for (const auto& q : r.requests) {
    done.push_back(q.arrival_s + q.latency_s);
    if (q.latency_s > 1 + 1e-6) ++waited;
  }
  CHECK(waited > 20);
  std::sort(done.begin(), done.end());
  for (size_t i = 1; i < done.size(); ++i) CHECK(done[i] - done[i - 1] >= 1 - 1e-6);
}

TEST_CASE(
    "without the activator in the path, a request that finds the worker busy and no queue fails at once",
    "[sim][activator]") {
  RunResult r = one_worker_no_queue(false);
  // rho = 0.5 with one server and no waiting room (Erlang B, 1 server): half the offered requests are
  // blocked, in the long run 0.5 / 1.5 = 1/3 of them.
  REQUIRE(r.requests.size() > 150);
  const double blocked = test::metric(r, "requests_failed") / static_cast<double>(r.requests.size());
  CHECK(blocked == Approx(1.0 / 3).margin(0.1));
}
