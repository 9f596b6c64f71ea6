#pragma once
// The cluster: physical hosts, node pools, nodes, where instances go, and what the nodes cost. Engine-free:
// it opens and closes nodes through the execution backend and never sees SimGrid.
//
// A dedicated pool (EC2 style) creates one node per instance on the first physical host with room, billed
// per second from boot to termination with a minimum; a fixed pool (Kubernetes style) has its nodes from time
// 0, billed throughout, and places pods on them by requests as kube-scheduler does (sim/cluster/placement);
// nodes added later (a node autoscaler) are billed from their request and take pods once started. Capacity
// types: on demand, spot (its own price; Poisson interruptions with a notice) and reserved (reserved_nodes
// billed at the reserved rate for the whole run, nodes beyond them on demand).
#include <string>
#include <utility>
#include <vector>

#include "controllers/observation.hpp"
#include "sim/backend/execution_backend.hpp"
#include "sim/core/random.hpp"
#include "sim/core/scenario.hpp"
#include "sim/engine/clock.hpp"

namespace autoscale {

struct Node {
  int pool = -1;
  int type = -1;  // index into RunSpec::instance_types
  int host = -1;
  int context = -1;  // the backend's place for work on this node
  int vcpu = 0;
  double memory_gib = 0;
  double cpu_requested = 0;  // pods' requests on it (fixed pools)
  double mem_requested_gib = 0;
  int pods = 0;
  std::vector<std::pair<int, PodRequest>> pod_list;  // fixed pools: (instance, its requests)
  double price_per_s = 0;    // its own bill rate (0 in a reserved pool: the pool is billed as a whole)
  double billed_from = -1;   // < 0: not billed yet
  double billed_until = -1;  // < 0: still running
  double created_s = 0;
  double last_pod_change_s = 0;
  bool dedicated = false;
  bool open = true;
  bool ready = true;        // fixed pools: started, takes pods
  bool deleting = false;    // cordoned: takes no pods, closes once empty
  bool reclaiming = false;  // a spot node under notice: cordoned, runs (and is billed) until reclamation
  bool spot = false;
  // Bill of earlier segments at other rates (a warm pool's stopped time; sim/fleet), and whether the current
  // segment is billed at least min_billed_s (a running dedicated node).
  double earlier_usd = 0;
  bool minimum = true;
};

// Where an instance runs.
struct Placement {
  int node = -1;
  int context = -1;              // the node's, or its container's (a pod with a CPU limit)
  double cpu_request_cores = 0;  // what its utilization is relative to: a pod's request, a node's vCPUs
  double max_cores = 0;          // what it can use at most: a node's vCPUs, or the pod's limit
  int instance = -1;
};

class Cluster {
 public:
  // Fixed pools' nodes start at time 0 (throws InputError naming `file` when the hosts have no room). Nodes
  // added later start after their pool's node_startup_s (an event node_ready on `clock`); spot nodes get
  // their interruption notice (spot_notice) and reclamation (spot_reclaim) scheduled there too.
  Cluster(const RunSpec& run, ExecutionBackend& backend, Clock& clock, const std::string& file);

  // Room for one instance of `service`: a new dedicated node, or a pod on a fixed pool's ready node. node =
  // -1 when there is none.
  Placement place(int service, int instance, double t);
  // The instance is gone: its pod's requests are freed (a cordoned node left empty closes), or its dedicated
  // node is closed and its bill ends; returns that node's whole bill (0 for a pod).
  double release(int service, const Placement& p, double t);
  // A fixed pool grows to `nodes` open nodes not being deleted (new nodes billed from t, started after the
  // pool's node_startup_s; fewer when the hosts have no room) or shrinks by closing empty nodes, newest
  // first; returns them.
  int resize_pool(int pool, int nodes, double t);
  // One new node of instance type `type` (an index into RunSpec::instance_types) in a fixed pool; -1: no
  // room.
  int add_node(int pool, int type, double t);
  // Cordons a node: no new pods; it closes at once when empty, else when its last pod leaves. False when it
  // is closed already.
  bool cordon(int node, double t);
  // A dedicated node's bill starts (at boot).
  void start_billing(int node, double t);
  // A dedicated node's bill rate changes at t (stopped into a warm pool, started from it): the segment so far
  // is billed (with the minimum if it had one: EC2 bills each start at least a minute) and a new one starts
  // at `price_per_s`, with or without the minimum. Before billing started: only the rate is set.
  void set_rate(int node, double price_per_s, bool minimum, double t);
  // Node events: true when something changed (the node started; the notice was given to an open node).
  bool on_node_ready(int node, double t);
  bool on_spot_notice(int node, double t);
  // The spot node is taken back (its pods were killed): closed if still open; with `replace`, its pool gets
  // a new node of the same type at once (an Auto Scaling group keeping its size).
  void on_spot_reclaim(int node, double t, bool replace);

  double node_cost_usd(int node, double t) const;
  double cost_usd(double t) const;  // every node ever billed, up to t, and reservations
  const std::vector<Node>& nodes() const { return nodes_; }
  int pool_of_service(int service) const { return service_pool_[static_cast<size_t>(service)]; }
  // Open nodes of a fixed pool not being deleted.
  int open_nodes(int pool) const;
  // Node pools as a node autoscaler would see them; `pending` holds the pending pods' requests per pool.
  std::vector<NodePoolObservation> observe(const std::vector<std::vector<PodRequest>>& pending_by_pool) const;

 private:
  int open_node(int pool, int type, double t_billed_from, bool starting);
  double close_node(int node, double t);
  void reserved_touch(int pool, double t);
  const RunSpec& run_;
  ExecutionBackend& backend_;
  Clock& clock_;
  std::vector<Node> nodes_;
  std::vector<int> service_pool_;
  std::vector<double> host_cpu_reserved_, host_mem_reserved_;
  double closed_cost_usd_ = 0;
  std::vector<Rng> startup_rng_, spot_rng_;  // per pool: "node_startup/<pool>", "spot/<pool>"
  struct Reserved {
    int running = 0;           // open nodes
    double excess_node_s = 0;  // node-seconds beyond reserved_nodes, billed on demand
    double since = 0;
  };
  std::vector<Reserved> reserved_;
};

}  // namespace autoscale
