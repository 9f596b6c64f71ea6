// Monitoring and summary metrics against hand-worked examples.
#include <catch2/catch.hpp>
#include <cmath>
#include <stdexcept>

#include "sim/core/metrics.hpp"
#include "sim/core/monitoring.hpp"

using namespace autoscale;

TEST_CASE("quantile interpolates between order statistics like numpy", "[metrics]") {
  std::vector<double> v = {4, 1, 3, 2};
  CHECK(quantile(v, 0.5) == 2.5);
  std::vector<double> h;
  for (int i = 1; i <= 100; ++i) h.push_back(i);
  CHECK(quantile(h, 0.95) == Approx(95.05));
  CHECK(quantile(h, 0.0) == 1);
  CHECK(quantile(h, 1.0) == 100);
  std::vector<double> e;
  CHECK(quantile(e, 0.5) == 0);
}

TEST_CASE("actions and reversals of a desired-count sequence", "[metrics]") {
  // 2 -> 3 (+) -> 4 (+) -> 3 (-, reversal) -> 3 -> 5 (+, reversal) -> 2 (-, reversal)
  ScalingCounts c = count_scaling({2, 3, 4, 3, 3, 5, 2});
  CHECK(c.actions == 5);
  CHECK(c.reversals == 3);
  CHECK(count_scaling({4}).actions == 0);
  CHECK(count_scaling({1, 2, 3, 4}).reversals == 0);
}

TEST_CASE("wasted capacity and under-provisioning episodes weight each interval by its real length",
          "[metrics]") {
  // One idle instance for 1000 s recorded every 300 s: intervals 300, 300, 300 and 100 s.
  // Wasted: 1 x (300 + 300 + 300 + 100) = 1000 instance-seconds (not 4 x 300 = 1200).
  ProvisioningStats idle = provisioning_stats({300, 600, 900, 1000}, {1, 1, 1, 1}, {0, 0, 0, 0});
  CHECK(idle.wasted_instance_seconds == 1000);
  CHECK(idle.episode_lengths_s.empty());
  // Intervals 60 s each, the last 30 s. ready - needed = +1, 0, -1, -2, +1, -0.5, -1.
  std::vector<double> t = {60, 120, 180, 240, 300, 360, 390};
  std::vector<int32_t> ready = {2, 2, 1, 1, 3, 2, 1};
  std::vector<double> needed = {1, 2, 2, 3, 2, 2.5, 2};
  ProvisioningStats p = provisioning_stats(t, ready, needed);
  CHECK(p.wasted_instance_seconds == 120);  // (1 + 1) x 60
  REQUIRE(p.episode_lengths_s.size() == 2);
  CHECK(p.episode_lengths_s[0] == 120);  // 60 + 60
  CHECK(p.episode_lengths_s[1] == 90);   // 60 + 30: still short of need when the run ends
  CHECK_THROWS_AS(provisioning_stats(t, {2, 2}, needed), std::invalid_argument);
  CHECK_THROWS_AS(provisioning_stats(t, ready, {1, 2}), std::invalid_argument);
}

namespace {
double metric(const Summary& s, const std::string& key) {
  const SummaryValue* v = find_metric(s, key);
  REQUIRE(v != nullptr);
  return v->value;
}

ServiceSeries series(std::vector<int32_t> ready, std::vector<double> needed) {
  ServiceSeries s;
  s.instances_ready = std::move(ready);
  s.needed_instances = std::move(needed);
  return s;
}

// A run of 1000 s, recorded every 300 s (the last interval is 100 s), with no service series.
RunTotals thousand_seconds(RunResult& recorded) {
  recorded.record_interval_s = 300;
  recorded.time_s = {300, 600, 900, 1000};
  RunTotals t;
  t.duration_s = 1000;
  return t;
}
}  // namespace

TEST_CASE("summarize: keys in the canonical order, counts flagged as integers", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  Summary s = summarize(t, rec, SummaryConfig{1.0});
  REQUIRE(s.size() == summary_metric_names().size());
  for (size_t i = 0; i < s.size(); ++i) {
    CHECK(s[i].key == summary_metric_names()[i]);
    bool count = s[i].key.rfind("requests_", 0) == 0 || s[i].key == "scaling_actions" ||
                 s[i].key == "scaling_reversals" || s[i].key == "cold_starts" ||
                 s[i].key == "violation_episodes";
    CHECK(s[i].integer == count);
  }
}

