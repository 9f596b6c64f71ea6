// Engine policies and derived metrics through the public API only (run_simulation): scale-in victim choice,
// least-outstanding routing, what a controller sees (error rate, database connections), the needed-instances
// series, the SLA violation fraction, under-provisioning episodes and latency during scaling. Every
// expectation is worked by hand in a comment; each TEST_CASE runs in its own process (one SimGrid engine
// each).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;
using namespace autoscale::test;

namespace {
// Runs `run` with desired counts for "svc" ordered at given times, the controller ticking every 0.5 s.
RunResult run_scripted(const RunSpec& run, const std::map<double, int>& plan) {
  return run_with(run, std::make_shared<ScriptedController>(0.5, plan));
}

// (time, instance) of every transition into `state`.
std::vector<std::pair<double, int>> entered(const RunResult& r, const std::string& state) {
  std::vector<std::pair<double, int>> out;
  for (const auto& e : r.events)
    if (e.transition == state) out.emplace_back(e.time_s, e.instance);
  return out;
}

// numpy's default percentile: linear interpolation between order statistics.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  double pos = q * static_cast<double>(v.size() - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  if (lo + 1 >= v.size()) return v[lo];
  return v[lo] + (pos - static_cast<double>(lo)) * (v[lo + 1] - v[lo]);
}

TrafficComponent step(double before_rps, double after_rps, double at_s) {
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::step;
  c.name = "step";
  c.before_rps = before_rps;
  c.rate_rps = after_rps;
  c.start_s = at_s;
  return c;
}

// ---------------------------------------------------------------- scale-in victims

// Late joiner: instances 0 and 1 from t = 0, instance 2 joins at t = 10 (no start-up delay), scale-in 3 -> 2
// at t = 40. Requests hold their worker for 1000 s (nothing ever completes), so an instance's outstanding
// count is exactly the number of requests routed to it. Round robin, 2 requests/s:
//   N ~ 20 arrivals in [0, 10) alternate over {0, 1}:  0 and 1 hold >= floor(N/2) ~ 10 each;
//   M ~ 60 arrivals in [10, 40) rotate over {0, 1, 2}: each gets floor(M/3) or ceil(M/3).
// At t = 40: outstanding(2) <= ceil(M/3) < floor(N/2) + floor(M/3) <= outstanding(0), outstanding(1) (N >=
// 4). Instance 2 is both the newest and the least loaded; instance 0 the oldest.
RunResult late_joiner(VictimPolicy policy) {
  QueuePreset p;
  p.instances = 2;
  p.hosts = 3;
  p.duration_s = 60;
  p.arrival_rps = 2;
  p.workers = 1000;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 3;
  run.services[0].work_cpu_s = Distribution::constant(1000);
  run.services[0].scale_in_victim = policy;
  run.record_interval_s = 10;
  RunResult r = run_scripted(run, {{10, 3}, {40, 2}});
  REQUIRE(r.services[0].arrival_rps.size() == 6);
  REQUIRE(r.services[0].arrival_rps[0] * 10 >= 4);  // N >= 4: the margin above holds
  return r;
}
}  // namespace

TEST_CASE("scale-in victim newest: the last launched ready instance drains", "[sim][policies]") {
  RunResult r = late_joiner(VictimPolicy::newest);
  std::vector<std::pair<double, int>> expected = {{40, 2}};
  CHECK(entered(r, "draining") == expected);
}

TEST_CASE("scale-in victim oldest: the first launched instance drains", "[sim][policies]") {
  RunResult r = late_joiner(VictimPolicy::oldest);
  std::vector<std::pair<double, int>> expected = {{40, 0}};
  CHECK(entered(r, "draining") == expected);
}

TEST_CASE("scale-in victim least_loaded: the late joiner with fewest routed requests drains",
          "[sim][policies]") {
  RunResult r = late_joiner(VictimPolicy::least_loaded);
  std::vector<std::pair<double, int>> expected = {{40, 2}};
  CHECK(entered(r, "draining") == expected);
}

