#pragma once
// The scenario model: plain data read from a TOML file (sim/scenario/) and consumed by the engine
// (sim/engine/). Every field carries its unit in its name; defaults here are the documented defaults (README,
// scenario reference).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/nodes/node_autoscaler.hpp"
#include "controllers/params.hpp"
#include "sim/core/distribution.hpp"

namespace autoscale {

struct InstanceType {
  std::string name;
  int vcpu = 2;
  double memory_gib = 8;
  double price_per_hour_usd = 0.1;
  double spot_price_per_hour_usd = -1;      // < 0: not offered as spot
  double reserved_price_per_hour_usd = -1;  // < 0: not offered reserved (a reservation's effective rate)
};

struct HostSpec {
  int count = 8;
  int cores = 16;
  double speed_gflops = 1.0;  // per core
  double memory_gib = 64;
  double cpu_overcommit =
      1.0;  // vCPUs placed per physical core (> 1: VMs contend for cores, noisy neighbours)
};

struct NetworkSpec {
  double bandwidth_gbps = 10;
  double latency_s = 50e-6;  // one way, host to switch
};

// A pool of nodes (SimGrid VMs of one instance type). `dedicated`: EC2-style, one node per service instance,
// created on scale-out and billed from boot to termination. Otherwise a fixed pool of `nodes` started at time
// 0 and billed for the whole run (Kubernetes-style; pods are placed on nodes with room).
// How pods are spread over a fixed pool's nodes (kube-scheduler's default profile, or bin-packing).
enum class SchedulerPolicy { least_allocated, most_allocated };
enum class CapacityType { on_demand, spot, reserved };

struct NodePool {
  std::string name;
  std::string instance_type;
  bool dedicated = true;
  int nodes = 0;
  double min_billed_s = 60;  // EC2 per-second billing with a one-minute minimum
  SchedulerPolicy scheduler = SchedulerPolicy::least_allocated;  // fixed pools: pod placement scoring
  // Fixed pools (sim/cluster): nodes added after time 0 are billed at once but take pods only once started.
  Distribution node_startup_s = Distribution::uniform(60, 120);  // VM boot + kubelet ready
  std::vector<std::string> instance_types;  // karpenter may launch these; empty: instance_type only
  int min_nodes = 0;                        // a node autoscaler's bounds
  int max_nodes = 10000;
  CapacityType capacity_type = CapacityType::on_demand;
  double spot_interruptions_per_hour = 0;  // per spot node, Poisson
  double spot_notice_s = 120;              // interruption notice until reclamation
  int reserved_nodes = 0;                  // reserved: billed for the whole run, used or not
};

// A node autoscaler beside the pod controller ([node_autoscaler]; controllers/nodes/ holds the logic).
struct NodeAutoscalerSpec {
  NodeAutoscalerConfig config;  // config.kind empty: none
  double interval_s = 10;
};

struct StartupSpec {
  Distribution launch_s = Distribution::constant(0);  // API call until the request is accepted
  Distribution provision_s =
      Distribution::constant(0);                    // capacity found, VM/pod created (image pull for pods)
  Distribution boot_s = Distribution::constant(0);  // OS / container start
  Distribution init_s = Distribution::constant(0);  // application init (wall time)
  double init_cpu_s = 0;                            // CPU-seconds burned on the node during init
  double readiness_initial_delay_s = 0;
  double readiness_period_s = 10;
  int readiness_success_threshold = 1;
  double warmup_s = 0;                   // reduced capacity ramps linearly to full over this time
  double warmup_initial_capacity = 1.0;  // fraction of full speed when warm-up starts
};

// An EC2 Auto Scaling warm pool (sim/fleet): instances launched, booted and initialised ahead, kept stopped,
// running or hibernated; scale-out takes them first (oldest first), the pool refills in the background to
// max(min_size, max_prepared_capacity - desired). Dedicated pools only.
enum class WarmPoolState { stopped, running, hibernated };
struct WarmPoolSpec {
  bool enabled = false;
  WarmPoolState pool_state = WarmPoolState::stopped;
  int min_size = 0;
  int max_prepared_capacity = -1;                     // < 0: the service's max_instances (AWS's default)
  bool reuse_on_scale_in = false;                     // scale-in returns instances to the pool
  Distribution resume_s = Distribution::constant(0);  // start of a stopped or hibernated instance (a boot)
  double stopped_price_per_hour_usd = 0;              // what a stopped or hibernated instance costs (EBS)
};

// An Auto Scaling lifecycle hook: holds an instance at launch (after init, before readiness: Pending:Wait)
// or at termination (after drain: Terminating:Wait) until its action completes or heartbeat_timeout_s.
struct LifecycleHookSpec {
  std::string name;
  bool launching = true;  // false: terminating
  double heartbeat_timeout_s = 3600;
  bool abandon = false;  // default_result ABANDON (else CONTINUE)
  bool has_action = false;
  Distribution action_s = Distribution::constant(0);  // completes the hook (CONTINUE) when done in time
};

enum class RoutingPolicy { round_robin, least_outstanding };
enum class VictimPolicy { newest, oldest, least_loaded };

struct ServiceSpec {
  std::string name;
  std::string node_pool;
  Distribution work_cpu_s = Distribution::exponential_mean(0.05);  // per request, at reference speed
  int workers = 2;  // concurrent requests (threads, or connection slots of a database)
  int queue_limit = 100;
  double cpu_request = 1.0;  // cores reserved per instance on a shared node (ignored on dedicated nodes)
  double cpu_limit = 0;      // pods: CFS quota in cores, usage is capped at it (0: no limit)
  double memory_request_gib = 1.0;
  int initial_instances = 1;
  int min_instances = 1;
  int max_instances = 100;
  bool database = false;  // its busy workers are reported as connections in use
  RoutingPolicy routing = RoutingPolicy::round_robin;
  VictimPolicy scale_in_victim = VictimPolicy::newest;
  double drain_timeout_s = 30;
  // Knative's activator: with no ready instance, requests wait in a buffer of this many (instead of failing
  // at once) until one is ready, or fail when the buffer is full or their client gives up. On for services a
  // controller that scales to zero (kpa) drives.
  bool activator = false;
  int activator_capacity = 1000;
  StartupSpec startup;
  WarmPoolSpec warm_pool;
  std::vector<LifecycleHookSpec> lifecycle_hooks;
  double shadow_duration_s = 0;  // after scale-in: billed, reporting, serving nothing, for this long
};

struct EdgeSpec {
  std::string from, to;
  double probability = 1.0;
  int calls = 1;                 // calls made when the edge is taken (issued in parallel)
  int line = 0;                  // source line, for error messages
  double request_bytes = 1000;   // size of a call on the network
  double response_bytes = 1000;  // size of its answer
};

// Traffic: rate(t) = (sum of components) x (product of shapes); Poisson arrivals on that rate.
struct TraceSource {
  std::string path;  // as resolved against the scenario file
  std::string column = "rps";
  double rate_scale = 1.0;
  double time_scale = 1.0;  // trace seconds per simulated second (speed-up)
  double start_s = 0;       // offset into the trace
  double end_s = -1;        // < 0: to the end
  bool loop = false;
};

struct TrafficComponent {
  enum class Kind { trace, constant, diurnal, mmpp, flash_crowd, step, scheduled };
  Kind kind = Kind::constant;
  std::string name;
  bool shape = false;  // multiplies the sum instead of adding to it
  // constant / step / diurnal mean
  double rate_rps = 0;
  // diurnal
  double amplitude = 0.5;  // fraction of the mean
  double period_s = 86400;
  double peak_time_s = 14 * 3600;
  double noise_cv = 0;
  double noise_interval_s = 60;
  // mmpp: a Markov chain over states with rates; mean sojourn per state
  std::vector<double> state_rates_rps;
  std::vector<double> state_mean_s;
  // flash crowd / scheduled / step
  double start_s = 0;
  double ramp_s = 60;
  double peak_multiplier = 5;  // flash crowd: shape peak (as shape) or peak rate multiple of base rate
  double duration_s = 600;
  double decay_s = 600;
  double multiplier = 2;  // scheduled event
  double before_rps = 0;  // step: rate before start, rate_rps after
  TraceSource trace;
};

struct TrafficSpec {
  std::string entry_service;
  double client_timeout_s = 30;
  double resolution_s = 1;  // rate is held constant over steps of this length (trace bins are exact)
  std::vector<TrafficComponent> components;
};

struct MonitoringSpec {
  double scrape_interval_s = 15;
  double lag_s = 15;     // a sample becomes visible to controllers this long after it was taken
  double window_s = 60;  // controllers see averages over this window of visible samples
  // Metric history the monitoring system already holds when the run starts (as CloudWatch or Prometheus
  // would): the offered arrival rate of each service over [-history_s, 0) in steps of history_step_s, from
  // the traffic's own rate function (a trace before its start_s). 0: none (the run starts with empty
  // monitoring).
  double history_s = 0;
  double history_step_s = 60;
};

struct SlaSpec {
  double latency_s = 1.0;
  // Failure attribution (sim/analysis/attribution.hpp): a record interval is in an SLA-violation episode
  // when more than this fraction of the end-user requests that arrived in it violated the SLA; a scale-in
  // this long before an episode still counts as its overshoot.
  double episode_threshold = 0.05;
  double episode_lookback_s = 300;
};

struct MetricsSpec {
  double reference_utilization = 0.8;  // "needed" instances: offered load at this utilization
};

struct ControllerSpec {
  std::string kind = "static";
  std::shared_ptr<Params> params;  // the controller's own section, read by its factory
  std::string base_dir;            // the scenario file's directory (ControllerContext::base_dir)
};

struct Expectation {
  std::string run;  // empty: every run
  std::string metric;
  std::string op;
  double value = 0;      // the bound; with than_run, a factor on that run's value of the metric
  std::string than_run;  // compare with another run of the same scenario (empty: with value alone)
  int line = 0;
};

// One run: the whole configuration, after the run's overrides were applied.
enum class Fidelity { exact, fast, fluid };
const char* fidelity_name(Fidelity f);

struct RunSpec {
  std::string name;
  std::string config_toml;  // the effective configuration, as TOML
  double duration_s = 3600;
  double record_interval_s = 60;
  double reference_speed_gflops = 1.0;
  uint64_t seed = 1;
  // How requests are simulated (see sim/backend/make_backend.hpp): exact (SimGrid activities), fast (the same
  // requests, queues computed without SimGrid), fluid (per-step queueing formulas, no requests).
  Fidelity fidelity = Fidelity::exact;
  double fluid_step_s = 1;  // fluid: longest integration step ([fluid] step_s)
  HostSpec hosts;
  NetworkSpec network;
  std::vector<InstanceType> instance_types;
  std::vector<NodePool> node_pools;
  std::vector<ServiceSpec> services;
  std::vector<EdgeSpec> edges;
  TrafficSpec traffic;
  MonitoringSpec monitoring;
  SlaSpec sla;
  MetricsSpec metrics;
  ControllerSpec controller;
  NodeAutoscalerSpec node_autoscaler;
  bool record_requests = false;

  const InstanceType& instance_type(const std::string& name) const;
  const NodePool& node_pool(const std::string& name) const;
  int service_index(const std::string& name) const;    // -1 when absent
  int node_pool_index(const std::string& name) const;  // -1 when absent
};

struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::string toml_text;  // the file as read
  uint64_t seed = 1;
  std::vector<RunSpec> runs;
  std::vector<Expectation> expectations;
};

}  // namespace autoscale
