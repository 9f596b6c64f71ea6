#pragma once
// What a run produces (time series, event and decision tables, summary) and the pure functions that turn the
// raw record into the summary metrics defined in results/SCHEMA.md.
#include <cstdint>
#include <string>
#include <vector>

namespace autoscale {

struct SummaryValue {
  std::string key;
  double value = 0;
  bool integer = false;
};
using Summary = std::vector<SummaryValue>;
const SummaryValue* find_metric(const Summary& s, const std::string& key);

struct ServiceSeries {
  std::string name;
  std::vector<double> arrival_rps, completed_rps, failed_rps;
  std::vector<double> latency_p50_s, latency_p95_s, latency_p99_s;
  std::vector<double> utilization, queue_depth, needed_instances, cost_usd;
  std::vector<int32_t> instances_desired, instances_pending, instances_starting, instances_ready,
      instances_draining;
};

struct EventRow {
  double time_s;
  int32_t instance;
  int32_t service;
  std::string transition;  // the state entered: pending, provisioning, booting, ...
};

struct DecisionRow {
  double time_s;
  int32_t service;
  int32_t current;
  int32_t desired;  // after the actuator's clamp to [min_instances, max_instances]
  std::string metric;
  double metric_value;
  std::string rule;
  double wall_time_s;  // time the controller took to decide (kept apart from the deterministic data)
};

struct RequestRow {
  double arrival_s;
  double latency_s;  // for failures: time until failure was detected
  double wait_s;     // queued at the entry service before a worker took it (-1: never started)
  uint8_t failed;
};

struct RunResult {
  std::string name;
  std::string config_toml;
  double record_interval_s = 60;
  std::vector<double> time_s;    // end of each record interval
  std::vector<double> cost_usd;  // cumulative cost of every node, all pools
  std::vector<ServiceSeries> services;
  std::vector<EventRow> events;
  std::vector<DecisionRow> decisions;
  std::vector<RequestRow> requests;  // only with --record-requests
  Summary summary;
};

// Changes of a desired-count sequence: actions are changes, reversals are changes whose direction differs
// from the previous change's.
struct ScalingCounts {
  long actions = 0;
  long reversals = 0;
};
ScalingCounts count_scaling(const std::vector<int>& desired_sequence);

// Capacity against need, per record interval of length dt_s.
struct ProvisioningStats {
  double wasted_instance_seconds = 0;     // sum of max(0, ready - needed) * dt
  double under_provisioned_seconds = 0;   // intervals where ready < needed
  std::vector<double> episode_lengths_s;  // maximal runs of under-provisioned intervals
};
ProvisioningStats provisioning_stats(const std::vector<int32_t>& ready, const std::vector<double>& needed,
                                     double dt_s);

}  // namespace autoscale

namespace autoscale {
// Every summary metric's name, in the order runs report them.
const std::vector<std::string>& summary_metric_names();
}  // namespace autoscale