TEST_CASE("scale-in victim least_loaded: the oldest drains when the newer ones are slowed by warm-up",
          "[sim][policies]") {
  // Instance 0 from t = 0 at full speed; instances 1 and 2 join at t = 10 and warm up for 1000 s from 2 % of
  // full speed: a request started at t in [10, 40] runs at factor <= 0.02 + 0.98 x 30 / 1000 = 0.0494, i.e.
  // >= 1 / 0.0494 = 20.2 s for its 1 CPU-second. Round robin at 3 requests/s from t = 10, 1 per second each.
  // At t = 40: outstanding(0) = its requests of the last second (1 s of work at full speed, <= 8 at once on
  // 8 vCPUs) ~ 1; outstanding(1), outstanding(2) >= a third of the ~60 arrivals in (19.8, 40] ~ 20.
  // Least loaded is the oldest, not the newest.
  QueuePreset p;
  p.instances = 1;
  p.hosts = 3;
  p.vcpu = 8;
  p.host_cores = 8;
  p.duration_s = 60;
  p.arrival_rps = 3;
  p.workers = 1000;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 3;
  run.services[0].work_cpu_s = Distribution::constant(1);
  run.services[0].scale_in_victim = VictimPolicy::least_loaded;
  run.services[0].startup.warmup_s = 1000;
  run.services[0].startup.warmup_initial_capacity = 0.02;
  RunResult r = run_scripted(run, {{10, 3}, {40, 2}});
  std::vector<std::pair<double, int>> warming = {{10, 1}, {10, 2}};
  REQUIRE(entered(r, "warming") == warming);
  std::vector<std::pair<double, int>> expected = {{40, 0}};
  CHECK(entered(r, "draining") == expected);
}

// ---------------------------------------------------------------- routing

namespace {
// Instance 0 serves a request in 1 microsecond; instance 1 joins at t = 0.5 and stays in warm-up (1e12 s) at
// 1e-8 of full speed: a request there takes 1e-6 / 1e-8 = 100 s, longer than the run. One worker each, no
// queue: a request routed to a busy instance is rejected at once. Poisson arrivals at 2/s for 60 s.
struct RoutingRun {
  long total = 0, completed = 0, failed = 0, in_flight = 0;
  long after_join = 0;  // M: arrivals after instance 1 joined
};
RoutingRun fast_and_stuck(RoutingPolicy policy) {
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 1;
  p.workers = 1;
  p.queue_limit = 0;
  p.hosts = 2;
  p.host_cores = 1;
  p.duration_s = 60;
  p.arrival_rps = 2;
  RunSpec run = single_queue(p);
  run.services[0].max_instances = 2;
  run.services[0].work_cpu_s = Distribution::constant(1e-6);
  run.services[0].routing = policy;
  run.services[0].startup.warmup_s = 1e12;
  run.services[0].startup.warmup_initial_capacity = 1e-8;
  run.record_requests = true;
  RunResult r = run_scripted(run, {{0.5, 2}});
  std::vector<std::pair<double, int>> warming = {{0.5, 1}};
  REQUIRE(entered(r, "warming") == warming);
  RoutingRun out;
  out.total = count(r, "requests_total");
  out.completed = count(r, "requests_completed");
  out.failed = count(r, "requests_failed");
  out.in_flight = count(r, "requests_in_flight_end");
  // Every arrival before t = 0.5 went to instance 0 and finished (it is recorded); the only unrecorded
  // request is the one in flight.
  long before = 0;
  for (const auto& q : r.requests)
    if (q.arrival_s < 0.5) ++before;
  out.after_join = out.total - before;
  REQUIRE(out.total > 100);
  return out;
}
}  // namespace

