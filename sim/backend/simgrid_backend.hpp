#pragma once
// The SimGrid execution backend (the only s4u user besides the raw baseline): SimGrid shares CPU cores and
// network links; activities end through its global completion callback.
//
// Nodes are modelled where their contention is: with cluster.hosts.cpu_overcommit > 1, nodes are VMs on the
// physical hosts, so that VMs contend for host cores (noisy neighbours); otherwise a node owns its vCPUs
// outright and is a SimGrid host of its own (created up front, reused after termination), which SimGrid
// simulates at a cost that does not grow with the fleet. A pod with a CPU limit is a VM capped at its limit
// on its node.
#include <memory>

#include "sim/backend/execution_backend.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

class SimgridBackend : public ExecutionBackend {
 public:
  explicit SimgridBackend(const RunSpec& run);
  ~SimgridBackend() override;
  SimgridBackend(const SimgridBackend&) = delete;
  SimgridBackend& operator=(const SimgridBackend&) = delete;

  void set_completion_handler(CompletionHandler h) override;
  int open_node(int pool, int vcpu, int host, const std::string& name) override;
  void close_node(int context) override;
  int open_container(int node_context, double cpu_limit_cores, const std::string& name) override;
  void close_container(int context) override;
  void start_exec(ActivityId id, int context, double flops) override;
  double exec_done_flops(ActivityId id) const override;
  void start_comm(ActivityId id, int from_context, int to_context, double bytes) override;
  void cancel(ActivityId id) override;
  double advance_to(double time_s) override;
  double speed_flops_per_core() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autoscale
