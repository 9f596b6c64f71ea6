#pragma once
// What is seen of a run: the scrapes monitoring takes, the observation a controller is shown, the record kept
// (time series, event table) and the totals the summary is computed from. It reads the fleet, the request
// path and the cluster (it only takes the latency samples and interval counters it has read), and owns the
// per-service accounting of CPU while ready. Engine-free.
#include <deque>
#include <optional>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/observation.hpp"
#include "sim/cluster/cluster.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/monitoring.hpp"
#include "sim/fleet/fleet.hpp"
#include "sim/requests/request_model.hpp"

namespace autoscale {

class Observer {
 public:
  Observer(const RunSpec& run, const Fleet& fleet, RequestModel& requests, const Cluster& cluster,
           RunResult& result);

  // Every lifecycle transition: the event table, CPU accounting while ready, instance-seconds, bills.
  void on_transition(int id, State from, State to, double t);
  void on_desired(int service, int n) {
    services_[static_cast<size_t>(service)].desired_history.push_back(n);
  }

  void scrape(double t);
  // Service-wide metrics averaged over a controller's own windows from 1-second samples (take_sample every
  // second); observe() then fills stable_value / panic_value.
  void average_over(int service, const MetricWindows& windows) {
    windows_[static_cast<size_t>(service)] = windows;
  }
  void take_sample(double t);
  // What the controller is shown at t: the truth where a controller knows it (its own desired counts,
  // min/max, node pools), the monitoring pipeline's late aggregates for everything measured.
  Observation observe(double t) const;
  void record(double t);
  // The failure series and the summary, at the run's end.
  void finish(double end_s);

 private:
  struct ServiceState {
    double ready_busy_closed_core_s = 0;  // CPU delivered to instances while ready, periods that ended
    double cap_level = 0;                 // CPU requested by ready instances now (cores)
    double capacity_core_s = 0, level_since = 0;
    double rec_busy0 = 0, rec_cap0 = 0;  // at the previous record
    double work_flops_mean = 0;
    double usable_cores = 0;  // per instance, in cores of reference speed: min(workers, cores) x speed ratio
    double closed_cost_usd = 0;  // dedicated nodes of terminated instances
    std::vector<int> desired_history;
  };
  double usage_core_s(int id) const;
  double ready_busy_core_s(int s) const;
  void touch_capacity(ServiceState& sv, double t);
  double nominal_request(size_t s) const;

  const RunSpec& run_;
  const Fleet& fleet_;
  RequestModel& requests_;
  const Cluster& cluster_;
  RunResult& result_;
  MonitoringPipeline monitoring_;
  std::vector<ServiceState> services_;
  std::vector<double> ready_usage_start_;  // per instance: its usage when it last turned ready
  struct Sample {
    double time_s;
    double concurrency;  // requests in service or queued on ready instances, and waiting at the activator
    double arrivals;     // cumulative
  };
  std::vector<std::optional<MetricWindows>> windows_;  // per service
  std::vector<std::deque<Sample>> samples_;            // per service, the newest last
  double window_average(size_t s, double t, double window_s) const;
  double instance_seconds_closed_ = 0;
};

}  // namespace autoscale
