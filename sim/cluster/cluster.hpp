#pragma once
// The cluster: physical hosts, node pools, nodes, where instances go, and what the nodes cost. Engine-free:
// it opens and closes nodes through the execution backend and never sees SimGrid.
//
// A dedicated pool (EC2 style) creates one node per instance on the first physical host with room, billed
// per second from boot to termination with a minimum; a fixed pool (Kubernetes style) has its nodes from time
// 0, billed throughout, and places pods on them by requests as kube-scheduler does (sim/cluster/placement).
#include <string>
#include <vector>

#include "controllers/observation.hpp"
#include "sim/backend/execution_backend.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

struct Node {
  int pool = -1;
  int host = -1;
  int context = -1;  // the backend's place for work on this node
  int vcpu = 0;
  double memory_gib = 0;
  double cpu_requested = 0;  // pods' requests on it (fixed pools)
  double mem_requested_gib = 0;
  int pods = 0;
  double price_per_s = 0;
  double billed_from = -1;   // < 0: not billed yet
  double billed_until = -1;  // < 0: still running
  bool dedicated = false;
  bool open = true;
};

// Where an instance runs.
struct Placement {
  int node = -1;
  int context = -1;              // the node's, or its container's (a pod with a CPU limit)
  double cpu_request_cores = 0;  // what its utilization is relative to: a pod's request, a node's vCPUs
  double max_cores = 0;          // what it can use at most: a node's vCPUs, or the pod's limit
};

class Cluster {
 public:
  // Fixed pools' nodes start at time 0 (throws InputError naming `file` when the hosts have no room).
  Cluster(const RunSpec& run, ExecutionBackend& backend, const std::string& file);

  // Room for one instance of `service`: a new dedicated node, or a pod on a fixed pool's node. node = -1 when
  // there is none.
  Placement place(int service, int instance);
  // The instance is gone: its pod's requests are freed, or its dedicated node is closed and its bill ends;
  // returns that node's whole bill (0 for a pod).
  double release(int service, const Placement& p, double t);
  // A fixed pool grows to `nodes` (new nodes billed from t; fewer when the hosts have no room) or shrinks by
  // closing empty nodes, newest first; returns its open nodes.
  int resize_pool(int pool, int nodes, double t);
  // A dedicated node's bill starts (at boot).
  void start_billing(int node, double t);

  double node_cost_usd(int node, double t) const;
  double cost_usd(double t) const;  // every node ever billed, up to t
  const std::vector<Node>& nodes() const { return nodes_; }
  int pool_of_service(int service) const { return service_pool_[static_cast<size_t>(service)]; }
  // Node pools as a node autoscaler would see them; `pending` counts pending pods per pool.
  std::vector<NodePoolObservation> observe(const std::vector<int>& pending_by_pool) const;

 private:
  int open_node(int pool, double t_billed_from);
  double close_node(int node, double t);
  const RunSpec& run_;
  ExecutionBackend& backend_;
  std::vector<Node> nodes_;
  std::vector<int> service_pool_;
  std::vector<double> host_cpu_reserved_, host_mem_reserved_;
  double closed_cost_usd_ = 0;
};

}  // namespace autoscale
