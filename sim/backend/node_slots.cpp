#include "sim/backend/node_slots.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace autoscale {

std::vector<SlotClass> slot_classes(const RunSpec& run) {
  std::vector<SlotClass> out;
  for (size_t p = 0; p < run.node_pools.size(); ++p) {
    const NodePool& pool = run.node_pools[p];
    std::vector<std::string> names = {pool.instance_type};
    for (const auto& n : pool.instance_types) names.push_back(n);
    bool first = true;
    for (const auto& name : names) {
      const InstanceType& type = run.instance_type(name);
      double per_host = std::min(std::floor(run.hosts.cores * run.hosts.cpu_overcommit / type.vcpu + 1e-9),
                                 std::floor(run.hosts.memory_gib / type.memory_gib + 1e-9));
      auto same = std::find_if(out.begin(), out.end(), [&](const SlotClass& c) {
        return c.pool == static_cast<int>(p) && c.vcpu == type.vcpu;
      });
      if (same != out.end())
        same->fits = std::max(same->fits, per_host * run.hosts.count);
      else
        out.push_back({static_cast<int>(p), type.vcpu, first ? pool.nodes : 0, per_host * run.hosts.count});
      first = false;
    }
  }
  return out;
}

namespace {
int slots_for(const RunSpec& run, const SlotClass& c) {
  const NodePool& pool = run.node_pools[static_cast<size_t>(c.pool)];
  double bound = kMaxFixedPoolNodes;
  if (pool.dedicated) {
    bound = 0;
    for (const auto& s : run.services)
      if (s.node_pool == pool.name) bound += 2.0 * s.max_instances;
  }
  return static_cast<int>(std::max<double>(c.initial, std::min(c.fits, bound)));
}
}  // namespace

std::vector<int> slot_counts(const RunSpec& run, const std::vector<SlotClass>& classes) {
  std::vector<int> n;
  double initial = 0, extra = 0;
  for (const SlotClass& c : classes) {
    n.push_back(slots_for(run, c));
    initial += c.initial;
    extra += n.back() - c.initial;
  }
  if (initial + extra > kMaxSlots && extra > 0) {
    double share = std::max(0.0, kMaxSlots - initial) / extra;
    for (size_t k = 0; k < n.size(); ++k)
      n[k] = classes[k].initial + static_cast<int>(std::floor((n[k] - classes[k].initial) * share));
  }
  return n;
}

int slot_class_of(const std::vector<SlotClass>& classes, int pool, int vcpu) {
  for (size_t k = 0; k < classes.size(); ++k)
    if (classes[k].pool == pool && classes[k].vcpu == vcpu) return static_cast<int>(k);
  return -1;
}

}  // namespace autoscale
