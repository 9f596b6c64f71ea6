#pragma once
// Node autoscalers: they run beside any pod controller, read the node pools of an Observation and answer
// NodePoolDecisions (controllers/decision.hpp). Pure: no engine, unit-testable with hand-made observations.
//
// cluster_autoscaler (cluster_autoscaler.hpp): node groups of one instance type, scaled up for pending pods
// and down for underused nodes, with upstream's timers. karpenter (karpenter.hpp): nodes sized to the pending
// pods from a list of instance types, and consolidation.
#include <memory>
#include <string>
#include <vector>

#include "controllers/decision.hpp"
#include "controllers/observation.hpp"

namespace autoscale {

class NodeAutoscaler {
 public:
  virtual ~NodeAutoscaler() = default;
  // Orders for the fixed pools (dedicated pools are left alone); pools left out keep their nodes.
  virtual std::vector<NodePoolDecision> decide(const Observation& obs) = 0;
};

// Every setting of either kind (each reads its own).
struct NodeAutoscalerConfig {
  std::string kind;  // "cluster_autoscaler" or "karpenter"
  // cluster-autoscaler flags (upstream defaults)
  double scale_down_unneeded_time_s = 600;        // --scale-down-unneeded-time
  double scale_down_utilization_threshold = 0.5;  // --scale-down-utilization-threshold
  double scale_down_delay_after_add_s = 600;      // --scale-down-delay-after-add
  double max_node_provision_time_s = 900;         // --max-node-provision-time
  // karpenter NodePool disruption
  double consolidate_after_s = 0;  // spec.disruption.consolidateAfter
  bool consolidation = true;       // consolidationPolicy WhenEmptyOrUnderutilized (false: WhenEmpty)
};

// Throws std::invalid_argument for an unknown kind.
std::unique_ptr<NodeAutoscaler> make_node_autoscaler(const NodeAutoscalerConfig& config);

}  // namespace autoscale
