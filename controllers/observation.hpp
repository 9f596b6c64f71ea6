#pragma once
// What a controller sees: the monitoring pipeline's view of each service (late and aggregated, not the
// truth).
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace autoscale {

// One instance (a VM, or a pod) as monitoring shows it: what an HPA reads from the pod list and
// metrics-server.
struct InstanceObservation {
  int id = 0;
  std::string name;   // pod name ("<service>-<id>" in the simulator)
  std::string state;  // lifecycle state at the newest visible scrape (launching, pending, ..., draining)
  std::string phase =
      "Running";             // Kubernetes pod phase: Pending (not yet on a node / starting), Running, Failed
  bool ready = false;        // warming or in service: in the load balancer
  bool deleting = false;     // draining, a shadow, or held by a terminate hook (sim/fleet)
  double start_time_s = 0;   // launch request
  double ready_time_s = -1;  // when it last turned ready (-1: never)
  bool has_metrics = false;  // false when the window holds fewer than two scrapes of it
  double cpu_usage_cores = 0;    // CPU delivered to it (cores), mean over the window: may exceed the request
  double cpu_request_cores = 0;  // pods: cpu_request; dedicated nodes: the node's vCPUs
  double cpu_limit_cores = 0;    // pods with a CPU limit (CFS quota); 0: none
  double cpu_throttled_fraction = 0;  // share of the window its running work exceeded the limit (throttled)
  double concurrency = 0;             // requests in service, mean over the window's scrapes
  double metrics_timestamp_s = 0;     // time of the newest scrape used
  double metrics_window_s = 0;        // span the usage was measured over
  // Per-pod custom metrics (an HPA's Pods metrics), in base units, by name; an absent name: no sample. The
  // simulator reports "requests_per_second" (answered successfully, over the window) and "concurrency".
  std::map<std::string, double> pod_metrics;
};

// What `autoscale decide` can set to replace a controller's memory before a step (upstream's tests start from
// a given state); never set by the simulator. Times: -infinity stands for Go's zero time.
struct ControllerHistory {
  struct Recommendation {
    double time_s;
    int replicas;
  };
  struct ScaleEvent {
    double time_s;
    int replicas_before;
    int replicas_after;
  };
  // HPA: nullopt = never initialised; empty = initialised and empty.
  std::optional<std::vector<Recommendation>> recommendations;
  std::vector<ScaleEvent> scale_events;
  // KPA: the autoscaler's creation and panic state.
  std::optional<double> created_at_s;
  int ready_pods_at_creation = 0;
  std::optional<double> panic_time_s;
  int max_panic_pods = 0;
};

struct ServiceObservation {
  std::string name;
  int min_instances = 0;
  int max_instances = 0;
  // Instance counts by lifecycle state as of the newest visible scrape.
  int desired = 0;   // what the actuator is working towards (the truth: the controller's own last order)
  int pending = 0;   // no node with room yet
  int starting = 0;  // launch .. readiness
  int warming = 0;   // ready, in the load balancer, below full capacity
  int in_service = 0;
  int draining = 0;
  int ready() const { return warming + in_service; }
  // Aggregated over the monitoring window of visible samples.
  bool metrics_valid = false;  // false until a sample is visible
  double sample_age_s = 0;     // now minus the newest visible sample's time
  double cpu_utilization = 0;  // CPU delivered to ready instances / their CPU request (pods may exceed 1)
  double arrival_rps = 0;
  double completed_rps = 0;
  double failed_rps = 0;
  double error_rate = 0;   // failed / (completed + failed)
  double concurrency = 0;  // requests in service on ready instances, mean per ready instance
  double queue_depth = 0;  // requests queued on ready instances, mean per ready instance
  double latency_p95_s = 0;
  double connections_in_use = 0;  // database services: busy connection slots, total
  double activator_queue = 0;  // requests waiting at the activator for a ready instance, mean over the window
  std::vector<InstanceObservation> instances;  // every instance not yet terminated, in launch order
  // Kubernetes scale subresource: spec.replicas is `desired`; status.replicas (pods that exist) -1 = desired.
  int status_replicas = -1;
  // Service-level named metrics (an HPA's Object and External metrics, a KEDA query), base units; an absent
  // name: the fetch failed.
  std::map<std::string, double> named_metrics;
  // Knative: the revision-wide metric (concurrency or rps) averaged over the stable and the panic window;
  // NaN when unknown. The *_error flags: the metric source or the ready-pod counter failed.
  double stable_value = std::numeric_limits<double>::quiet_NaN();
  double panic_value = std::numeric_limits<double>::quiet_NaN();
  bool metrics_error = false;
  bool ready_pods_error = false;
  std::optional<ControllerHistory> history;  // `autoscale decide` only
};

// What a pod asks of a node (its requests).
struct PodRequest {
  double cpu_cores = 0;
  double memory_gib = 0;
};

// One node of a fixed pool.
struct NodeObservation {
  int id = 0;  // the cluster's node id (NodePoolDecision::remove names nodes by it)
  std::string instance_type;
  bool ready = false;     // started: takes pods
  bool deleting = false;  // cordoned: being removed (scale-down, consolidation, spot reclamation)
  bool spot = false;
  double created_s = 0;          // when it was asked for (billed from then)
  double last_pod_change_s = 0;  // when a pod last arrived on it or left it (creation, if none)
  double price_per_hour_usd = 0;
  double allocatable_cpu_cores = 0;
  double allocatable_memory_gib = 0;
  double requested_cpu_cores = 0;
  double requested_memory_gib = 0;
  std::vector<PodRequest> pods;  // the requests of each pod on it
};

// An instance type a pool may launch, at the price this pool pays for it.
struct InstanceTypeObservation {
  std::string name;
  int vcpu = 0;
  double memory_gib = 0;
  double price_per_hour_usd = 0;
};

// A node pool as a node autoscaler sees it (the truth at decision time: node lists are not scraped).
struct NodePoolObservation {
  std::string name;
  bool dedicated = false;  // one node per instance (EC2 style), or a fixed pool pods are placed on
  int nodes = 0;           // open nodes
  double allocatable_cpu_cores = 0;
  double allocatable_memory_gib = 0;
  double requested_cpu_cores = 0;  // by the pods placed on them (a dedicated node: all of it)
  double requested_memory_gib = 0;
  int pods = 0;
  int pending_pods = 0;  // instances of this pool's services waiting for room
  // Fixed pools: nodes still starting (counted in nodes and allocatable), each node, the pending pods'
  // requests, the node autoscaler's bounds and the instance types it may launch.
  int starting_nodes = 0;
  std::vector<NodeObservation> node_list = {};
  std::vector<PodRequest> pending_requests = {};
  int min_nodes = 0;
  int max_nodes = 0;
  std::vector<InstanceTypeObservation> instance_types = {};
};

struct Observation {
  double time_s = 0;
  std::vector<ServiceObservation> services;
  std::vector<NodePoolObservation> node_pools;

  const ServiceObservation* find(std::string_view name) const {
    for (const auto& s : services)
      if (s.name == name) return &s;
    return nullptr;
  }
};

// The names by which scenario files refer to ServiceObservation fields.
const std::vector<std::string>& observation_metric_names();
// True and sets `out` when `name` is one of observation_metric_names().
bool observation_metric(const ServiceObservation& s, std::string_view name, double& out);

}  // namespace autoscale
