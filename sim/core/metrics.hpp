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
// An [[expect]] comparison: `actual op bound`, op one of < <= > >= == != (scenario and bench files).
bool expectation_holds(double actual, const std::string& op, double bound);

struct ServiceSeries {
  std::string name;
  std::vector<double> arrival_rps, completed_rps, failed_rps;
  std::vector<double> latency_p50_s, latency_p95_s, latency_p99_s;
  std::vector<double> utilization, queue_depth, needed_instances, cost_usd;
  std::vector<int32_t> instances_desired, instances_pending, instances_starting, instances_ready,
      instances_draining;
  std::vector<int32_t> instances_warm_pool, instances_shadow;  // sim/fleet: warm pool, shadows
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
  std::string
      details;  // the controller's diagnostics, "name=value" separated by "; " (e.g. raw_recommendation=6)
  double wall_time_s;  // time the controller took to decide (kept apart from the deterministic data)
};

// A node autoscaler's (or a controller's) order for a fixed node pool, as applied.
struct NodeDecisionRow {
  double time_s;
  std::string pool;
  int32_t current;       // open nodes (ready or starting, not being deleted) before
  int32_t desired;       // after
  std::string launched;  // instance types of the nodes added, comma-separated
  std::string removed;   // ids of the nodes cordoned for deletion, comma-separated
  std::string rule;
  std::string details;
};

// Per fixed pool, at each record time: its nodes by state.
struct NodePoolSeries {
  std::string name;
  std::vector<int32_t> nodes_ready, nodes_starting, nodes_deleting;
};

struct RequestRow {
  double arrival_s;
  double latency_s;  // for failures: time until failure was detected
  double wait_s;     // queued at the entry service before a worker took it (-1: never started)
  uint8_t failed;
};

// An SLA-violation episode (sim/analysis/attribution.hpp): a maximal run of record intervals whose end-user
// requests violated the SLA more often than [sla] episode_threshold, and its attributed cause.
struct EpisodeRow {
  double start_s;             // s: start of its first record interval
  double end_s;               // s: end of its last record interval
  int32_t service;            // the service held responsible (index), -1 when none is
  std::string cause;          // one of episode_causes()
  double violation_fraction;  // 1: violating / arrived, end-user requests that arrived in the episode
  double peak_shortfall;      // instances: max over its intervals of needed - ready of `service` (>= 0)
};
// The causes an episode is attributed to, in precedence order (the first that fits wins).
const std::vector<std::string>& episode_causes();

struct RunResult {
  std::string name;
  std::string config_toml;
  std::string fidelity = "exact";  // the run's fidelity level (exact, fast, fluid)
  double record_interval_s = 60;
  std::vector<double> time_s;    // end of each record interval
  std::vector<double> cost_usd;  // cumulative cost of every node, all pools
  std::vector<ServiceSeries> services;
  std::vector<EventRow> events;
  std::vector<DecisionRow> decisions;
  std::vector<NodeDecisionRow> node_decisions;
  std::vector<NodePoolSeries> node_pools;  // fixed pools, in scenario order
  std::vector<RequestRow> requests;        // only with --record-requests
  // End-user requests by the record interval they arrived in (requests), and those of them that violated the
  // SLA: failed, completed slower than [sla] latency_s, or in flight at the end for longer than it.
  std::vector<double> sla_requests, sla_violations;
  std::vector<EpisodeRow> episodes;  // SLA-violation episodes and their causes, in time order
  Summary summary;
};

// Changes of a desired-count sequence: actions are changes, reversals are changes whose direction differs
// from the previous change's.
struct ScalingCounts {
  long actions = 0;
  long reversals = 0;
};
ScalingCounts count_scaling(const std::vector<int>& desired_sequence);

// Capacity against need over the record intervals ending at time_s (s; the first interval starts at 0, the
// last may be shorter than record_interval_s): each interval counts for its real length. ready and needed
// (instances) hold one value per interval; otherwise throws std::invalid_argument.
struct ProvisioningStats {
  double wasted_instance_seconds = 0;     // instance-s: sum of max(0, ready - needed) x interval length
  std::vector<double> episode_lengths_s;  // s: length of each maximal run of intervals with ready < needed
};
ProvisioningStats provisioning_stats(const std::vector<double>& time_s, const std::vector<int32_t>& ready,
                                     const std::vector<double>& needed);

// What the engine counts over a run, for summarize(). Requests are end-user requests (entering the traffic's
// entry service); calls between services are not counted.
struct RunTotals {
  long requests_total = 0;   // requests: arrived during the run (completed + failed + in flight at the end)
  long requests_failed = 0;  // requests: rejected, failed downstream, dropped by a drain timeout, or answered
                             // after the client timeout
  std::vector<double> completed_latencies_s;  // s: end-to-end latency of each completed request (their
                                              // number is requests_completed)
  std::vector<double> scaling_latencies_s;    // s: latency of each completed request that arrived while some
                                              // instance (any service) was pending, starting or draining
  // How many requests each entry of completed_latencies_s / scaling_latencies_s stands for (fluid mode's
  // samples); empty: one each.
  std::vector<double> completed_counts, scaling_counts;
  std::vector<double> in_flight_arrivals_s;  // s: arrival time of each request still in flight at the end
                                             // (their number is requests_in_flight_end)
  double cost_usd = 0;                       // USD: cost of every node, up to the end for those still running
  double instance_seconds = 0;  // s: sum over instances of launch request to termination (or the end)
  double duration_s = 0;        // s: length of the run; the end is at duration_s
  std::vector<std::vector<int>> desired_history;  // instances, per service in index order: the initial
                                                  // desired count, then each new (clamped) value
  std::vector<double> cold_start_waits_s;  // s: per cold start (requests waited at an activator for a service
                                           // with no ready instance), how long its first request waited
};

struct SummaryConfig {
  double sla_latency_s;  // s: [sla] latency_s; a request violates the SLA when slower than this
};

// The summary metrics of results/SCHEMA.md, keyed and ordered as summary_metric_names(). recorded gives
// time_s and, per service, instances_ready and needed_instances (one value per time_s). Throws
// std::invalid_argument if requests_total != completed + failed + in flight, or a series has the wrong
// length.
Summary summarize(const RunTotals& totals, const RunResult& recorded, const SummaryConfig& cfg);

}  // namespace autoscale

namespace autoscale {
// Every summary metric's name, in the order runs report them.
const std::vector<std::string>& summary_metric_names();
}  // namespace autoscale