TEST_CASE("summarize: cold starts counted, their first waits averaged, 0 without one", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  Summary none = summarize(t, rec, SummaryConfig{1.0});
  CHECK(find_metric(none, "cold_starts")->value == 0);
  CHECK(find_metric(none, "cold_start_wait_s")->value == 0);
  t.cold_start_waits_s = {12.0, 3.0, 6.0};  // mean (12 + 3 + 6) / 3 = 7
  Summary s = summarize(t, rec, SummaryConfig{1.0});
  CHECK(find_metric(s, "cold_starts")->value == 3);
  CHECK(find_metric(s, "cold_start_wait_s")->value == Approx(7.0));
}

TEST_CASE("summarize: request counts and the SLA violation fraction", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  // SLA 2 s. Completed: 2.5 and 4 are slower (2.0 is not: the SLA is met at exactly 2 s) -> 2 slow.
  t.completed_latencies_s = {0.5, 1.0, 2.0, 2.5, 4.0};
  t.requests_failed = 3;
  // In flight at t = 1000 since 1, 2 and 10 s: only the last is older than the SLA -> 1.
  t.in_flight_arrivals_s = {999, 998, 990};
  t.requests_total = 11;  // 5 + 3 + 3
  Summary s = summarize(t, rec, SummaryConfig{2.0});
  CHECK(metric(s, "requests_total") == 11);
  CHECK(metric(s, "requests_completed") == 5);
  CHECK(metric(s, "requests_failed") == 3);
  CHECK(metric(s, "requests_in_flight_end") == 3);
  CHECK(metric(s, "sla_violation_fraction") == Approx(6.0 / 11));  // (3 failed + 2 slow + 1 old) / 11
  // A looser SLA of 5 s: no completed request is slow, one in-flight request is older -> (3 + 0 + 1) / 11.
  CHECK(metric(summarize(t, rec, SummaryConfig{5.0}), "sla_violation_fraction") == Approx(4.0 / 11));
  t.requests_total = 12;  // one request unaccounted for
  CHECK_THROWS_AS(summarize(t, rec, SummaryConfig{2.0}), std::invalid_argument);
}

TEST_CASE("summarize: latency percentiles, overall and during scaling", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  // Sorted 1 2 3 4 5; position q x (5 - 1): p50 at 2 -> 3; p95 at 3.8 -> 4 + 0.8 x (5 - 4) = 4.8;
  // p99 at 3.96 -> 4.96.
  t.completed_latencies_s = {5, 1, 4, 2, 3};
  // Sorted 1 2 3; p95 at 0.95 x 2 = 1.9 -> 2 + 0.9 x (3 - 2) = 2.9.
  t.scaling_latencies_s = {3, 1, 2};
  t.requests_total = 5;
  Summary s = summarize(t, rec, SummaryConfig{10.0});
  CHECK(metric(s, "latency_p50_s") == Approx(3));
  CHECK(metric(s, "latency_p95_s") == Approx(4.8));
  CHECK(metric(s, "latency_p99_s") == Approx(4.96));
  CHECK(metric(s, "latency_p95_during_scaling_s") == Approx(2.9));
  // A run that never scales: no request arrived during scaling, so there is no such latency (not 0 s).
  t.scaling_latencies_s.clear();
  Summary never = summarize(t, rec, SummaryConfig{10.0});
  CHECK(std::isnan(metric(never, "latency_p95_during_scaling_s")));
  CHECK(metric(never, "latency_p95_s") == Approx(4.8));
}

TEST_CASE("summarize: cost per million requests, and a run without requests", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  t.cost_usd = 3;
  t.instance_seconds = 2500;
  t.requests_failed = 250000;
  t.requests_total = 250000;
  Summary s = summarize(t, rec, SummaryConfig{1.0});
  CHECK(metric(s, "cost_usd") == 3);
  CHECK(metric(s, "instance_seconds") == 2500);
  CHECK(metric(s, "cost_per_million_requests_usd") == Approx(12));  // 3 / 250000 x 10^6
  CHECK(metric(s, "sla_violation_fraction") == 1);                  // every request failed
  t.requests_failed = t.requests_total = 0;
  Summary none = summarize(t, rec, SummaryConfig{1.0});
  CHECK(metric(none, "cost_usd") == 3);
  CHECK(metric(none, "cost_per_million_requests_usd") == 0);  // defined as 0, not 3 / 0
  CHECK(metric(none, "sla_violation_fraction") == 0);
  CHECK(metric(none, "requests_total") == 0);
}

