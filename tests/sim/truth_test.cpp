// What controllers see against what happened: monitoring lag, CPU usage under contention, common random
// numbers, edge-order independence, sane request times, pod spreading. Each TEST_CASE runs in its own process
// (one SimGrid engine each); a test comparing two runs runs each of them in a child process of its own.
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

// Recorded requests as (arrival, latency, wait, failed), sorted by arrival (they are recorded as they end).
std::vector<double> rows_by_arrival(const RunResult& r) {
  std::vector<RequestRow> rows = r.requests;
  std::sort(rows.begin(), rows.end(),
            [](const RequestRow& a, const RequestRow& b) { return a.arrival_s < b.arrival_s; });
  std::vector<double> out;
  for (const auto& q : rows) {
    out.push_back(q.arrival_s);
    out.push_back(q.latency_s);
    out.push_back(q.wait_s);
    out.push_back(q.failed);
  }
  return out;
}
struct Row {
  double arrival, latency, wait;
  bool failed;
};
std::vector<Row> unpack(const std::vector<double>& v) {
  std::vector<Row> out;
  for (size_t i = 0; i + 3 < v.size(); i += 4) out.push_back({v[i], v[i + 1], v[i + 2], v[i + 3] != 0});
  return out;
}

// One service on dedicated VMs, saturated: far more arrivals than capacity, small queues.
QueuePreset saturated(int instances, int vcpu, int workers) {
  QueuePreset p;
  p.instances = instances;
  p.vcpu = vcpu;
  p.workers = workers;
  p.hosts = 4;
  p.host_cores = 16;
  p.duration_s = 60;
  p.arrival_rps = 400;
  p.work_mean_s = 0.1;
  p.queue_limit = 5;
  return p;
}

