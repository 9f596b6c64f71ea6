// Queueing truth: the engine against closed forms. Each TEST_CASE runs in its own process (one SimGrid engine
// each).
#include <catch2/catch.hpp>
#include <cmath>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

using namespace autoscale;

namespace {
double erlang_c(int c, double a) {
  double term = 1, sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  double top = term * c / (c - a);  // a^c / c! * c / (c - a)
  return top / (sum + top);
}
}  // namespace

TEST_CASE("M/M/c: one instance with c workers matches Erlang C", "[sim][queueing]") {
  // c = 2 workers on a 2-vCPU VM, lambda = 16/s, mean work 0.1 s: a = 1.6, rho = 0.8.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 2;
  p.workers = 2;
  p.hosts = 1;
  p.arrival_rps = 16;
  p.work_mean_s = 0.1;
  p.duration_s = 15000;  // 240 000 requests
  RunSpec run = single_queue(p);
  run.record_requests = true;
  RunResult r = run_simulation(run, {});
  REQUIRE(r.requests.size() > 200000);
  double waited = 0, wait_sum = 0, n = 0;
  for (const auto& q : r.requests) {
    if (q.failed) continue;
    n += 1;
    wait_sum += q.wait_s;
    if (q.wait_s > 0) waited += 1;
  }
  const double mu = 10, lambda = 16;
  const double pw = erlang_c(2, 1.6);        // 0.7111
  const double wq = pw / (2 * mu - lambda);  // 0.1778 s
  CHECK(pw == Approx(0.711111).epsilon(1e-5));
  CHECK(waited / n == Approx(pw).epsilon(0.03));
  CHECK(wait_sum / n == Approx(wq).epsilon(0.05));
}

TEST_CASE("M/M/1-PS: requests sharing one vCPU match the processor-sharing closed form", "[sim][queueing]") {
  // Many workers on one vCPU: SimGrid shares the core among running requests. Mean sojourn 1/(mu - lambda).
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 1;
  p.workers = 10000;
  p.hosts = 1;
  p.arrival_rps = 8;
  p.work_mean_s = 0.1;
  p.duration_s = 25000;  // 200 000 requests
  RunSpec run = single_queue(p);
  run.record_requests = true;
  RunResult r = run_simulation(run, {});
  double sum = 0, n = 0, waited = 0;
  for (const auto& q : r.requests) {
    if (q.failed) continue;
    sum += q.latency_s;
    n += 1;
    if (q.wait_s > 0) waited += 1;
  }
  REQUIRE(n > 190000);
  CHECK(waited == 0);  // under processor sharing nobody queues
  CHECK(sum / n == Approx(1.0 / (10.0 - 8.0)).epsilon(0.05));
}

TEST_CASE("CPU contention: two 2-vCPU VMs overcommitted on one 2-core host share its cores",
          "[sim][queueing]") {
  // Four busy workers (2 VMs x 2) on 2 physical cores: each request runs at half speed.
  QueuePreset p;
  p.instances = 2;
  p.vcpu = 2;
  p.workers = 2;
  p.hosts = 1;
  p.host_cores = 2;
  p.cpu_overcommit = 2;
  p.arrival_rps = 40;  // far more than capacity: every worker stays busy
  p.work_mean_s = 0.1;
  p.queue_limit = 5;
  p.duration_s = 200;
  RunSpec run = single_queue(p);
  run.record_interval_s = 10;
  RunResult r = run_simulation(run, {});
  // 4 workers share 2 cores: throughput = 2 cores / 0.1 s = 20 requests/s, whatever the VMs believe they
  // have.
  double completed = 0;
  for (size_t i = 10; i < r.services[0].completed_rps.size(); ++i)
    completed += r.services[0].completed_rps[i];
  double mean_rate = completed / static_cast<double>(r.services[0].completed_rps.size() - 10);
  CHECK(mean_rate == Approx(20.0).epsilon(0.05));
}
