// Fluid mode (sim/fluid) through the whole engine, against closed forms: a steady M/M/c queue (Erlang C) and
// the backlog of an overload, built and drained at lambda - capacity. Fluid mode needs no SimGrid engine.
#include <catch2/catch.hpp>
#include <cmath>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

using namespace autoscale;

namespace {
double metric(const RunResult& r, const char* key) {
  const SummaryValue* v = find_metric(r.summary, key);
  REQUIRE(v != nullptr);
  return v->value;
}

// M/M/c FIFO: P(sojourn > x) = (1 - C) e^{-mu x} + C P(S + W > x), S ~ Exp(mu), W ~ Exp(theta = c mu -
// lambda).
double sojourn_exceeds(double x, double lambda, double mu, int c, double p_wait) {
  const double theta = c * mu - lambda;
  const double both = (theta * std::exp(-mu * x) - mu * std::exp(-theta * x)) / (theta - mu);
  return (1 - p_wait) * std::exp(-mu * x) + p_wait * both;
}

double sojourn_quantile(double q, double lambda, double mu, int c, double p_wait) {
  double lo = 0, hi = 100;
  for (int i = 0; i < 200; ++i) {
    const double mid = (lo + hi) / 2;
    (sojourn_exceeds(mid, lambda, mu, c, p_wait) > 1 - q ? lo : hi) = mid;
  }
  return lo;
}

size_t row_at(const RunResult& r, double t) {
  for (size_t i = 0; i < r.time_s.size(); ++i)
    if (std::abs(r.time_s[i] - t) < 1e-9) return i;
  FAIL("no record at " << t);
  return 0;
}
}  // namespace

TEST_CASE("fluid mode: a steady M/M/2 queue has Erlang C's latency percentiles, SLA share and utilization",
          "[sim][fluid]") {
  // lambda = 16/s, mean work 0.1 s on 2 workers and 2 vCPUs: rho = 0.8, C = 32/45.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 2;
  p.workers = 2;
  p.hosts = 1;
  p.arrival_rps = 16;
  p.work_mean_s = 0.1;
  p.duration_s = 7200;
  RunSpec run = single_queue(p);
  run.fidelity = Fidelity::fluid;
  run.sla.latency_s = 0.5;
  RunResult r = run_simulation(run, {});
  const double lambda = 16, mu = 10, c_wait = 32.0 / 45;
  CHECK(metric(r, "requests_total") == Approx(lambda * p.duration_s).margin(1));
  CHECK(metric(r, "requests_failed") == 0);
  CHECK(metric(r, "latency_p50_s") == Approx(sojourn_quantile(0.50, lambda, mu, 2, c_wait)).epsilon(0.01));
  CHECK(metric(r, "latency_p95_s") == Approx(sojourn_quantile(0.95, lambda, mu, 2, c_wait)).epsilon(0.01));
  CHECK(metric(r, "latency_p99_s") == Approx(sojourn_quantile(0.99, lambda, mu, 2, c_wait)).epsilon(0.015));
  CHECK(metric(r, "sla_violation_fraction") ==
        Approx(sojourn_exceeds(0.5, lambda, mu, 2, c_wait)).margin(0.002));
  // The per-record SLA series counts the same requests: by the interval they arrived in, every one of them.
  double arrived = 0, violated = 0;
  for (size_t i = 0; i < r.sla_requests.size(); ++i) {
    arrived += r.sla_requests[i];
    violated += r.sla_violations[i];
  }
  CHECK(arrived == Approx(lambda * p.duration_s).margin(1));
  CHECK(violated / arrived == Approx(sojourn_exceeds(0.5, lambda, mu, 2, c_wait)).margin(0.002));
  // Busy cores 1.6 of 2 in every record; the queue's depth, Lq = C rho / (1 - rho).
  const ServiceSeries& s = r.services[0];
  for (size_t i = 0; i < s.utilization.size(); ++i) CHECK(s.utilization[i] == Approx(0.8).epsilon(1e-6));
  CHECK(s.queue_depth.back() == Approx(c_wait * 0.8 / 0.2).epsilon(1e-6));
}

TEST_CASE("fluid mode: an overload builds a backlog at lambda - capacity and drains it at capacity - lambda",
          "[sim][fluid]") {
  // Capacity 20/s (2 workers, 2 vCPUs, 0.1 s); 10/s, tripled to 30/s over [600, 660): the backlog grows
  // 10/s to 600, then drains 10/s until 720.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 2;
  p.workers = 2;
  p.hosts = 1;
  p.arrival_rps = 10;
  p.work_mean_s = 0.1;
  p.duration_s = 900;
  RunSpec run = single_queue(p);
  run.fidelity = Fidelity::fluid;
  run.record_interval_s = 10;
  TrafficComponent burst;
  burst.kind = TrafficComponent::Kind::scheduled;
  burst.name = "burst";
  burst.shape = true;
  burst.start_s = 600;
  burst.duration_s = 60;
  burst.ramp_s = 0;
  burst.multiplier = 3;
  run.traffic.components.push_back(burst);
  RunResult r = run_simulation(run, {});
  const ServiceSeries& s = r.services[0];
  // The depth recorded at t is the mean over the step before it, past the 2 requests in service: at 630 the
  // backlog went 290 -> 300 in the last second (mean 295), at 660 590 -> 600, at 690 310 -> 300.
  CHECK(s.queue_depth[row_at(r, 600)] < 1);
  CHECK(s.queue_depth[row_at(r, 630)] == Approx(295).epsilon(0.01));
  CHECK(s.queue_depth[row_at(r, 660)] == Approx(595).epsilon(0.01));
  CHECK(s.queue_depth[row_at(r, 690)] == Approx(305).epsilon(0.01));
  CHECK(s.queue_depth[row_at(r, 730)] < 1);
  // Requests arriving over (650, 660] wait behind 500..600 others at 20/s: 25..30 s, median 27.5 s plus work.
  CHECK(s.latency_p50_s[row_at(r, 660)] == Approx(27.5).epsilon(0.03));
  CHECK(s.utilization[row_at(r, 660)] == Approx(1).epsilon(1e-6));
  // Nothing is lost (no queue limit, no timeout): every request completed.
  CHECK(metric(r, "requests_failed") == 0);
  CHECK(metric(r, "requests_completed") == metric(r, "requests_total"));
}

TEST_CASE("fluid mode: workers beyond the cores share them, as in exact mode (processor sharing)",
          "[sim][fluid]") {
  // One core, 4 workers, rho = 0.7: the 4 requests in service share the core. Against M/M/1 FIFO (sojourn
  // Exp(mu - lambda) = Exp(6): p50 0.116 s, p99 0.768 s) sharing lets short requests through sooner and
  // holds long ones longer; exact mode (SimGrid's CPU sharing) is the reference.
  QueuePreset p;
  p.instances = 1;
  p.vcpu = 1;
  p.workers = 4;
  p.hosts = 1;
  p.arrival_rps = 14;
  p.work_mean_s = 0.05;
  p.duration_s = 3000;
  RunSpec run = single_queue(p);
  run.fidelity = Fidelity::exact;
  RunResult exact = run_simulation(run, {});
  run.fidelity = Fidelity::fluid;
  RunResult fluid = run_simulation(run, {});
  CHECK(metric(exact, "latency_p50_s") < std::log(2.0) / 6 * 0.9);
  CHECK(metric(exact, "latency_p99_s") > std::log(100.0) / 6 * 1.1);
  for (const char* key : {"latency_p50_s", "latency_p95_s", "latency_p99_s"})
    CHECK(metric(fluid, key) == Approx(metric(exact, key)).epsilon(0.06));
}
