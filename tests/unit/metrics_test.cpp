// Monitoring and summary metrics against hand-worked examples.
#include <catch2/catch.hpp>

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

TEST_CASE("wasted capacity, under-provisioning and time to scale", "[metrics]") {
  // Intervals of 60 s. ready - needed = +1, 0, -1, -2, +1, -0.5, 0
  std::vector<int32_t> ready = {2, 2, 1, 1, 3, 2, 2};
  std::vector<double> needed = {1, 2, 2, 3, 2, 2.5, 2};
  ProvisioningStats p = provisioning_stats(ready, needed, 60);
  CHECK(p.wasted_instance_seconds == 120);  // (1 + 1) x 60
  CHECK(p.under_provisioned_seconds == 180);
  REQUIRE(p.episode_lengths_s.size() == 2);
  CHECK(p.episode_lengths_s[0] == 120);
  CHECK(p.episode_lengths_s[1] == 60);
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
    x.in_service = 6;
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
  CHECK(obs.services[0].concurrency == Approx(3));  // 6 in service over 2 ready instances
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
