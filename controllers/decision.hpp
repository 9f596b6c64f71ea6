#pragma once
// What a controller answers: desired instance counts, with the reason, as data.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace autoscale {

struct ServiceDecision {
  std::string service;
  int desired = 0;
  std::string metric;  // the metric that drove the decision ("" when none)
  double metric_value = 0;
  std::string rule;  // the rule that produced or limited the decision, e.g. "scale_out_above", "cooldown"
  // What `autoscale decide` prints beside desired_replicas, by upstream's names (HPA: the raw recommendation
  // and the limiting rule; KPA: excess_burst_capacity, scale_valid, panic): numbers, booleans (0/1) or
  // strings.
  std::map<std::string, double> diagnostics = {};
  std::map<std::string, bool> diagnostic_flags = {};
  std::map<std::string, std::string> diagnostic_strings = {};
  // Knative: put the activator in the request path (true: requests go through it, which sends each to a pod
  // with a free slot and buffers the rest) or take it out (false); unset: as it is.
  std::optional<bool> activator_in_path = std::nullopt;
};

// A node autoscaler's order for a fixed node pool: this many nodes (new ones of the pool's instance_type,
// billed at once, taking pods once started; removed ones are taken from the empty nodes, newest first, and
// never below what the placed pods need); desired_nodes < 0 (the default) leaves the count alone. `launch`:
// one new node per entry, of that instance type (karpenter). `remove`: these nodes (NodeObservation::id) are
// cordoned, their pods evicted (their controllers launch replacements elsewhere) and the nodes deleted once
// empty.
struct NodePoolDecision {
  std::string pool;
  int desired_nodes = -1;
  std::string rule;
  std::vector<std::string> launch = {};
  std::vector<int> remove = {};
  std::string details = {};
};

struct Decision {
  std::vector<ServiceDecision> services;     // services left out keep their desired count
  std::vector<NodePoolDecision> node_pools;  // pools left out keep their nodes
};

}  // namespace autoscale
