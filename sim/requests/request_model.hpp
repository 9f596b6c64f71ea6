#pragma once
// What the simulation and the observer need of the requests, whatever simulates them: the per-request path
// (sim/requests/request_path, exact and fast fidelity) or the queueing formulas of fluid fidelity
// (sim/fluid/fluid_requests). The simulation feeds it arrivals (or lets it integrate the offered rate up to
// each event), lifecycle news and completions; the observer reads its counters and per-instance gauges.
#include <vector>

#include "sim/backend/execution_backend.hpp"

namespace autoscale {

// Per service: what monitoring and recording read.
struct ServiceCounters {
  // Cumulative since time 0.
  double arrivals = 0, completions = 0, failures = 0;
  // Gauges: requests holding a worker and queued, all instances; and those on ready instances only.
  double in_service = 0, queued = 0;
  std::vector<double> scrape_latencies_s;  // completions since the last scrape
  // Record interval.
  double rec_arrivals = 0, rec_completions = 0;
  std::vector<double> rec_latencies_s;
  std::vector<double> failures_by_interval;  // by the interval where the client saw the failure
  // The activator (scale from zero): requests waiting for a ready instance, and each cold start's first wait.
  double activator_queued = 0;
  std::vector<double> cold_start_waits_s;
};

// End-user requests (the entry service's roots).
struct RootCounters {
  long total = 0, failed = 0;
  std::vector<double> latencies_s;          // completed
  std::vector<double> scaling_latencies_s;  // completed, arrived while the fleet was changing
  // How many requests each latency above stands for (fluid mode: one entry per sample and step); empty: one
  // each (the per-request path).
  std::vector<double> latency_counts, scaling_latency_counts;
  // By the record interval they arrived in: requests, and those that failed or completed slower than
  // [sla] latency_s (those still in flight at the end are added by the observer).
  std::vector<double> arrived_by_interval, violated_by_interval;
};

class RequestModel {
 public:
  virtual ~RequestModel() = default;

  // One end-user request arrives (the per-request path; fluid mode takes its load from the rate instead).
  virtual void on_root_arrival(double t) = 0;
  // Time passes until t with the fleet as it is (fluid mode integrates its queues; the per-request path has
  // nothing to do between events). Called before every event is handled.
  virtual void advance_to(double t) = 0;
  virtual void enable_activator(int s) = 0;
  virtual void set_activator_in_path(int s, bool in_path, double t) = 0;
  // An instance of service s turned ready.
  virtual void on_ready(int s, double t) = 0;
  // Requests waiting at an activator longer than their client allows fail.
  virtual void expire_waiting(double t) = 0;
  virtual void on_completion(ActivityId id, bool ok, double t) = 0;
  // The instance is terminated: whatever it holds fails.
  virtual void fail_instance(int id, double t) = 0;

  virtual int outstanding(int id) const = 0;  // requests holding a worker or queued
  // Requests holding a worker, and queued, on an instance (fluid mode: their mean over the last step).
  virtual double busy(int id) const = 0;
  virtual double queued(int id) const = 0;
  virtual double completed(int id) const = 0;  // requests it answered successfully so far
  // Time so far with more requests running CPU work than the instance's CPU limit (CFS throttling).
  virtual double throttled_s(int id, double t) const = 0;
  // CPU time (cores x seconds) of the requests running on this instance, so far (beyond the instance's
  // cpu_done_core_s).
  virtual double running_core_s(int id) const = 0;
  virtual const ServiceCounters& counters(int s) const = 0;
  virtual ServiceCounters& counters(int s) = 0;
  virtual const RootCounters& roots() const = 0;
  // Arrival times of the end-user requests still in flight.
  virtual std::vector<double> roots_in_flight() const = 0;
};

}  // namespace autoscale
