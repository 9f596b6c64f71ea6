#pragma once
// The execution side of the engine: where CPU work runs and how bytes cross the network. The request path and
// the fleet start work and messages through this interface and learn of their end through one completion
// handler; they never see SimGrid. SimGrid is the first implementation (sim/backend/simgrid_backend); a
// second one can compute queues without any engine.
//
// Places are "contexts": a node (a VM on a physical host, or a host of its own), or a container on a node (a
// pod with a CPU limit). Every activity is named by its kind and an index the caller owns (a request slot, an
// instance id); an index has at most one activity of each kind at a time.
#include <cstdint>
#include <functional>
#include <string>

namespace autoscale {

enum class ActivityKind : uint8_t { request_exec = 0, init_exec = 1, call_comm = 2, reply_comm = 3 };

struct ActivityId {
  ActivityKind kind;
  uint32_t index;
};

class ExecutionBackend {
 public:
  // ok = false: the activity failed (its place went away); cancelled activities are not reported.
  using CompletionHandler = std::function<void(ActivityId id, bool ok, double time_s)>;
  virtual ~ExecutionBackend() = default;
  virtual void set_completion_handler(CompletionHandler h) = 0;

  // A node of `pool` with `vcpu` cores (its instance type's) on physical host `host`; returns its context, or
  // -1 when the backend has no room left for one more node of this pool.
  virtual int open_node(int pool, int vcpu, int host, const std::string& name) = 0;
  // The node is gone: it takes no new work; messages still in flight to or from it are delivered.
  virtual void close_node(int context) = 0;
  // A container capped at `cpu_limit_cores` (a CFS quota) on a node; returns its context.
  virtual int open_container(int node_context, double cpu_limit_cores, const std::string& name) = 0;
  virtual void close_container(int context) = 0;

  // CPU work of `flops` on a context (one core at most per activity; the context's cores are shared).
  virtual void start_exec(ActivityId id, int context, double flops) = 0;
  // Work done so far by a running exec, in flops.
  virtual double exec_done_flops(ActivityId id) const = 0;
  // A message of `bytes` from one context to another.
  virtual void start_comm(ActivityId id, int from_context, int to_context, double bytes) = 0;
  // Stops a running activity without reporting it.
  virtual void cancel(ActivityId id) = 0;

  // Runs until `time_s` (completions are reported from inside, in time order) and returns the backend's
  // clock, which may be slightly short of time_s.
  virtual double advance_to(double time_s) = 0;
  virtual double speed_flops_per_core() const = 0;
};

}  // namespace autoscale
