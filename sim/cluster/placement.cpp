#include "sim/cluster/placement.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

// Scoring follows kube-scheduler's plugins in pkg/scheduler/framework/plugins/noderesources/
// (least_allocated.go, most_allocated.go, balanced_allocation.go, resource_allocation.go): resources cpu and
// memory, weight 1 each, quantities in milli-CPU and bytes, int64 arithmetic (truncating division) and
// BalancedAllocation's float64 to int64 conversion. Upstream scores with the requests already on the node
// plus the incoming pod's. It counts a container with no request at all as 100m / 200 MB (NonZeroRequested)
// and skips BalancedAllocation for pods that request nothing; neither arises here: every pod carries its
// service's explicit cpu_request (> 0, the loader checks) and memory_request_gib, and upstream keeps an
// explicit request as it is, even zero.

namespace autoscale {

namespace {

constexpr double kFitTolerance = 1e-9;  // cores, GiB
constexpr int64_t kMaxNodeScore = 100;
constexpr double kMilliPerCore = 1000;
constexpr double kBytesPerGib = 1024.0 * 1024 * 1024;

// One resource in upstream's units, the incoming pod included (rounded to the nearest milli-CPU or byte).
// The filter's slack can leave requested a hair above allocatable; it is clamped there, which scores as
// upstream scores requested > allocatable (LeastAllocated 0; MostAllocated and BalancedAllocation cap at
// allocatable).
struct Resource {
  int64_t allocatable = 0;
  int64_t requested = 0;
};

Resource resource(double allocatable, double requested, double unit) {
  Resource r;
  r.allocatable = static_cast<int64_t>(std::llround(allocatable * unit));
  r.requested = std::min(static_cast<int64_t>(std::llround(requested * unit)), r.allocatable);
  return r;
}

}  // namespace

bool fits(const Bin& bin, double cpu, double mem_gib) {
  return bin.cpu_requested + cpu <= bin.cpu_allocatable + kFitTolerance &&
         bin.mem_requested_gib + mem_gib <= bin.mem_allocatable_gib + kFitTolerance;
}

NodeScore score(const Bin& bin, double cpu, double mem_gib, PlacementRule rule) {
  NodeScore s;
  if (rule == PlacementRule::first_fit) return s;
  const Resource resources[] = {
      resource(bin.cpu_allocatable, bin.cpu_requested + cpu, kMilliPerCore),
      resource(bin.mem_allocatable_gib, bin.mem_requested_gib + mem_gib, kBytesPerGib),
  };
  // A resource the node has none of is left out of both scores, as upstream does.
  int64_t fit_sum = 0, weight_sum = 0;
  double fractions[2] = {0, 0};
  int n = 0;
  for (const Resource& r : resources) {
    if (r.allocatable == 0) continue;
    fit_sum += rule == PlacementRule::most_allocated
                   ? r.requested * kMaxNodeScore / r.allocatable
                   : (r.allocatable - r.requested) * kMaxNodeScore / r.allocatable;
    ++weight_sum;
    fractions[n++] = static_cast<double>(r.requested) / static_cast<double>(r.allocatable);
  }
  s.fit = static_cast<int>(weight_sum > 0 ? fit_sum / weight_sum : 0);
  // Standard deviation of the requested fractions: for two resources |f_cpu - f_mem| / 2, for one zero.
  const double std_dev = n == 2 ? std::abs((fractions[0] - fractions[1]) / 2) : 0.0;
  s.balanced = static_cast<int>(static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore)));
  return s;
}

int place(const std::vector<Bin>& bins, double cpu, double mem_gib, PlacementRule rule) {
  int best = -1, best_total = 0;
  for (size_t i = 0; i < bins.size(); ++i) {
    if (!fits(bins[i], cpu, mem_gib)) continue;
    const int total = score(bins[i], cpu, mem_gib, rule).total();
    if (best < 0 || total > best_total) {
      best = static_cast<int>(i);
      best_total = total;
    }
  }
  return best;
}

}  // namespace autoscale
