#pragma once
// Where a new reservation goes: a pod onto a node of a fixed pool, or a node (VM) onto a physical host. One
// filter (and one floating-point tolerance) for both; pods are then scored as kube-scheduler's default
// profile does. Engine-free: no SimGrid, nothing from sim/engine.
#include <vector>

namespace autoscale {

// One place to put things in: a node (for pods) or a host (for nodes). `requested` is what is already
// reserved on it, not counting the newcomer.
struct Bin {
  double cpu_allocatable = 0;  // cores (a host: cores x cpu_overcommit; a node: its vCPUs)
  double mem_allocatable_gib = 0;
  double cpu_requested = 0;
  double mem_requested_gib = 0;
};

// first_fit: the lowest-index bin with room (nodes onto hosts: what the engine has always done).
// least_allocated / most_allocated: kube-scheduler's NodeResourcesFit with that scoring strategy, plus
// NodeResourcesBalancedAllocation (both weight 1, as in the default profile; the MostAllocated strategy only
// replaces NodeResourcesFit's scoring, BalancedAllocation stays enabled).
enum class PlacementRule { first_fit, least_allocated, most_allocated };

// NodeResourcesFit's filter: requested + request <= allocatable, for cpu and for memory, with an absolute
// slack of 1e-9 (cores, GiB) so that requests summing to exactly the allocatable in floating point still fit.
bool fits(const Bin& bin, double cpu, double mem_gib);

// The scores (0..100 each) a pod of this request gets on this bin, in upstream's integer arithmetic on
// milli-CPU and bytes. Both are zero under first_fit, which does not score.
struct NodeScore {
  int fit = 0;       // NodeResourcesFit: LeastAllocated or MostAllocated
  int balanced = 0;  // NodeResourcesBalancedAllocation
  int total() const { return fit + balanced; }
};
NodeScore score(const Bin& bin, double cpu, double mem_gib, PlacementRule rule);

// The bin with room and the highest total score; ties go to the lowest index (upstream picks one of the tied
// nodes at random; we take the first, for determinism). -1 when none has room.
int place(const std::vector<Bin>& bins, double cpu, double mem_gib, PlacementRule rule);

}  // namespace autoscale