TEST_CASE("round robin keeps sending half the requests to a stuck instance", "[sim][policies][routing]") {
  // Round robin alternates over {0, 1} from t = 0.5: instance 1 gets floor(M/2) or ceil(M/2) of the M later
  // arrivals (which one depends on where the rotation stood). It starts the first and holds it to the end;
  // the rest find its only worker busy and no queue: rejected. Instance 0 answers all of its share.
  RoutingRun x = fast_and_stuck(RoutingPolicy::round_robin);
  CHECK(x.in_flight == 1);
  CHECK(x.failed >= x.after_join / 2 - 1);
  CHECK(x.failed <= (x.after_join + 1) / 2 - 1);
  CHECK(x.completed == x.total - x.failed - 1);
}

TEST_CASE("least outstanding stops routing to an instance that holds a request", "[sim][policies][routing]") {
  // Least outstanding: while both are idle, ties go either way; once instance 1 holds its one (100 s)
  // request, instance 0 has 0 outstanding at every arrival (it is busy 1 us per request: an arrival finds it
  // busy with probability ~2e-6) and wins. So exactly one request is stuck, none is rejected.
  RoutingRun x = fast_and_stuck(RoutingPolicy::least_outstanding);
  CHECK(x.in_flight == 1);
  CHECK(x.failed == 0);
  CHECK(x.completed == x.total - 1);
}

// ---------------------------------------------------------------- what a controller sees

TEST_CASE("controllers see error_rate = failed / (completed + failed) over the window", "[sim][monitoring]") {
  // One worker, no queue, 0.5 s of work per request, 4 requests/s: an Erlang loss system M/D/1/1 (Erlang B is
  // insensitive to the work distribution): blocked fraction = rho / (1 + rho) with rho = 4 x 0.5 = 2: 2/3.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 2;
  p.workers = 1;
  p.queue_limit = 0;
  p.hosts = 1;
  p.duration_s = 300;
  p.arrival_rps = 4;
  RunSpec run = single_queue(p);
  run.services[0].work_cpu_s = Distribution::constant(0.5);
  run.monitoring = {5.0, 5.0, 120.0};  // scrape every 5 s, visible 5 s later, 120 s window
  run.record_requests = true;
  auto rec = std::make_shared<RecordingController>(1);
  RunResult r = run_with(run, rec);
  long total = count(r, "requests_total");
  REQUIRE(total > 1000);
  CHECK(static_cast<double>(count(r, "requests_failed")) / total == Approx(2.0 / 3.0).margin(0.04));

  // At time t (not a multiple of 5) the newest visible scrape is at s = 5 floor((t - 5) / 5) and the window
  // starts at s - 120 (or 0): completions and failures with their finish time (arrival + latency; a rejection
  // has latency 0) in (start, s] give the error rate.
  int checked = 0;
  for (const auto& obs : rec->seen) {
    const double t = obs.time_s;
    if (std::fmod(t, 5.0) == 0 || t < 20) continue;
    const ServiceObservation& s = obs.services.at(0);
    const double newest = 5 * std::floor((t - 5) / 5);
    const double start = std::max(0.0, newest - 120);
    double done = 0, failed = 0;
    for (const auto& q : r.requests) {
      double end = q.arrival_s + q.latency_s;
      if (end <= start || end > newest) continue;
      done += 1;
      failed += q.failed;
    }
    REQUIRE(s.metrics_valid);
    CHECK(s.error_rate == Approx(failed / done).epsilon(1e-12));
    CHECK(s.failed_rps == Approx(failed / (newest - start)).epsilon(1e-12));
    CHECK(s.connections_in_use == 0);  // not a database
    ++checked;
  }
  CHECK(checked > 200);
  // The last window (170, 290]: ~480 arrivals, blocked fraction 2/3 within about 3 standard deviations.
  CHECK(rec->seen.back().services.at(0).error_rate == Approx(2.0 / 3.0).margin(0.07));
}

