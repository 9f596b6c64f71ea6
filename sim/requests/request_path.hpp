#pragma once
// The request path: end-user requests enter the entry service, the load balancer routes them to ready
// instances, workers take them or they queue, their CPU work runs on the execution backend, and they call
// downstream services over the network. Engine-free: it sees instances through the fleet's views (ready
// list, placement, warm-up) and work through the ExecutionBackend.
//
// Common random numbers: the i-th end-user request carries the same work and the same downstream calls (and
// so does each of its calls, by its place in the call tree) under any controller, whatever happens to the
// others: its draws come from streams keyed by its arrival index, not consumed in order.
//
// A request's calls are all issued before any of them is failed (no ready instance), so the outcome does not
// depend on the order edges are declared in. A request waits for every call it made (the siblings of a failed
// call run on, as in a real fan-out) and fails if any of them failed.
#include <deque>
#include <functional>
#include <vector>

#include "sim/backend/execution_backend.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/fleet/fleet.hpp"
#include "sim/requests/request_model.hpp"

namespace autoscale {

class RequestPath final : public RequestModel {
 public:
  struct Hooks {
    std::function<void(int id, double t)> idle;  // a draining instance holds nothing any more
  };
  RequestPath(const RunSpec& run, const ServiceGraph& graph, Fleet& fleet, ExecutionBackend& backend,
              Hooks hooks, RunResult& result);

  void on_root_arrival(double t) override;
  void advance_to(double) override {}
  // A service with an activator buffers requests while it has no ready instance (see ServiceSpec::activator).
  void enable_activator(int s) override { activator_on_[static_cast<size_t>(s)] = true; }
  // Knative's activator in the request path (while the excess burst capacity is negative): requests go
  // through it; it sends each to the ready pod with the fewest requests that has a free worker, and buffers
  // the rest until a worker frees up. Taken out: what it buffered goes to the pods as usual.
  void set_activator_in_path(int s, bool in_path, double t) override;
  // An instance of service s turned ready: the requests waiting at its activator go to it.
  void on_ready(int s, double t) override;
  // Requests that waited at an activator longer than their client allows fail (the client saw it at its
  // timeout).
  void expire_waiting(double t) override;
  void on_completion(ActivityId id, bool ok, double t) override;
  // The instance is terminated: whatever it holds fails.
  void fail_instance(int id, double t) override;

  int outstanding(int id) const override;  // requests holding a worker or queued
  double busy(int id) const override;
  double completed(int id) const override;  // requests it answered successfully so far
  // Time so far with more requests running CPU work than the instance's CPU limit (CFS throttling).
  double throttled_s(int id, double t) const override;
  double queued(int id) const override;
  // CPU time (cores x seconds) of the requests running on this instance, so far.
  double running_core_s(int id) const override;
  const ServiceCounters& counters(int s) const override { return services_[static_cast<size_t>(s)]; }
  ServiceCounters& counters(int s) override { return services_[static_cast<size_t>(s)]; }
  const RootCounters& roots() const override { return roots_; }
  // Arrival times of the end-user requests still in flight.
  std::vector<double> roots_in_flight() const override;

 private:
  static constexpr uint32_t kNone = 0xffffffffu;
  struct Request {
    double arrival = 0;       // at this service
    double root_arrival = 0;  // of the end-user request
    double started = -1;      // a worker took it
    double flops = 0;         // its CPU work, as started
    double reply_bytes = 0;   // size of its answer to the caller
    uint64_t key = 0;         // its random draws (common random numbers)
    uint32_t parent = kNone;
    uint32_t parent_gen = 0;
    uint32_t gen = 0;  // bumped when the slot is freed
    int instance = -1;
    int service = 0;
    int pending_children = 0;
    int holding_pos = -1;  // position in its instance's holding list
    bool failed = false;
    bool exec_running = false;
    bool during_scaling = false;
    bool live = false;
  };
  struct Slot {  // per instance
    int busy = 0;
    std::deque<uint32_t> queue;
    std::vector<uint32_t> holding;  // requests holding a worker
    int execs = 0;                  // of those, running CPU work
    double throttled_s = 0;         // time with more running work than its CPU limit (pods with a limit)
    double execs_since = 0;
    double completed = 0;  // requests it answered successfully, cumulative (its pods' rps)
  };
  void change_execs(int id, int delta, double t);
  Slot& slot(int id);
  uint32_t new_request(int service, double t, double root_arrival, uint32_t parent, uint64_t key);
  void free_request(uint32_t r);
  int route(int s);
  void dispatch(uint32_t r, double t);
  void admit(uint32_t r, int id, double t);
  void start_request(uint32_t r, int id, double t);
  void on_exec_done(uint32_t r, bool ok, double t);
  void issue_calls(uint32_t r, double t);
  void finish_request(uint32_t r, double t);
  void child_done(uint32_t parent, uint32_t parent_gen, bool failed, double t);
  void release_worker(uint32_t r, int id, double t);

  const RunSpec& run_;
  const ServiceGraph& graph_;
  Fleet& fleet_;
  ExecutionBackend& backend_;
  Hooks hooks_;
  RunResult& result_;
  double ref_flops_;
  double speed_;
  uint64_t request_key_;                            // root of every request's draws
  std::vector<std::vector<uint64_t>> edge_labels_;  // per service and edge: its target's name, hashed

  std::vector<Rng> route_rng_;  // per service: least-outstanding tie-breaks
  std::vector<size_t> rr_next_;
  std::vector<ServiceCounters> services_;
  std::vector<bool> activator_on_;
  std::vector<bool> in_path_;    // per service: the activator proxies every request
  int free_worker(int s) const;  // a ready instance with a free worker (fewest outstanding), or -1
  void drain_activator(int s, double t);
  std::vector<std::deque<uint32_t>>
      activator_;                         // per service: requests waiting for a ready instance, in order
  std::vector<double> cold_start_since_;  // per service: when its current cold start began (-1: none)
  std::deque<Slot> slots_;                // per instance (a deque: references stay valid as it grows)
  std::vector<Request> requests_;
  std::vector<uint32_t> free_;
  RootCounters roots_;
};

}  // namespace autoscale
