#pragma once
// The Kubernetes cluster-autoscaler (k8s.io/autoscaler, cluster-autoscaler/core/static_autoscaler.go), one
// node group per fixed pool (of the pool's instance_type, within min_nodes..max_nodes). Each loop (every
// --scan-interval, 10 s upstream):
// - Nodes still starting --max-node-provision-time (15 min) after they were asked for are removed.
// - Scale-up: the pending pods are packed first-fit decreasing onto the free room of nodes still starting
//   (upstream counts upcoming nodes), the rest onto new nodes of the group's type (its binpacking estimator);
//   the group grows by that many nodes, capped at max_nodes. Every pod belongs to one group (a service runs
//   in one pool), so there is no expander choice to make.
// - Scale-down: a ready node is unneeded when its utilization, max(requested CPU / allocatable, requested
//   memory / allocatable), is below --scale-down-utilization-threshold (0.5) and its pods fit on the other
//   ready nodes; once unneeded for --scale-down-unneeded-time (10 min) it is removed (cordoned, its pods
//   evicted and recreated elsewhere, deleted once empty): empty nodes all at once, at most one node with pods
//   per loop, never below min_nodes. No removal within --scale-down-delay-after-add (10 min) of a scale-up,
//   nor in a loop that scaled up; as upstream, the timer of the last scale-up starts at the autoscaler's
//   start (time 0).
#include <map>
#include <string>
#include <vector>

#include "controllers/nodes/node_autoscaler.hpp"

namespace autoscale {

class ClusterAutoscaler : public NodeAutoscaler {
 public:
  explicit ClusterAutoscaler(const NodeAutoscalerConfig& config) : c_(config) {}
  std::vector<NodePoolDecision> decide(const Observation& obs) override;

 private:
  NodeAutoscalerConfig c_;
  double last_scale_up_s_ = 0;
  std::map<std::string, std::map<int, double>> unneeded_since_;  // pool -> node id -> first found unneeded
};

}  // namespace autoscale
