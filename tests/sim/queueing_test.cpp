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

// One instance on one host, Poisson arrivals and exponential work, every request recorded.
struct QueueStats {
  double n = 0, mean_latency_s = 0, mean_wait_s = 0, p_wait = 0;
};
QueueStats run_one_instance(int vcpu, int workers, double arrival_rps, double work_mean_s,
                            double duration_s) {
  QueuePreset p;
  p.instances = 1;
  p.vcpu = vcpu;
  p.workers = workers;
  p.hosts = 1;
  p.arrival_rps = arrival_rps;
  p.work_mean_s = work_mean_s;
  p.duration_s = duration_s;
  RunSpec run = single_queue(p);
  run.record_requests = true;
  RunResult r = run_simulation(run, {});
  QueueStats st;
  for (const auto& q : r.requests) {
    if (q.failed) continue;
    st.n += 1;
    st.mean_latency_s += q.latency_s;
    st.mean_wait_s += q.wait_s;
    if (q.wait_s > 0) st.p_wait += 1;
  }
  st.mean_latency_s /= st.n;
  st.mean_wait_s /= st.n;
  st.p_wait /= st.n;
  return st;
}
}  // namespace

TEST_CASE("M/M/c: one instance with c workers matches Erlang C", "[sim][queueing]") {
  // c = 2 workers on a 2-vCPU VM, lambda = 16/s, mean work 0.1 s: a = 1.6, rho = 0.8; 240 000 requests.
  QueueStats st = run_one_instance(2, 2, 16, 0.1, 15000);
  REQUIRE(st.n > 200000);
  const double mu = 10, lambda = 16;
  const double pw = erlang_c(2, 1.6);        // 0.7111
  const double wq = pw / (2 * mu - lambda);  // 0.1778 s
  CHECK(pw == Approx(0.711111).epsilon(1e-5));
  CHECK(st.p_wait == Approx(pw).epsilon(0.03));
  CHECK(st.mean_wait_s == Approx(wq).epsilon(0.05));
}

TEST_CASE("M/M/1-PS: requests sharing one vCPU match the processor-sharing closed form", "[sim][queueing]") {
  // Many workers on one vCPU: SimGrid shares the core among running requests. Mean sojourn 1/(mu - lambda);
  // lambda = 8/s, mu = 10/s, 200 000 requests.
  QueueStats st = run_one_instance(1, 10000, 8, 0.1, 25000);
  REQUIRE(st.n > 190000);
  CHECK(st.p_wait == 0);  // under processor sharing nobody queues
  CHECK(st.mean_latency_s == Approx(1.0 / (10.0 - 8.0)).epsilon(0.05));
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
