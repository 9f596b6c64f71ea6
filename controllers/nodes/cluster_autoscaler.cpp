#include "controllers/nodes/cluster_autoscaler.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "controllers/nodes/bin_packing.hpp"

namespace autoscale {

namespace {
double utilization(const NodeObservation& n) {
  const double cpu = n.allocatable_cpu_cores > 0 ? n.requested_cpu_cores / n.allocatable_cpu_cores : 0;
  const double mem = n.allocatable_memory_gib > 0 ? n.requested_memory_gib / n.allocatable_memory_gib : 0;
  return std::max(cpu, mem);
}

// Whether the pods of `node` fit on the ready nodes that are neither it, nor deleting, nor in `leaving`.
bool pods_fit_elsewhere(const NodePoolObservation& pool, const NodeObservation& node,
                        const std::set<int>& leaving) {
  std::vector<NodeRoom> rooms;
  for (const NodeObservation& o : pool.node_list)
    if (o.id != node.id && o.ready && !o.deleting && !leaving.count(o.id)) rooms.push_back(free_room(o));
  return first_fit(rooms, decreasing(node.pods)).empty();
}
}  // namespace

std::vector<NodePoolDecision> ClusterAutoscaler::decide(const Observation& obs) {
  const double t = obs.time_s;
  std::vector<NodePoolDecision> out;
  for (const NodePoolObservation& pool : obs.node_pools) {
    if (pool.dedicated) continue;
    NodePoolDecision d;
    d.pool = pool.name;
    std::ostringstream details;
    std::set<int> leaving;
    // Nodes that did not come up in time.
    for (const NodeObservation& n : pool.node_list)
      if (!n.ready && !n.deleting && t - n.created_s >= c_.max_node_provision_time_s) {
        d.remove.push_back(n.id);
        leaving.insert(n.id);
        d.rule = "max_node_provision_time";
      }
    int count = pool.nodes - static_cast<int>(leaving.size());

    // Scale-up for the pending pods.
    bool scaled_up = false;
    if (!pool.pending_requests.empty() && !pool.instance_types.empty()) {
      std::vector<NodeRoom> upcoming;
      for (const NodeObservation& n : pool.node_list)
        if (!n.ready && !n.deleting && !leaving.count(n.id)) upcoming.push_back(free_room(n));
      const std::vector<PodRequest> left = first_fit(upcoming, decreasing(pool.pending_requests));
      const InstanceTypeObservation& type = pool.instance_types.front();
      const NodeRoom empty{static_cast<double>(type.vcpu), type.memory_gib};
      std::vector<NodeRoom> fresh;
      int unschedulable = 0;
      for (const PodRequest& pod : left) {
        if (!fits(empty, pod)) {
          ++unschedulable;
          continue;
        }
        if (!first_fit(fresh, {pod}).empty())
          fresh.push_back({empty.cpu_cores - pod.cpu_cores, empty.memory_gib - pod.memory_gib});
      }
      const int need = static_cast<int>(fresh.size());
      details << "pending_pods=" << pool.pending_requests.size() << "; new_nodes=" << need;
      if (unschedulable > 0) details << "; unschedulable=" << unschedulable;
      if (need > 0) {
        const int want = std::min(count + need, pool.max_nodes);
        if (want > count) {
          d.desired_nodes = want;
          d.rule = want < count + need ? "scale_up,max_nodes" : "scale_up";
          last_scale_up_s_ = t;
          scaled_up = true;
        } else {
          d.rule = "max_nodes";
        }
      }
    }

    // Unneeded nodes, tracked in every loop.
    std::map<int, double>& since = unneeded_since_[pool.name];
    std::map<int, double> now_unneeded;
    for (const NodeObservation& n : pool.node_list) {
      if (!n.ready || n.deleting) continue;
      if (utilization(n) >= c_.scale_down_utilization_threshold) continue;
      if (!pods_fit_elsewhere(pool, n, {})) continue;
      auto it = since.find(n.id);
      now_unneeded[n.id] = it != since.end() ? it->second : t;
    }
    since = now_unneeded;

    // Scale-down.
    const bool cooldown = scaled_up || t - last_scale_up_s_ < c_.scale_down_delay_after_add_s;
    if (!cooldown) {
      std::vector<const NodeObservation*> ripe;
      for (const NodeObservation& n : pool.node_list) {
        auto it = since.find(n.id);
        if (it != since.end() && t - it->second >= c_.scale_down_unneeded_time_s) ripe.push_back(&n);
      }
      std::stable_sort(ripe.begin(), ripe.end(), [](const NodeObservation* a, const NodeObservation* b) {
        return a->pods.empty() && !b->pods.empty();
      });
      bool drained_one = false;
      int removed = 0;
      for (const NodeObservation* n : ripe) {
        if (count <= pool.min_nodes) break;
        if (!n->pods.empty()) {
          if (drained_one || !pods_fit_elsewhere(pool, *n, leaving)) continue;
          drained_one = true;
        }
        d.remove.push_back(n->id);
        leaving.insert(n->id);
        --count;
        ++removed;
      }
      if (removed > 0) {
        d.rule = d.rule.empty() ? "scale_down" : d.rule + ",scale_down";
        if (details.tellp() > 0) details << "; ";
        details << "removed_unneeded=" << removed;
      }
    }
    d.details = details.str();
    if (d.desired_nodes >= 0 || !d.remove.empty()) out.push_back(d);
  }
  return out;
}

}  // namespace autoscale
