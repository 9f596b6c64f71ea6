#pragma once
// Karpenter (kubernetes-sigs/karpenter), one NodePool per fixed pool, its instance_types the requirements
// allow, at the price the pool pays (on demand or spot). Each tick (the provisioner's batch window):
// - Provisioning: pending pods, by decreasing request (CPU, then memory), go first onto the free room of
//   nodes still starting (in-flight NodeClaims), then first-fit onto new NodeClaims; a claim keeps the
//   instance types that still hold every pod it took, and a pod no claim can take opens a new claim with the
//   types that hold it. Each claim is launched as the cheapest of its remaining types (ties: the first
//   declared). Never beyond max_nodes.
// - Disruption, when no pod is pending: ready nodes whose pods last changed consolidateAfter ago or more are
//   candidates; empty candidates are deleted (never below min_nodes); otherwise, with consolidation
//   (WhenEmptyOrUnderutilized), the one candidate whose pods all fit on the other ready nodes — fewest pods
//   first, then the dearest — is deleted (its pods evicted and recreated there). Replacing a node with a
//   cheaper one is not modelled.
#include <vector>

#include "controllers/nodes/bin_packing.hpp"
#include "controllers/nodes/node_autoscaler.hpp"

namespace autoscale {

class Karpenter : public NodeAutoscaler {
 public:
  explicit Karpenter(const NodeAutoscalerConfig& config) : c_(config) {}
  std::vector<NodePoolDecision> decide(const Observation& obs) override;

  // The instance types (names) of the NodeClaims the provisioner launches for `pending` pods, given the free
  // room of nodes still starting (used first) and the allowed types.
  static std::vector<std::string> provision(const std::vector<PodRequest>& pending,
                                            std::vector<NodeRoom> starting,
                                            const std::vector<InstanceTypeObservation>& types);

 private:
  NodeAutoscalerConfig c_;
};

}  // namespace autoscale