TEST_CASE("a saturated database shows all its connections in use and its CPU not", "[sim][monitoring]") {
  // Two database instances, 3 connections (workers) each, 1 s of work per request, 50 requests/s against a
  // capacity of 6/s: the queues (10 each) stay full, so at every scrape all 2 x 3 = 6 connections are busy.
  // Each 4-vCPU node runs 3 requests at a time: CPU utilization 3/4.
  QueuePreset p;
  p.instances = 2;
  p.vcpu = 4;
  p.workers = 3;
  p.queue_limit = 10;
  p.hosts = 2;
  p.duration_s = 60;
  p.arrival_rps = 50;
  RunSpec run = single_queue(p);
  run.services[0].database = true;
  run.services[0].work_cpu_s = Distribution::constant(1);
  run.monitoring = {2.0, 1.0, 10.0};
  auto rec = std::make_shared<RecordingController>(1);
  run_with(run, rec);
  int checked = 0;
  for (const auto& obs : rec->seen) {
    if (obs.time_s < 20) continue;
    const ServiceObservation& s = obs.services.at(0);
    REQUIRE(s.metrics_valid);
    CHECK(s.connections_in_use == 6);
    CHECK(s.concurrency == 3);  // per ready instance
    CHECK(s.cpu_utilization == Approx(0.75).epsilon(1e-6));
    CHECK(s.error_rate > 0.8);  // 50/s offered, 6/s served: 44/50 = 0.88 rejected
    ++checked;
  }
  CHECK(checked >= 40);  // t = 20, 21, ...
}

// ---------------------------------------------------------------- needed instances

TEST_CASE("needed_instances = ceil(offered cores / (usable cores x reference utilization))",
          "[sim][metrics]") {
  // Hosts twice the reference speed; 8-vCPU nodes but only 2 workers (usable cores = min(2, 8) = 2);
  // reference utilization 0.5; mean work 0.05 CPU-s at reference speed. An interval of dt seconds with n
  // arrivals offers n / dt x 0.05 x 1/2 cores; an instance is counted for 2 x 0.5 = 1 core:
  //   needed = ceil(n x 0.025 / dt) = ceil(n / (40 dt)):  ceil(n / 200) for 5 s, ceil(n / 80) for the last 2
  //   s.
  // Traffic steps from 40/s to 120/s at t = 30: ~200 (1 or 2) then ~600 (3 or 4) per 5 s.
  QueuePreset p;
  p.instances = 4;
  p.vcpu = 8;
  p.workers = 2;
  p.duration_s = 62;
  RunSpec run = single_queue(p);
  run.hosts.speed_gflops = 2.0;
  run.metrics.reference_utilization = 0.5;
  run.record_interval_s = 5;
  run.traffic.components = {step(40, 120, 30)};
  RunResult r = run_simulation(run, {});
  std::vector<double> times;
  for (int k = 1; k <= 12; ++k) times.push_back(5.0 * k);
  times.push_back(62);
  REQUIRE(r.time_s == times);
  const ServiceSeries& s = r.services[0];
  REQUIRE(s.needed_instances.size() == times.size());
  std::vector<double> expected;
  for (size_t i = 0; i < times.size(); ++i) {
    long dt = i + 1 < times.size() ? 5 : 2;
    long n = std::lround(s.arrival_rps[i] * static_cast<double>(dt));
    expected.push_back(static_cast<double>((n + 40 * dt - 1) / (40 * dt)));  // integer ceil(n / (40 dt))
  }
  CHECK(s.needed_instances == expected);
  CHECK(s.needed_instances.front() <= 2);
  CHECK(s.needed_instances.back() >= 3);
}

// ---------------------------------------------------------------- SLA violations

