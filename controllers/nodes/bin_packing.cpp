#include "controllers/nodes/bin_packing.hpp"

#include <algorithm>

namespace autoscale {

namespace {
constexpr double kTolerance = 1e-9;  // cores, GiB: as the scheduler's filter
}

bool fits(const NodeRoom& room, const PodRequest& pod) {
  return pod.cpu_cores <= room.cpu_cores + kTolerance && pod.memory_gib <= room.memory_gib + kTolerance;
}

NodeRoom free_room(const NodeObservation& node) {
  return {node.allocatable_cpu_cores - node.requested_cpu_cores,
          node.allocatable_memory_gib - node.requested_memory_gib};
}

std::vector<PodRequest> decreasing(std::vector<PodRequest> pods) {
  std::stable_sort(pods.begin(), pods.end(), [](const PodRequest& a, const PodRequest& b) {
    if (a.cpu_cores != b.cpu_cores) return a.cpu_cores > b.cpu_cores;
    return a.memory_gib > b.memory_gib;
  });
  return pods;
}

std::vector<PodRequest> first_fit(std::vector<NodeRoom>& rooms, const std::vector<PodRequest>& pods) {
  std::vector<PodRequest> left;
  for (const PodRequest& pod : pods) {
    auto it = std::find_if(rooms.begin(), rooms.end(), [&](const NodeRoom& r) { return fits(r, pod); });
    if (it == rooms.end()) {
      left.push_back(pod);
      continue;
    }
    it->cpu_cores -= pod.cpu_cores;
    it->memory_gib -= pod.memory_gib;
  }
  return left;
}

}  // namespace autoscale