TEST_CASE("summarize: scaling actions, reversals and reversals per hour", "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);
  t.duration_s = 7200;  // 2 h
  // Service 0: 2 -> 3 -> 4 (+, +) -> 3 (-, reversal) -> 5 (+, reversal) -> 2 (-, reversal): 5 actions, 3
  // reversals. Service 1: 4 -> 2 (-) -> 3 (+, reversal): 2 actions, 1 reversal. Service 2: never changes.
  t.desired_history = {{2, 3, 4, 3, 5, 2}, {4, 2, 3}, {6}};
  Summary s = summarize(t, rec, SummaryConfig{1.0});
  CHECK(metric(s, "scaling_actions") == 7);             // 5 + 2 + 0
  CHECK(metric(s, "scaling_reversals") == 4);           // 3 + 1 + 0
  CHECK(metric(s, "reversals_per_hour") == Approx(2));  // 4 / 2 h
}

TEST_CASE("summarize: wasted and under-provisioned seconds, time to scale, with a short last interval",
          "[metrics]") {
  RunResult rec;
  RunTotals t = thousand_seconds(rec);  // intervals 300, 300, 300, 100 s
  // Service 0: ready - needed = +1, +1, +1, -1: wasted 3 x 300 = 900; one episode: the last 100 s.
  rec.services.push_back(series({2, 2, 2, 1}, {1, 1, 1, 2}));
  // Service 1: ready - needed = 0, -1, -2, -1: wasted 0; one episode 300 + 300 + 100 = 700 s.
  rec.services.push_back(series({2, 1, 1, 1}, {2, 2, 3, 2}));
  // Service 2: one idle instance all along: wasted 300 + 300 + 300 + 100 = 1000 (not 4 x 300 = 1200).
  rec.services.push_back(series({1, 1, 1, 1}, {0, 0, 0, 0}));
  Summary s = summarize(t, rec, SummaryConfig{1.0});
  CHECK(metric(s, "wasted_instance_seconds") == Approx(1900));  // 900 + 0 + 1000
  // Some service short of need in intervals 2, 3 (service 1) and 4 (services 0 and 1, counted once):
  // 300 + 300 + 100 = 700 s.
  CHECK(metric(s, "under_provisioned_seconds") == Approx(700));
  CHECK(metric(s, "time_to_scale_mean_s") == Approx(400));  // episodes 100 and 700 s: (100 + 700) / 2
  // Only the idle service: nothing short of need, no episode: time to scale is 0 (SCHEMA.md: 0 if none).
  rec.services.erase(rec.services.begin(), rec.services.begin() + 2);
  Summary idle = summarize(t, rec, SummaryConfig{1.0});
  CHECK(metric(idle, "wasted_instance_seconds") == Approx(1000));
  CHECK(metric(idle, "under_provisioned_seconds") == 0);
  CHECK(metric(idle, "time_to_scale_mean_s") == 0);
  rec.services.push_back(series({1, 1}, {0, 0}));  // two values for four intervals
  CHECK_THROWS_AS(summarize(t, rec, SummaryConfig{1.0}), std::invalid_argument);
}

TEST_CASE("monitoring: controllers see lagged scrapes averaged over the window", "[monitoring]") {
  MonitoringSpec spec;
  spec.scrape_interval_s = 15;
  spec.lag_s = 15;
  spec.window_s = 30;
  MonitoringPipeline m(spec, {false});
  // 10 requests/s until t = 45, then 30/s; utilization 50 % of 4 cores until 45, then 100 %.
  double arrivals = 0, busy = 0, cap = 0;
  for (int i = 0; i <= 6; ++i) {
    double t = 15.0 * i;
    Scrape s;
    s.time_s = t;
    ServiceSample x;
    if (i > 0) {
      double rate = t <= 45 ? 10 : 30;
      arrivals += rate * 15;
      busy += (t <= 45 ? 2 : 4) * 15.0;
      cap += 4 * 15.0;
    }
    x.arrivals = arrivals;
    x.busy_core_s = busy;
    x.capacity_core_s = cap;
    x.in_service_instances = 2;
    x.draining = 1;
    x.in_service = 9;        // 6 on the two ready instances, 3 on the draining one
    x.in_service_ready = 6;  // only these count towards concurrency per ready instance
    x.queued_ready = 4;
    x.latencies_s = {0.1 * i};
    s.services = {x};
    m.add(s);
  }
  Observation obs;
  obs.services.resize(1);
  // At t = 60 the newest visible scrape is from t = 45 (lag 15); window 30 s: scrapes 15 -> 45.
  m.observe(60, obs);
  REQUIRE(obs.services[0].metrics_valid);
  CHECK(obs.services[0].sample_age_s == 15);
  CHECK(obs.services[0].arrival_rps == Approx(10));
  CHECK(obs.services[0].cpu_utilization == Approx(0.5));
  CHECK(obs.services[0].concurrency == Approx(3));  // 6 in service over 2 ready instances, not 9 / 2
  CHECK(obs.services[0].queue_depth == Approx(2));  // 4 queued over 2 ready instances
  // At t = 90: newest visible 75, window 45 -> 75 covers the faster rate only.
  m.observe(90, obs);
  CHECK(obs.services[0].arrival_rps == Approx(30));
  CHECK(obs.services[0].cpu_utilization == Approx(1.0));
  CHECK(obs.services[0].latency_p95_s ==
        Approx(0.4 + 0.95 * 0.1));  // latencies of the scrapes at 60 and 75 s
  // Before anything is visible, metrics are marked invalid.
  MonitoringPipeline early(spec, {false});
  Scrape s0;
  s0.services.resize(1);
  early.add(s0);
  early.observe(10, obs);
  CHECK_FALSE(obs.services[0].metrics_valid);
}