// A fixed pool of `nodes` nodes of `vcpu` vCPUs (each a host of its own); pods request 1 core.
void fixed_pool(RunSpec& run, int nodes, int vcpu) {
  run.instance_types[0] = {"vm", vcpu, 64, 0.05};
  run.node_pools[0].dedicated = false;
  run.node_pools[0].nodes = nodes;
  run.hosts.count = nodes;
  run.hosts.cores = vcpu;
  run.services[0].cpu_request = 1;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Monitoring lag

namespace {
RunSpec lag_run(double lag_s) {
  QueuePreset p;
  p.instances = 2;
  p.duration_s = 200;
  p.arrival_rps = 20;
  p.work_mean_s = 0.01;
  RunSpec run = single_queue(p);
  run.record_requests = true;
  run.monitoring = {10, lag_s, 10};
  return run;
}
double arrivals_in(const RunResult& r, double from, double to) {
  double n = 0;
  for (const auto& q : r.requests) n += q.arrival_s > from && q.arrival_s <= to ? 1 : 0;
  return n;
}
}  // namespace

TEST_CASE("lag 0: the scrape taken at a control tick's date is visible at that tick", "[sim][truth]") {
  auto rec = std::make_shared<RecordingController>(10);
  RunResult r = run_with(lag_run(0), rec);
  // Control at 10, 20, ..., 200; scrapes at the same dates come first: sample age 0.
  REQUIRE(rec->seen.size() == 20);
  for (const auto& obs : rec->seen) {
    const ServiceObservation& s = obs.services.at(0);
    CHECK(s.metrics_valid);
    CHECK(s.sample_age_s == 0);
    // Window 10 s: the rate is the arrivals in (t - 10, t] over 10 s, counted from the recorded requests
    // (all of them have ended well before the end at 200 s: 0.01 s of work, 20/s on 2 instances).
    if (obs.time_s <= 180) CHECK(s.arrival_rps == Approx(arrivals_in(r, obs.time_s - 10, obs.time_s) / 10));
  }
  // About 20/s x 10 s = 200 per window: the windows are not empty.
  CHECK(arrivals_in(r, 90, 100) > 120);
}

TEST_CASE("lag of one scrape interval: the controller sees the scrape before", "[sim][truth]") {
  auto rec = std::make_shared<RecordingController>(10);
  RunResult r = run_with(lag_run(10), rec);
  // At t the newest visible scrape is the one taken at t - 10 (at t = 10: the scrape at time 0).
  REQUIRE(rec->seen.size() == 20);
  for (const auto& obs : rec->seen) {
    const ServiceObservation& s = obs.services.at(0);
    CHECK(s.sample_age_s == 10);
    // The window (t - 20, t - 10] (none at t = 10: a single visible scrape).
    if (obs.time_s >= 20 && obs.time_s <= 180)
      CHECK(s.arrival_rps == Approx(arrivals_in(r, obs.time_s - 20, obs.time_s - 10) / 10));
  }
}

// ---------------------------------------------------------------------------------------------------------
// CPU usage is the CPU delivered

TEST_CASE("usage: a saturated 2-vCPU node with 8 workers uses 2 cores, not 8", "[sim][truth]") {
  RunSpec run = single_queue(saturated(1, 2, 8));
  run.monitoring = {1, 0, 10};
  auto rec = std::make_shared<RecordingController>(10);
  run_with(run, rec);
  // 8 requests share 2 cores at all times: 2 cores delivered, utilization 2 / 2 vCPU = 1.
  for (double t : {30.0, 40.0, 50.0, 60.0}) {
    const ServiceObservation& s = rec->at(t).services.at(0);
    REQUIRE(s.instances.size() == 1);
    REQUIRE(s.instances[0].has_metrics);
    CHECK(s.instances[0].cpu_usage_cores == Approx(2.0).epsilon(1e-3));
    CHECK(s.instances[0].cpu_request_cores == 2);
    CHECK(s.instances[0].concurrency == Approx(8.0).epsilon(1e-3));
    CHECK(s.cpu_utilization == Approx(1.0).epsilon(1e-3));
  }
}

TEST_CASE("usage: two saturated pods on one 4-vCPU node share its cores equally", "[sim][truth]") {
  RunSpec run = single_queue(saturated(2, 4, 8));
  fixed_pool(run, 1, 4);
  run.monitoring = {1, 0, 10};
  auto rec = std::make_shared<RecordingController>(1);
  run_with(run, rec);
  // Never more than the node's 4 cores between them, at any tick (windows of up to 10 s).
  for (const auto& obs : rec->seen) {
    double total = 0;
    for (const auto& in : obs.services.at(0).instances) total += in.cpu_usage_cores;
    INFO("t = " << obs.time_s);
    CHECK(total <= 4 + 1e-6);
  }
  // 16 requests on 4 cores, 8 per pod: 4 / 2 = 2 cores each; relative to a request of 1 core: 2.0 each, and
  // for the service (4 cores delivered / 2 cores requested) 2.0.
  for (double t : {30.0, 40.0, 50.0, 60.0}) {
    const ServiceObservation& s = rec->at(t).services.at(0);
    REQUIRE(s.instances.size() == 2);
    double sum = 0;
    for (const auto& in : s.instances) {
      REQUIRE(in.has_metrics);
      CHECK(in.cpu_request_cores == 1);
      CHECK(in.cpu_usage_cores == Approx(2.0).epsilon(0.01));
      CHECK(in.cpu_usage_cores / in.cpu_request_cores == Approx(2.0).epsilon(0.01));
      sum += in.cpu_usage_cores;
    }
    CHECK(sum <= 4 + 1e-6);
    CHECK(s.cpu_utilization == Approx(2.0).epsilon(0.01));
  }
}

TEST_CASE("usage: a pod with a 1.5-core limit uses 1.5 cores and is throttled while busy", "[sim][truth]") {
  RunSpec run = single_queue(saturated(1, 4, 8));
  fixed_pool(run, 1, 4);
  run.services[0].cpu_limit = 1.5;
  // Saturated until t = 30, then no traffic at all (the queue of at most 5 + 8 requests of 0.1 s is gone
  // within about 13 x 0.1 / 1.5 = 0.9 s).
  TrafficComponent& c = run.traffic.components[0];
  c.kind = TrafficComponent::Kind::step;
  c.before_rps = 400;
  c.start_s = 30;
  c.rate_rps = 0;
  run.monitoring = {1, 0, 10};
  auto rec = std::make_shared<RecordingController>(10);
  run_with(run, rec);
  // Busy, windows (10, 20] and (20, 30]: 8 running requests against a quota of 1.5 cores on a 4-core node:
  // 1.5 delivered, and more running work than the limit the whole window: throttled fraction 1.
  for (double t : {20.0, 30.0}) {
    const InstanceObservation& busy = rec->at(t).services.at(0).instances.at(0);
    REQUIRE(busy.has_metrics);
    CHECK(busy.cpu_limit_cores == 1.5);
    CHECK(busy.cpu_request_cores == 1);
    CHECK(busy.cpu_usage_cores == Approx(1.5).epsilon(0.01));
    CHECK(busy.cpu_throttled_fraction == Approx(1.0).epsilon(0.01));
  }
  // Idle, windows (40, 50] and (50, 60]: no work, never throttled.
  for (double t : {50.0, 60.0}) {
    const InstanceObservation& quiet = rec->at(t).services.at(0).instances.at(0);
    REQUIRE(quiet.has_metrics);
    CHECK(quiet.cpu_limit_cores == 1.5);
    CHECK(quiet.cpu_usage_cores == 0);
    CHECK(quiet.cpu_throttled_fraction == 0);
  }
}

TEST_CASE("usage: two 2-vCPU VMs overcommitted on one 2-core host get one core each", "[sim][truth]") {
  QueuePreset p = saturated(2, 2, 8);
  p.hosts = 1;
  p.host_cores = 2;
  p.cpu_overcommit = 2;
  RunSpec run = single_queue(p);
  run.monitoring = {1, 0, 10};
  auto rec = std::make_shared<RecordingController>(10);
  run_with(run, rec);
  // 2 physical cores for 2 VMs: 1 core each; utilization 1 / 2 vCPU = 0.5.
  for (double t : {30.0, 40.0, 50.0, 60.0}) {
    const ServiceObservation& s = rec->at(t).services.at(0);
    REQUIRE(s.instances.size() == 2);
    for (const auto& in : s.instances) {
      REQUIRE(in.has_metrics);
      CHECK(in.cpu_usage_cores == Approx(1.0).epsilon(0.01));
    }
    CHECK(s.cpu_utilization == Approx(0.5).epsilon(0.01));
  }
}

// ---------------------------------------------------------------------------------------------------------
// Common random numbers

namespace {
// Nobody queues: 16 workers on 16 vCPUs per instance, 10 requests/s of 0.1 s (about 1 busy in all), so an
// unqueued request's latency is its work at full speed. min_instances 0: a script may empty the fleet.
RunSpec crn_run() {
  QueuePreset p;
  p.instances = 4;
  p.vcpu = 16;
  p.workers = 16;
  p.hosts = 8;
  p.host_cores = 16;
  p.duration_s = 100;
  p.arrival_rps = 10;
  p.work_mean_s = 0.1;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 0;
  run.services[0].max_instances = 8;
  run.services[0].startup.readiness_period_s = 1;
  run.record_requests = true;
  return run;
}

// Compares two runs request by request: same arrivals; the same latency where neither run failed or queued.
// Returns how many were compared.
int compare_requests(const std::vector<Row>& a, const std::vector<Row>& b) {
  size_t n = std::min(a.size(), b.size());
  int compared = 0;
  for (size_t i = 0; i < n; ++i) {
    INFO("request " << i);
    REQUIRE(a[i].arrival == b[i].arrival);
    if (a[i].failed || b[i].failed || a[i].wait != 0 || b[i].wait != 0) continue;
    CHECK(a[i].latency == Approx(b[i].latency).epsilon(0).margin(1e-9));
    ++compared;
  }
  return compared;
}
}  // namespace

TEST_CASE("common random numbers: the i-th request has the same arrival and work under any controller",
          "[sim][truth]") {
  RunSpec run = crn_run();
  // A: the fleet of 4 stays. B: emptied at t = 20, back to 4 at t = 40 (ready at once: zero phases, probe at
  // boot end): the ~200 requests of (20, 40) fail without ever drawing their work.
  std::vector<Row> ra = unpack(
      in_child([&] { return rows_by_arrival(run_with(run, std::make_shared<RecordingController>(1))); }));
  std::vector<Row> rb = unpack(in_child([&] {
    return rows_by_arrival(
        run_with(run, std::make_shared<RecordingController>(1, std::map<double, int>{{20, 0}, {40, 4}})));
  }));
  // 10/s x 100 s = 1000 arrivals (Poisson: +-3 sd is about +-95).
  CHECK(ra.size() > 900);
  CHECK(ra.size() < 1100);
  CHECK(std::abs(static_cast<long>(ra.size()) - static_cast<long>(rb.size())) <= 5);
  long failed_a = 0, failed_b = 0;
  double mean_a = 0;
  for (const Row& q : ra) {
    failed_a += q.failed;
    mean_a += q.latency;
  }
  for (const Row& q : rb) failed_b += q.failed;
  mean_a /= static_cast<double>(ra.size());
  CHECK(failed_a == 0);
  // B fails what arrives in (20, 40): about 10/s x 20 s = 200.
  CHECK(failed_b > 150);
  CHECK(failed_b < 250);
  // A never queues, so its latency is the work: exponential of mean 0.1 s (1000 draws: sd of the mean 0.003).
  CHECK(mean_a == Approx(0.1).epsilon(0.1));
  int compared = compare_requests(ra, rb);
  CHECK(compared > 650);  // ~1000 minus B's ~200 failures
}

TEST_CASE("common random numbers: the i-th request makes the same downstream calls with the same work",
          "[sim][truth]") {
  RunSpec run = crn_run();
  run.services[0].work_cpu_s = Distribution::exponential_mean(0.05);
  run.services[0].initial_instances = 2;
  ServiceSpec db = run.services[0];
  db.name = "db";
  run.services.push_back(db);
  EdgeSpec e;
  e.from = "svc";
  e.to = "db";
  e.probability = 0.5;
  e.request_bytes = e.response_bytes = 1;
  run.edges = {e};
  // A: static. B: svc emptied over [20, 30) (its requests fail before any draw of theirs: work, call
  // choice), then the database over [50, 70) (svc requests that call it fail, the others complete).
  std::vector<Row> ra = unpack(
      in_child([&] { return rows_by_arrival(run_with(run, std::make_shared<RecordingController>(1))); }));
  std::vector<Row> rb = unpack(in_child([&] {
    return rows_by_arrival(run_with(
        run, std::make_shared<RecordingController>(
                 1, ScriptedController::Plan{
                        {20, {{"svc", 0}}}, {30, {{"svc", 2}}}, {50, {{"db", 0}}}, {70, {{"db", 2}}}})));
  }));
  CHECK(ra.size() > 900);
  long failed_a = 0, failed_b = 0, failed_b_db = 0;
  double mean_a = 0;
  for (const Row& q : ra) {
    failed_a += q.failed;
    mean_a += q.latency;
  }
  mean_a /= static_cast<double>(ra.size());
  for (const Row& q : rb) {
    failed_b += q.failed;
    failed_b_db += q.failed && q.arrival > 49.9 ? 1 : 0;
    // Every failure of B falls in an outage.
    if (q.failed) CHECK(((q.arrival > 19.9 && q.arrival < 30.1) || (q.arrival > 49.9 && q.arrival < 70.1)));
  }
  CHECK(failed_a == 0);
  // svc outage: about 10/s x 10 s = 100; database outage: about 10/s x 20 s x 0.5 = 100 (sd about 10 each).
  CHECK(failed_b > 150);
  CHECK(failed_b < 250);
  CHECK(failed_b_db > 60);
  CHECK(failed_b_db < 140);
  // A never queues: latency = svc work (mean 0.05) + half the time a call (db work, mean 0.05, plus two
  // messages of about 13 x 100 us each under SimGrid's LV08 latency factor): 0.05 + 0.5 x 0.0526 = 0.0763
  // (sd of the mean over 1000 about 0.002).
  CHECK(mean_a == Approx(0.0763).epsilon(0.1));
  // Same call choice and works: identical latencies, including requests of the outage that made no call.
  int compared = compare_requests(ra, rb);
  CHECK(compared > 700);
}

// ---------------------------------------------------------------------------------------------------------
// Edge declaration order

namespace {
// front calls a (busy: it queues) and b; b is emptied at t = 50 and back at t = 80.
std::vector<double> fan_out(bool a_first) {
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 16;
  p.workers = 16;
  p.hosts = 4;
  p.host_cores = 16;
  p.duration_s = 150;
  p.arrival_rps = 15;
  p.work_mean_s = 0.01;
  RunSpec run = single_queue(p);
  run.services[0].name = "front";
  run.traffic.entry_service = "front";
  ServiceSpec a = run.services[0];
  a.name = "a";
  a.workers = 2;
  a.queue_limit = 20;
  a.work_cpu_s = Distribution::exponential_mean(0.1);
  ServiceSpec b = run.services[0];
  b.name = "b";
  b.min_instances = 0;
  b.work_cpu_s = Distribution::exponential_mean(0.02);
  b.startup.readiness_period_s = 1;
  run.services.push_back(a);
  run.services.push_back(b);
  EdgeSpec to_a, to_b;
  to_a.from = to_b.from = "front";
  to_a.to = "a";
  to_b.to = "b";
  run.edges = a_first ? std::vector<EdgeSpec>{to_a, to_b} : std::vector<EdgeSpec>{to_b, to_a};
  RunResult r =
      run_with(run, std::make_shared<RecordingController>(1, std::map<double, int>{{50, 0}, {80, 1}}, "b"));
  std::vector<double> out = summary_values(r);
  for (const auto& s : r.services) {
    out.insert(out.end(), s.arrival_rps.begin(), s.arrival_rps.end());
    out.insert(out.end(), s.completed_rps.begin(), s.completed_rps.end());
    out.insert(out.end(), s.failed_rps.begin(), s.failed_rps.end());
    out.insert(out.end(), s.latency_p95_s.begin(), s.latency_p95_s.end());
  }
  return out;
}
}  // namespace

TEST_CASE("request path: the outcome does not depend on the order edges are declared in", "[sim][truth]") {
  std::vector<double> ab = in_child([] { return fan_out(true); });
  std::vector<double> ba = in_child([] { return fan_out(false); });
  REQUIRE(ab.size() == ba.size());
  REQUIRE(ab.size() > 10);
  // Summary order: requests_total, requests_completed, requests_failed, ...: every value identical.
  for (size_t i = 0; i < ab.size(); ++i) {
    INFO("value " << i << ": " << ab[i] << " (a first) vs " << ba[i] << " (b first)");
    // (latency_p95_during_scaling_s is NaN in both: the fleet changes at once, zero-length phases)
    CHECK(same_value(ab[i], ba[i]));
  }
  // The outage matters: requests of (50, 80) fail, about 15/s x 30 s = 450 (sd about 21).
  CHECK(ab[2] > 380);
  CHECK(ab[2] < 520);
}

// ---------------------------------------------------------------------------------------------------------
// Request times

TEST_CASE("request times: no negative wait or latency in a busy queue of 100 000 requests", "[sim][truth]") {
  // 16 workers on 16 vCPUs, 150/s of 0.1 s: rho = 15 / 16; bounded queues and 1 s client timeouts make some
  // rejections and give-ups (never started: wait -1).
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 16;
  p.workers = 16;
  p.hosts = 1;
  p.host_cores = 16;
  p.duration_s = 700;
  p.arrival_rps = 150;
  p.work_mean_s = 0.1;
  p.queue_limit = 30;
  p.client_timeout_s = 1;
  RunSpec run = single_queue(p);
  run.record_requests = true;
  run.monitoring = {1, 0, 5};
  RunResult r = run_with(run, std::make_shared<RecordingController>(1));
  // 150/s x 700 s = 105 000 arrivals.
  CHECK(r.requests.size() > 100000);
  long bad = 0, waited = 0;
  for (const auto& q : r.requests) {
    bool ok = (q.wait_s >= 0 || q.wait_s == -1) && q.latency_s >= 0 && q.latency_s >= q.wait_s &&
              (q.failed || q.wait_s >= 0);
    if (!ok) {
      if (++bad <= 5)
        FAIL_CHECK("arrival " << q.arrival_s << " latency " << q.latency_s << " wait " << q.wait_s);
    }
    waited += q.wait_s > 0 ? 1 : 0;
  }
  CHECK(bad == 0);
  CHECK(waited > 1000);  // the queue was busy
}

// ---------------------------------------------------------------------------------------------------------
// Pod placement

namespace {
// 4 saturated pods (8 workers, request 1) on a fixed pool of 4 nodes x 8 vCPUs.
std::shared_ptr<RecordingController> four_pods(SchedulerPolicy policy) {
  QueuePreset p = saturated(4, 8, 8);
  p.arrival_rps = 1000;
  p.duration_s = 40;
  RunSpec run = single_queue(p);
  fixed_pool(run, 4, 8);
  run.node_pools[0].scheduler = policy;
  run.monitoring = {1, 0, 10};
  auto rec = std::make_shared<RecordingController>(10);
  run_with(run, rec);
  return rec;
}
}  // namespace

TEST_CASE("placement: least-allocated spreads four pods over four nodes", "[sim][truth]") {
  auto rec = four_pods(SchedulerPolicy::least_allocated);
  const Observation& obs = rec->at(40);
  REQUIRE(obs.node_pools.size() == 1);
  CHECK(obs.node_pools[0].nodes == 4);
  CHECK(obs.node_pools[0].pods == 4);
  CHECK(obs.node_pools[0].requested_cpu_cores == 4);
  // A node each: 8 requests on 8 cores, 8 cores each (only possible on separate nodes).
  const ServiceObservation& s = obs.services.at(0);
  REQUIRE(s.instances.size() == 4);
  for (const auto& in : s.instances) CHECK(in.cpu_usage_cores == Approx(8.0).epsilon(0.01));
}

TEST_CASE("placement: most-allocated piles four pods on one node", "[sim][truth]") {
  auto rec = four_pods(SchedulerPolicy::most_allocated);
  const Observation& obs = rec->at(40);
  CHECK(obs.node_pools[0].pods == 4);
  // One node: 32 requests on 8 cores, 2 cores each.
  const ServiceObservation& s = obs.services.at(0);
  REQUIRE(s.instances.size() == 4);
  for (const auto& in : s.instances) CHECK(in.cpu_usage_cores == Approx(2.0).epsilon(0.01));
}
