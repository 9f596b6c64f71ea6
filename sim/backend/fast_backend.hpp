#pragma once
// The engine-free execution backend of fast (and fluid) mode: the same contexts, CPU sharing and messages as
// the SimGrid backend, computed directly, so that no SimGrid engine exists and several runs may share a
// process.
//
// CPU: SimGrid's sharing, reproduced. A machine (a node that is a host of its own, or a physical host
// carrying VMs) shares its cores, max-min fair, among its own executions (weight 1, at most one core each)
// and the VMs or containers on it (weight min(running executions, vCPUs), at most that many cores and at
// most a container's CPU limit), as SimGrid's VM model does; inside a VM or container the executions share
// what it got equally. Every group of executions that share a rate (a machine's own, a VM's, a container's)
// keeps a virtual clock of the work each of its executions has received since the group last emptied: an
// execution ends when that clock reaches its start value plus its flops, so a change of rate costs one
// update per group of the machine, not one per execution (processor sharing advanced event by event; with
// one execution per core it is the earliest-free-worker recurrence).
//
// Network: a message takes SimGrid's LV08 time without contention: 13.01 x the route's latency (two links'
// latencies, up and down) plus its bytes over min(0.97 x the link bandwidth, TCP gamma / (2 x latency)).
// Links are not shared between messages (SimGrid shares them); the request sizes modelled here use a
// negligible part of a link (see tests/sim/fast_backend_test.cpp for the comparison with exact mode).
#include <memory>

#include "sim/backend/execution_backend.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

class FastBackend : public ExecutionBackend {
 public:
  explicit FastBackend(const RunSpec& run);
  ~FastBackend() override;
  FastBackend(const FastBackend&) = delete;
  FastBackend& operator=(const FastBackend&) = delete;

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

  // SimGrid LV08's constants (its default network model).
  static constexpr double kLatencyFactor = 13.01;
  static constexpr double kBandwidthFactor = 0.97;
  static constexpr double kTcpGamma = 4194304.0;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace autoscale