TEST_CASE("monitoring: per-instance usage over the window, from each instance's first scrape",
          "[monitoring]") {
  MonitoringSpec spec;
  spec.scrape_interval_s = 10;
  spec.lag_s = 0;
  spec.window_s = 30;
  MonitoringPipeline m(spec, {false});
  // Instance 7 uses 1.5 cores all along; instance 9 appears at t = 20 and uses 0.5 cores; 8 appears at t
  // = 40.
  for (int i = 0; i <= 4; ++i) {
    double t = 10.0 * i;
    Scrape s;
    s.time_s = t;
    ServiceSample x;
    x.instances.push_back({7, "in_service", true, false, 0, 0, 1.5 * t, 2, 2});
    if (t >= 20) x.instances.push_back({9, "warming", true, false, 5, 18, 0.5 * (t - 20), 2, 1});
    if (t >= 40) x.instances.push_back({8, "booting", false, false, 35, -1, 0, 2, 0});
    s.services = {x};
    m.add(s);
  }
  Observation obs;
  obs.services.resize(1);
  m.observe(40, obs);
  const auto& in = obs.services[0].instances;
  REQUIRE(in.size() == 3);
  CHECK(in[0].id == 7);
  CHECK(in[0].has_metrics);
  CHECK(in[0].cpu_usage_cores == Approx(1.5));
  CHECK(in[0].metrics_window_s == 30);  // baseline scrape at t = 10
  CHECK(in[0].concurrency == 2);
  CHECK(in[1].id == 9);
  CHECK(in[1].cpu_usage_cores == Approx(0.5));
  CHECK(in[1].metrics_window_s == 20);  // from its first scrape at t = 20
  CHECK(in[1].ready_time_s == 18);
  CHECK(in[1].state == "warming");
  CHECK(in[2].id == 8);
  CHECK_FALSE(in[2].has_metrics);  // a single scrape: no rate yet
  CHECK_FALSE(in[2].ready);
  CHECK(in[2].cpu_request_cores == 2);
}

TEST_CASE("weighted quantile equals the quantile of the expanded values", "[metrics]") {
  // Fluid mode's latency samples stand for several requests each: the summary's percentiles must be those of
  // the requests, as if every sample were repeated its count times.
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> values, weights, expanded;
    const int n = 1 + static_cast<int>(next() % 40);
    for (int i = 0; i < n; ++i) {
      values.push_back(static_cast<double>(next() % 20) / 4);  // ties on purpose
      weights.push_back(static_cast<double>(next() % 5));      // zeros too
      for (int k = 0; k < static_cast<int>(weights.back()); ++k) expanded.push_back(values.back());
    }
    const std::vector<double> qs = {0.99, 0.0, 0.5, 0.95, 1.0};  // in any order, all in one pass
    const std::vector<double> together = weighted_quantiles(values, weights, qs);
    for (size_t k = 0; k < qs.size(); ++k) {
      std::vector<double> copy = expanded;
      INFO("trial " << trial << " q " << qs[k]);
      CHECK(weighted_quantile(values, weights, qs[k]) == Approx(quantile(copy, qs[k])).margin(1e-12));
      CHECK(together[k] == Approx(quantile(copy, qs[k])).margin(1e-12));
    }
  }
  CHECK(weighted_quantile({1, 2}, {0, 0}, 0.5) == 0);
  // Hand-worked: {1 x3, 10 x1}: ranks 0..3, p50 at rank 1.5 between 1 and 1.
  CHECK(weighted_quantile({10, 1}, {1, 3}, 0.5) == 1);
  CHECK(weighted_quantile({10, 1}, {1, 3}, 0.9) == Approx(1 + 0.7 * 9));
}