TEST_CASE("sla_violation_fraction counts failed and slow requests and old ones still in flight",
          "[sim][metrics]") {
  // One worker, 1 s of work, a queue of 5; 0.6 requests/s until t = 47 (rho = 0.6: some requests wait, some
  // do not), then a burst at 30 x 0.6 = 18/s until t = 50 that fills the queue and is mostly rejected, then
  // nothing; the run ends at 52. SLA 1.8 s. Violations = failed + completed slower than 1.8 s + in flight at
  // the end for longer than 1.8 s: every request still in flight arrived before 50, so is >= 2 s old and
  // counts.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 1;
  p.workers = 1;
  p.queue_limit = 5;
  p.hosts = 1;
  p.duration_s = 52;
  RunSpec run = single_queue(p);
  run.services[0].work_cpu_s = Distribution::constant(1);
  TrafficComponent burst;
  burst.kind = TrafficComponent::Kind::scheduled;
  burst.name = "burst";
  burst.start_s = 47;
  burst.duration_s = 3;
  burst.ramp_s = 0;
  burst.multiplier = 30;
  run.traffic.components = {step(0.6, 0, 50), burst};
  run.sla.latency_s = 1.8;
  run.record_requests = true;
  RunResult r = run_simulation(run, {});
  long total = count(r, "requests_total");
  long in_flight = count(r, "requests_in_flight_end");
  long failed = 0, slow = 0;
  double last_arrival = 0;
  for (const auto& q : r.requests) {
    last_arrival = std::max(last_arrival, q.arrival_s);
    if (q.failed)
      ++failed;
    else if (q.latency_s > 1.8)
      ++slow;
  }
  REQUIRE(static_cast<long>(r.requests.size()) + in_flight == total);
  REQUIRE(last_arrival < 50);
  REQUIRE(failed > 0);
  REQUIRE(slow > 0);
  REQUIRE(slow < static_cast<long>(r.requests.size()) - failed);  // some completed within the SLA
  REQUIRE(in_flight > 0);  // 6 in the system at t = 50 (queue full), one served per second: 4 left at 52
  CHECK(failed == count(r, "requests_failed"));
  CHECK(metric(r, "sla_violation_fraction") == static_cast<double>(failed + slow + in_flight) / total);
}

// ---------------------------------------------------------------- scaling episodes

TEST_CASE("time to scale: under-provisioned episodes from the ready and needed series", "[sim][metrics]") {
  // 15 requests/s of 0.1 CPU-s: 1.5 cores offered; 2-vCPU nodes with 2 workers at reference utilization 0.5
  // count for 1 core: needed = ceil(1.5) = 2 in every 10 s interval (arrivals stay within (100, 200]).
  // Start-up 2 + 5 + 8 + 4 s, probe every second from boot end: ready 19 s after the order.
  //   t = 5: 1 -> 2, instance 1 ready at 24;  t = 42: 2 -> 1 (newest drains);  t = 62: 1 -> 2, ready at 81.
  // ready at the record times 10, 20, ..., 100: 1 1 2 2 1 1 1 1 2 2
  // Episodes with ready < needed: (0, 20] = 20 s and (40, 80] = 40 s: mean 30 s, 60 s under-provisioned.
  QueuePreset p;
  p.instances = 1;
  p.hosts = 3;
  p.duration_s = 100;
  p.arrival_rps = 15;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 2;
  run.services[0].work_cpu_s = Distribution::constant(0.1);
  run.metrics.reference_utilization = 0.5;
  run.record_interval_s = 10;
  run.record_requests = true;
  constant_phases(run.services[0].startup, 2, 5, 8, 4, 1);
  RunResult r = run_scripted(run, {{5, 2}, {42, 1}, {62, 2}});
  const ServiceSeries& ser = r.services[0];
  REQUIRE(ser.needed_instances == std::vector<double>(10, 2.0));
  std::vector<int32_t> ready = {1, 1, 2, 2, 1, 1, 1, 1, 2, 2};
  CHECK(ser.instances_ready == ready);
  CHECK(metric(r, "time_to_scale_mean_s") == Approx(30));
  CHECK(metric(r, "under_provisioned_seconds") == Approx(60));
  CHECK(metric(r, "wasted_instance_seconds") == 0);

  // latency_p95_during_scaling_s: p95 of the completed requests that arrived while an instance was starting
  // (launching .. probing) or draining. Those windows, from the events: launching -> warming/in_service,
  // draining -> terminated.
  std::vector<std::pair<double, double>> windows;
  std::map<int, double> open;
  for (const auto& e : r.events) {
    if (e.transition == "launching" || e.transition == "draining") {
      open[e.instance] = e.time_s;
    } else if (e.transition == "warming" || e.transition == "in_service" || e.transition == "terminated") {
      auto it = open.find(e.instance);
      if (it != open.end()) {
        windows.emplace_back(it->second, e.time_s);
        open.erase(it);
      }
    }
  }
  REQUIRE(open.empty());
  REQUIRE(windows.size() == 3);
  CHECK(windows[0] == std::make_pair(5.0, 24.0));
  CHECK(windows[1].first == 42.0);
  CHECK(windows[2] == std::make_pair(62.0, 81.0));
  std::vector<double> during;
  for (const auto& q : r.requests) {
    if (q.failed) continue;
    for (const auto& w : windows)
      if (q.arrival_s >= w.first && q.arrival_s < w.second) {
        during.push_back(q.latency_s);
        break;
      }
  }
  REQUIRE(during.size() > 400);  // ~15/s over the 38 s of start-ups
  CHECK(metric(r, "latency_p95_during_scaling_s") == Approx(percentile(during, 0.95)).epsilon(1e-12));
}

