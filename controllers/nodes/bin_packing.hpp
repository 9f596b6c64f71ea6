#pragma once
// Fitting pods onto nodes by their requests, as node autoscalers simulate scheduling: first fit, pods taken
// in decreasing order of CPU then memory request (first-fit decreasing). The same filter as the scheduler
// (sim/cluster/placement: requested + request <= allocatable, with 1e-9 slack).
#include <vector>

#include "controllers/observation.hpp"

namespace autoscale {

struct NodeRoom {
  double cpu_cores = 0;  // free: allocatable minus requested
  double memory_gib = 0;
};

bool fits(const NodeRoom& room, const PodRequest& pod);
NodeRoom free_room(const NodeObservation& node);
// The pods by decreasing CPU request, then memory (stable).
std::vector<PodRequest> decreasing(std::vector<PodRequest> pods);
// Places `pods` in this order, each into the first room that fits (rooms shrink); returns those that fit
// nowhere, in order.
std::vector<PodRequest> first_fit(std::vector<NodeRoom>& rooms, const std::vector<PodRequest>& pods);

}  // namespace autoscale
