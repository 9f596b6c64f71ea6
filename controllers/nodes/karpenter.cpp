#include "controllers/nodes/karpenter.hpp"

#include <algorithm>
#include <sstream>
#include <stdexcept>

#include "controllers/nodes/bin_packing.hpp"
#include "controllers/nodes/cluster_autoscaler.hpp"

namespace autoscale {

std::vector<std::string> Karpenter::provision(const std::vector<PodRequest>& pending,
                                              std::vector<NodeRoom> starting,
                                              const std::vector<InstanceTypeObservation>& types) {
  // Cheapest first; stable, so that equal prices keep the declared order.
  std::vector<size_t> order(types.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return types[a].price_per_hour_usd < types[b].price_per_hour_usd;
  });
  struct Claim {
    std::vector<size_t> options;  // into types, cheapest first
    PodRequest requested;
  };
  auto holds = [&](size_t k, const PodRequest& r) {
    return fits(NodeRoom{static_cast<double>(types[k].vcpu), types[k].memory_gib}, r);
  };
  std::vector<Claim> claims;
  for (const PodRequest& pod : first_fit(starting, decreasing(pending))) {
    bool placed = false;
    for (Claim& c : claims) {
      const PodRequest with{c.requested.cpu_cores + pod.cpu_cores, c.requested.memory_gib + pod.memory_gib};
      std::vector<size_t> kept;
      for (size_t k : c.options)
        if (holds(k, with)) kept.push_back(k);
      if (kept.empty()) continue;
      c.options = kept;
      c.requested = with;
      placed = true;
      break;
    }
    if (placed) continue;
    Claim c;
    for (size_t k : order)
      if (holds(k, pod)) c.options.push_back(k);
    if (c.options.empty()) continue;  // no type holds it: it stays pending
    c.requested = pod;
    claims.push_back(c);
  }
  std::vector<std::string> out;
  for (const Claim& c : claims) out.push_back(types[c.options.front()].name);
  return out;
}

std::vector<NodePoolDecision> Karpenter::decide(const Observation& obs) {
  const double t = obs.time_s;
  std::vector<NodePoolDecision> out;
  for (const NodePoolObservation& pool : obs.node_pools) {
    if (pool.dedicated) continue;
    NodePoolDecision d;
    d.pool = pool.name;
    std::ostringstream details;
    if (!pool.pending_requests.empty()) {
      std::vector<NodeRoom> starting;
      for (const NodeObservation& n : pool.node_list)
        if (!n.ready && !n.deleting) starting.push_back(free_room(n));
      std::vector<std::string> launch = provision(pool.pending_requests, starting, pool.instance_types);
      const size_t budget = static_cast<size_t>(std::max(0, pool.max_nodes - pool.nodes));
      const bool capped = launch.size() > budget;
      if (capped) launch.resize(budget);
      details << "pending_pods=" << pool.pending_requests.size() << "; nodeclaims=" << launch.size();
      if (!launch.empty() || capped) {
        d.launch = launch;
        d.rule = capped ? "provision,max_nodes" : "provision";
        d.details = details.str();
        out.push_back(d);
      }
      continue;
    }
    std::vector<const NodeObservation*> candidates;
    for (const NodeObservation& n : pool.node_list)
      if (n.ready && !n.deleting && t - n.last_pod_change_s >= c_.consolidate_after_s)
        candidates.push_back(&n);
    int count = pool.nodes;
    for (const NodeObservation* n : candidates) {
      if (!n->pods.empty() || count <= pool.min_nodes) continue;
      d.remove.push_back(n->id);
      --count;
    }
    if (!d.remove.empty()) {
      d.rule = "consolidation_empty";
    } else if (c_.consolidation && count > pool.min_nodes) {
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const NodeObservation* a, const NodeObservation* b) {
                         if (a->pods.size() != b->pods.size()) return a->pods.size() < b->pods.size();
                         return a->price_per_hour_usd > b->price_per_hour_usd;
                       });
      for (const NodeObservation* n : candidates) {
        std::vector<NodeRoom> rooms;
        for (const NodeObservation& o : pool.node_list)
          if (o.id != n->id && o.ready && !o.deleting) rooms.push_back(free_room(o));
        if (!first_fit(rooms, decreasing(n->pods)).empty()) continue;
        d.remove.push_back(n->id);
        d.rule = "consolidation_delete";
        details << "moved_pods=" << n->pods.size();
        break;
      }
    }
    if (d.remove.empty()) continue;
    d.details = details.str();
    out.push_back(d);
  }
  return out;
}

std::unique_ptr<NodeAutoscaler> make_node_autoscaler(const NodeAutoscalerConfig& config) {
  if (config.kind == "cluster_autoscaler") return std::make_unique<ClusterAutoscaler>(config);
  if (config.kind == "karpenter") return std::make_unique<Karpenter>(config);
  throw std::invalid_argument("unknown node autoscaler kind '" + config.kind +
                              "' (expected cluster_autoscaler or karpenter)");
}

}  // namespace autoscale
