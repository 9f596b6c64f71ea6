#pragma once
// The monitoring pipeline between the cluster and the controllers. Every `scrape_interval_s` the engine takes
// a Scrape (cumulative counters and gauges, as a Prometheus scrape would); a scrape becomes visible `lag_s`
// after it was taken; a controller at time t sees rates and means over `window_s` of visible scrapes, never
// the truth.
#include <deque>
#include <vector>

#include "controllers/observation.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

struct InstanceSample {
  int id = 0;
  std::string state;
  bool ready = false;
  bool deleting = false;
  double start_time_s = 0;
  double ready_time_s = -1;
  double busy_core_s = 0;  // cumulative CPU time delivered to it (cores x s), whatever the state
  double cpu_request_cores = 0;
  int in_service = 0;
  double cpu_limit_cores = 0;  // 0: none
  double throttled_s = 0;      // cumulative time its running work exceeded its CPU limit
  double completed = 0;        // requests it answered successfully, cumulative
};

struct ServiceSample {
  // Cumulative since time 0.
  double arrivals = 0;
  double completions = 0;
  double failures = 0;
  double busy_core_s = 0;      // CPU time delivered to ready instances while ready (cores x s)
  double capacity_core_s = 0;  // CPU requested by ready instances (cores x seconds)
  // Gauges at scrape time: requests holding a worker, on every instance (draining ones too) and on ready
  // ones; requests queued on ready instances.
  double in_service = 0;
  double in_service_ready = 0;
  double queued_ready = 0;
  double activator_queued = 0;  // requests waiting at the service's activator for a ready instance
  int pending = 0, starting = 0, warming = 0, in_service_instances = 0, draining = 0;
  std::vector<double> latencies_s;        // completions since the previous scrape
  std::vector<InstanceSample> instances;  // not terminated, in launch order
};

struct Scrape {
  double time_s = 0;
  std::vector<ServiceSample> services;
};

class MonitoringPipeline {
 public:
  MonitoringPipeline(const MonitoringSpec& spec, std::vector<bool> database);
  void add(Scrape s);
  // Fills the metric fields and instance counts of obs.services (which must be sized and named by the
  // caller).
  void observe(double now_s, Observation& obs) const;

 private:
  void observe_instances(long base, long newest, size_t k, ServiceObservation& o) const;
  MonitoringSpec spec_;
  std::vector<bool> database_;
  std::deque<Scrape> scrapes_;
};

// The q-quantile (0..1) of values by linear interpolation between order statistics (numpy's default); 0 if
// empty. Reorders `values`.
double quantile(std::vector<double>& values, double q);
// The same quantile of the multiset where values[i] appears weights[i] times (whole, non-negative counts):
// equal to quantile() of the expanded vector, without expanding it. 0 if the weights sum to 0.
double weighted_quantile(const std::vector<double>& values, const std::vector<double>& weights, double q);
// Several at once (one selection pass for all of them).
std::vector<double> weighted_quantiles(const std::vector<double>& values, const std::vector<double>& weights,
                                       const std::vector<double>& qs);

}  // namespace autoscale
