#pragma once
// How many nodes that are hosts of their own (no overcommit) each backend holds, by slot class: one class per
// pool and vCPU count of the instance types it may launch. Shared by the SimGrid backend (which creates the
// hosts up front) and the fast backend (which only counts them), so that both refuse the same node.
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct SlotClass {
  int pool;
  int vcpu;
  int initial;  // the pool's nodes at time 0 (its first class)
  double fits;  // nodes of this class the hosts hold
};

// A fixed pool may grow (a node autoscaler) up to this many nodes per class.
constexpr double kMaxFixedPoolNodes = 10000;
// Slots of all classes together beyond the fixed pools' initial nodes (SimGrid: ~4 kB each).
constexpr double kMaxSlots = 100000;

std::vector<SlotClass> slot_classes(const RunSpec& run);
// Slots per class: as far as the physical hosts allow, a dedicated pool at most twice its services' maximum
// (the active fleet plus as many draining), all together held to kMaxSlots; a node that finds no slot waits
// as pending, as when the hosts are full.
std::vector<int> slot_counts(const RunSpec& run, const std::vector<SlotClass>& classes);
// The class of a node of `pool` with `vcpu` cores, or -1.
int slot_class_of(const std::vector<SlotClass>& classes, int pool, int vcpu);

}  // namespace autoscale