TEST_CASE("latency during scaling counts the requests that arrive while an instance drains",
          "[sim][metrics]") {
  // Two 16-vCPU instances, 10 s of work per request, 2 requests/s: ~10 requests on each, one core apiece. At
  // t = 20 the newest (instance 1) drains its ~10 requests for up to 10 s: the only scaling activity of the
  // run. Requests arriving meanwhile go to instance 0 alone (~20 at once on 16 cores: slower than 10 s). The
  // p95 during scaling is that of the completed requests arriving in [20, instance 1 terminated).
  QueuePreset p;
  p.instances = 2;
  p.vcpu = 16;
  p.host_cores = 16;
  p.hosts = 2;
  p.workers = 100;
  p.duration_s = 60;
  p.arrival_rps = 2;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].work_cpu_s = Distribution::constant(10);
  run.record_requests = true;
  RunResult r = run_scripted(run, {{20, 1}});
  auto drained = entered(r, "draining");
  auto gone = entered(r, "terminated");
  REQUIRE(drained == std::vector<std::pair<double, int>>{{20, 1}});
  REQUIRE(gone.size() == 1);
  REQUIRE(gone[0].second == 1);
  CHECK(gone[0].first > 20);
  CHECK(gone[0].first <= 30 + 1e-9);  // its last request started before 20, at full speed
  std::vector<double> during;
  for (const auto& q : r.requests)
    if (!q.failed && q.arrival_s >= 20 && q.arrival_s < gone[0].first) during.push_back(q.latency_s);
  REQUIRE(during.size() > 5);
  CHECK(metric(r, "latency_p95_during_scaling_s") == Approx(percentile(during, 0.95)).epsilon(1e-12));
}

TEST_CASE("a run that never scales has no latency during scaling (NaN) and no episodes", "[sim][metrics]") {
  // A static fleet of 2, well provisioned: 10/s x 0.05 CPU-s = 0.5 cores, needed = ceil(0.5 / (2 x 0.8)) = 1.
  QueuePreset p;
  p.instances = 2;
  p.hosts = 2;
  p.duration_s = 60;
  p.arrival_rps = 10;
  RunSpec run = single_queue(p);
  RunResult r = run_simulation(run, {});
  CHECK(count(r, "requests_completed") > 400);
  CHECK(std::isnan(metric(r, "latency_p95_during_scaling_s")));
  CHECK(metric(r, "time_to_scale_mean_s") == 0);
  CHECK(metric(r, "under_provisioned_seconds") == 0);
  CHECK(count(r, "scaling_actions") == 0);
}
