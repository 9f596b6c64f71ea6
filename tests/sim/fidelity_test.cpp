// Fast mode against exact mode and closed forms. Exact mode runs on SimGrid (one engine per process: at most
// one exact run per TEST_CASE, each its own process); fast mode needs no engine, so any number of its runs
// share a process.
#include <catch2/catch.hpp>
#include <cmath>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

using namespace autoscale;

namespace {
struct Stats {
  double n = 0, mean_latency_s = 0, mean_wait_s = 0, p_wait = 0, failed = 0;
  double p95_s = 0, p99_s = 0;
};
Stats run(RunSpec spec, Fidelity f) {
  spec.fidelity = f;
  spec.record_requests = true;
  RunResult r = run_simulation(spec, {});
  Stats st;
  for (const auto& q : r.requests) {
    if (q.failed) {
      st.failed += 1;
      continue;
    }
    st.n += 1;
    st.mean_latency_s += q.latency_s;
    st.mean_wait_s += q.wait_s;
    if (q.wait_s > 0) st.p_wait += 1;
  }
  st.mean_latency_s /= st.n;
  st.mean_wait_s /= st.n;
  st.p_wait /= st.n;
  st.p95_s = find_metric(r.summary, "latency_p95_s")->value;
  st.p99_s = find_metric(r.summary, "latency_p99_s")->value;
  return st;
}
RunSpec one_instance(int vcpu, int workers, double arrival_rps, double work_mean_s, double duration_s) {
  QueuePreset p;
  p.instances = 1;
  p.vcpu = vcpu;
  p.workers = workers;
  p.hosts = 1;
  p.arrival_rps = arrival_rps;
  p.work_mean_s = work_mean_s;
  p.duration_s = duration_s;
  return single_queue(p);
}
double erlang_c(int c, double a) {
  double term = 1, sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  double top = term * c / (c - a);
  return top / (sum + top);
}
// The same requests (common random numbers) through both backends: the latencies may differ only by
// SimGrid's own rounding, far inside the sampling error of either.
void check_same(const Stats& exact, const Stats& fast) {
  CHECK(fast.n == exact.n);
  CHECK(fast.failed == exact.failed);
  CHECK(fast.mean_latency_s == Approx(exact.mean_latency_s).epsilon(1e-3));
  CHECK(fast.p95_s == Approx(exact.p95_s).epsilon(1e-3));
  CHECK(fast.p99_s == Approx(exact.p99_s).epsilon(1e-3));
  CHECK(fast.p_wait == Approx(exact.p_wait).epsilon(1e-3));
}
}  // namespace

TEST_CASE("fast mode: M/M/c FIFO equals exact mode and Erlang C", "[sim][fidelity]") {
  // c = 2 workers on 2 vCPUs, lambda = 16/s, mean work 0.1 s (rho = 0.8), 160 000 requests.
  RunSpec spec = one_instance(2, 2, 16, 0.1, 10000);
  Stats fast = run(spec, Fidelity::fast);
  Stats exact = run(spec, Fidelity::exact);
  check_same(exact, fast);
  const double pw = erlang_c(2, 1.6);
  CHECK(fast.p_wait == Approx(pw).epsilon(0.03));
  CHECK(fast.mean_wait_s == Approx(pw / (2 * 10.0 - 16)).epsilon(0.06));
}

TEST_CASE("fast mode: processor sharing (workers above cores) equals exact mode and M/M/1-PS",
          "[sim][fidelity]") {
  // Many workers on one vCPU: mean sojourn 1 / (mu - lambda) = 0.5 s at lambda = 8/s, mu = 10/s.
  RunSpec spec = one_instance(1, 10000, 8, 0.1, 15000);
  Stats fast = run(spec, Fidelity::fast);
  Stats exact = run(spec, Fidelity::exact);
  check_same(exact, fast);
  CHECK(fast.mean_latency_s == Approx(0.5).epsilon(0.06));
}

TEST_CASE("fast mode: VMs overcommitted on shared hosts equal exact mode", "[sim][fidelity]") {
  // 6 VMs of 2 vCPUs x 3 workers on two 4-core hosts (overcommit 2), near saturation, a queue limit.
  QueuePreset p;
  p.instances = 6;
  p.vcpu = 2;
  p.workers = 3;
  p.hosts = 2;
  p.host_cores = 4;
  p.cpu_overcommit = 2;
  p.arrival_rps = 70;
  p.work_mean_s = 0.1;
  p.queue_limit = 20;
  p.duration_s = 3000;
  RunSpec spec = single_queue(p);
  Stats fast = run(spec, Fidelity::fast);
  Stats exact = run(spec, Fidelity::exact);
  check_same(exact, fast);
}

TEST_CASE("fast mode: several runs share one process (no SimGrid engine) and each is deterministic",
          "[sim][fidelity]") {
  RunSpec spec = one_instance(2, 4, 15, 0.1, 2000);
  spec.fidelity = Fidelity::fast;
  RunResult a = run_simulation(spec, {});
  Simulation s1(spec, {}), s2(spec, {});  // two live at once
  for (double t = 100; s1.step_until(t) | s2.step_until(t); t += 100) {
  }
  RunResult b = s1.finish(), c = s2.finish();
  REQUIRE(a.summary.size() == b.summary.size());
  auto same = [](double x, double y) { return x == y || (std::isnan(x) && std::isnan(y)); };
  for (size_t k = 0; k < a.summary.size(); ++k) {
    INFO(a.summary[k].key);
    CHECK(same(a.summary[k].value, b.summary[k].value));
    CHECK(same(b.summary[k].value, c.summary[k].value));
  }
  CHECK(a.services[0].latency_p95_s == c.services[0].latency_p95_s);
}
