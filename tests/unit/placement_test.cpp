// Placement: the filter shared by pods-onto-nodes and nodes-onto-hosts, kube-scheduler's scores, the choice.
#include <catch2/catch.hpp>

#include <vector>

#include "sim/cluster/placement.hpp"

using namespace autoscale;

namespace {

// Upstream's test cases give cpu in milli-CPU and memory in bytes; these bring them to our cores and GiB
// (exact: both are scalings, the second by a power of two, so the scorer gets upstream's integers back).
constexpr double kMilli = 1e-3;
constexpr double kByte = 1.0 / (1024.0 * 1024 * 1024);

Bin upstream_node(double alloc_milli, double alloc_bytes, double req_milli = 0, double req_bytes = 0) {
  return Bin{alloc_milli * kMilli, alloc_bytes * kByte, req_milli * kMilli, req_bytes * kByte};
}

struct UpstreamCase {
  const char* name;  // the upstream test case's name
  Bin node;          // allocatable, and the requests of the pods already on it
  double pod_milli, pod_bytes;
  int expected;
};

// Checks one part of the score (`&NodeScore::fit` or `&NodeScore::balanced`) under `rule` for every case.
template <size_t N>
void check_scores(const UpstreamCase (&cases)[N], PlacementRule rule, int NodeScore::*part) {
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(score(c.node, c.pod_milli * kMilli, c.pod_bytes * kByte, rule).*part == c.expected);
  }
}

// Places `pods` identical pods one after the other, reserving each on its node; returns the chosen indices.
std::vector<int> place_all(std::vector<Bin>& bins, int pods, double cpu, double mem_gib, PlacementRule rule) {
  std::vector<int> chosen;
  for (int k = 0; k < pods; ++k) {
    int i = place(bins, cpu, mem_gib, rule);
    chosen.push_back(i);
    if (i < 0) continue;
    bins[i].cpu_requested += cpu;
    bins[i].mem_requested_gib += mem_gib;
  }
  return chosen;
}

}  // namespace

TEST_CASE("LeastAllocated scores as upstream's TestLeastAllocatedScoringStrategy", "[placement]") {
  // kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources/least_allocated_test.go,
  // TestLeastAllocatedScoringStrategy (default resources cpu and memory, weight 1). The incoming pod of 3000m
  // / 5000 bytes is the upstream pod of two containers (1000m + 2000m, 2000 + 3000 bytes).
  const UpstreamCase cases[] = {
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(4000, 10000), 3000,
       5000, 37},
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(6000, 10000), 3000,
       5000, 50},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 0), 3000, 5000,
       57},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 5000), 3000,
       5000, 45},
      {"resources requested, pods scheduled with resources, differently sized nodes",
       upstream_node(10000, 20000, 3000, 0), 3000, 5000, 57},
      {"resources requested, pods scheduled with resources, differently sized nodes",
       upstream_node(10000, 50000, 3000, 5000), 3000, 5000, 60},
      {"requested resources exceed node capacity", upstream_node(4000, 10000, 3000, 0), 3000, 0, 50},
      {"requested resources exceed node capacity", upstream_node(4000, 10000, 3000, 5000), 3000, 0, 25},
      {"zero node resources, pods scheduled with resources", upstream_node(0, 0, 3000, 0), 0, 0, 0},
      {"zero node resources, pods scheduled with resources", upstream_node(0, 0, 3000, 5000), 0, 0, 0},
  };
  check_scores(cases, PlacementRule::least_allocated, &NodeScore::fit);
}

TEST_CASE("MostAllocated scores as upstream's TestMostAllocatedScoringStrategy", "[placement]") {
  // kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources/most_allocated_test.go,
  // TestMostAllocatedScoringStrategy (default resources cpu and memory, weight 1).
  const UpstreamCase cases[] = {
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(4000, 10000), 3000,
       5000, 62},
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(6000, 10000), 3000,
       5000, 50},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 0), 3000, 5000,
       42},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 5000), 3000,
       5000, 55},
      {"resources requested equal node capacity", upstream_node(5000, 10000), 5000, 9000, 95},
      {"resources requested equal node capacity", upstream_node(10000, 9000), 5000, 9000, 75},
  };
  check_scores(cases, PlacementRule::most_allocated, &NodeScore::fit);
}

TEST_CASE("BalancedAllocation scores as upstream's TestNodeResourcesBalancedAllocation", "[placement]") {
  // kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go,
  // TestNodeResourcesBalancedAllocation (cpu and memory). Upstream's pods: cpuOnly = 3000m / 0 bytes,
  // cpuAndMemory = 3000m / 5000 bytes; e.g. the first: fractions 3000/4000 and 5000/10000, std 0.125,
  // (1 - 0.125) * 100 = 87.5, truncated to 87.
  const UpstreamCase cases[] = {
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(4000, 10000), 3000,
       5000, 87},
      {"nothing scheduled, resources requested, differently sized nodes", upstream_node(6000, 10000), 3000,
       5000, 100},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 0), 3000, 5000,
       82},
      {"resources requested, pods scheduled with resources", upstream_node(10000, 20000, 3000, 5000), 3000,
       5000, 95},
      {"resources requested, pods scheduled with resources, differently sized nodes",
       upstream_node(10000, 50000, 3000, 5000), 3000, 5000, 80},
      {"requested resources at node capacity", upstream_node(6000, 10000, 3000, 0), 3000, 0, 50},
      {"requested resources at node capacity", upstream_node(6000, 10000, 3000, 5000), 3000, 0, 75},
  };
  // The same plugin runs next to either scoring strategy of NodeResourcesFit.
  for (PlacementRule rule : {PlacementRule::least_allocated, PlacementRule::most_allocated})
    check_scores(cases, rule, &NodeScore::balanced);
}

TEST_CASE("a resource the node has none of is left out of the scores", "[placement]") {
  // Upstream skips a resource whose allocatable is 0 in both plugins. A node of 4 cores and no memory, a pod
  // of 1 core and no memory: LeastAllocated on cpu alone (4000 - 1000) * 100 / 4000 = 75; one fraction left,
  // so the standard deviation is 0 and BalancedAllocation gives 100.
  const NodeScore s = score(Bin{4, 0, 0, 0}, 1, 0, PlacementRule::least_allocated);
  CHECK(s.fit == 75);
  CHECK(s.balanced == 100);
  CHECK(s.total() == 175);
}

TEST_CASE("the filter is NodeResourcesFit's, as upstream's TestEnoughRequests", "[placement]") {
  // kubernetes/kubernetes pkg/scheduler/framework/plugins/noderesources/fit_test.go, TestEnoughRequests: a
  // node of 10 cpu / 20 memory (the filter only compares sums, so the units do not matter).
  struct {
    const char* name;
    double used_cpu, used_mem, pod_cpu, pod_mem;
    bool fits;
  } cases[] = {
      {"both resources fit", 5, 5, 1, 1, true},
      {"one resource memory fits", 9, 5, 2, 1, false},  // cpu misfits only
      {"one resource cpu fits", 5, 19, 1, 2, false},    // memory misfits only
      {"equal edge case", 5, 19, 5, 1, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    CHECK(fits(Bin{10, 20, c.used_cpu, c.used_mem}, c.pod_cpu, c.pod_mem) == c.fits);
  }
}

TEST_CASE("a bin that misfits on one resource only is never chosen", "[placement]") {
  const Bin empty{8, 32, 0, 0};
  const Bin memory_full{8, 32, 0, 31.5};  // 31.5 + 1 GiB > 32
  const Bin cpu_full{8, 32, 7.5, 0};      // 7.5 + 1 core > 8
  for (PlacementRule rule :
       {PlacementRule::first_fit, PlacementRule::least_allocated, PlacementRule::most_allocated}) {
    CHECK(place({memory_full, empty}, 1, 1, rule) == 1);
    CHECK(place({cpu_full, empty}, 1, 1, rule) == 1);
    CHECK(place({memory_full, cpu_full}, 1, 1, rule) == -1);
  }
  // Unfiltered, cpu_full would win under most_allocated: cpu clamped at 100, memory 1/32 -> 3, fit (100 + 3)
  // / 2 = 51; fractions 1 and 0.03125, std 0.484375, balanced 51; total 102. The empty node: cpu 1000 * 100 /
  // 8000 = 12, memory 3, fit 7; std (0.125 - 0.03125) / 2 = 0.046875, balanced 95; total 102: a tie, which
  // would go to index 0.
  CHECK(score(cpu_full, 1, 1, PlacementRule::most_allocated).total() == 102);
  CHECK(score(empty, 1, 1, PlacementRule::most_allocated).total() == 102);
}

TEST_CASE("least_allocated spreads pods, most_allocated packs them", "[placement]") {
  // 4 nodes of 8 vCPU / 32 GiB, 6 pods of 1 CPU / 1 GiB. With n pods on a node once the newcomer is counted:
  //   least: n=1: cpu 7000*100/8000 = 87, mem 31*100/32 = 96, fit 183/2 = 91; fractions 0.125, 0.03125, std
  //          0.046875, balanced 95; total 186.
  //          n=2: cpu 75, mem 93, fit 84; std 0.09375, balanced 90; total 174.
  //          n=3: cpu 62, mem 90, fit 76; std 0.140625, balanced 85; total 161.
  //   Pod 1: all 186, tie -> node 0. Pods 2-4: the empty nodes (186 > 174) in index order -> 1, 2, 3.
  //   Pod 5: all 174, tie -> node 0. Pod 6: node 0 would be 161, the others 174 -> node 1. Counts 2, 2, 1, 1.
  std::vector<Bin> nodes(4, Bin{8, 32, 0, 0});
  CHECK(place_all(nodes, 6, 1, 1, PlacementRule::least_allocated) == std::vector<int>{0, 1, 2, 3, 0, 1});
  CHECK(nodes[0].cpu_requested == 2);
  CHECK(nodes[1].cpu_requested == 2);
  CHECK(nodes[2].cpu_requested == 1);
  CHECK(nodes[3].cpu_requested == 1);

  //   most: n=1: cpu 12, mem 3, fit 7; balanced 95; total 102.   n=2: 25, 6, fit 15; balanced 90; total 105.
  //         n=3: 37, 9 -> 23; 85 -> 108.   n=4: 50, 12 -> 31; std 0.1875 -> 81; 112.
  //         n=5: 62, 15 -> 38; std 0.234375 -> 76; 114.   n=6: 75, 18 -> 46; std 0.28125 -> 71; 117.
  //   Node 0 beats an empty node (102) at every step: all six on node 0.
  nodes.assign(4, Bin{8, 32, 0, 0});
  CHECK(place_all(nodes, 6, 1, 1, PlacementRule::most_allocated) == std::vector<int>{0, 0, 0, 0, 0, 0});
  CHECK(score(Bin{8, 32, 1, 1}, 1, 1, PlacementRule::most_allocated).total() == 105);
  CHECK(score(Bin{8, 32, 5, 5}, 1, 1, PlacementRule::most_allocated).total() == 117);
  CHECK(score(Bin{8, 32, 2, 2}, 1, 1, PlacementRule::least_allocated).total() == 161);
}

TEST_CASE("ties go to the lowest index", "[placement]") {
  // Upstream picks among the tied best nodes at random; we take the first. The two empty nodes tie (186, see
  // above) ahead of the loaded one under least_allocated; the two loaded ones tie ahead of the empty one
  // under most_allocated (105 > 102).
  const Bin empty{8, 32, 0, 0}, loaded{8, 32, 1, 1};
  CHECK(place({loaded, empty, empty}, 1, 1, PlacementRule::least_allocated) == 1);
  CHECK(place({empty, loaded, loaded}, 1, 1, PlacementRule::most_allocated) == 1);
}

TEST_CASE("first_fit takes the first bin with room, whatever the scores", "[placement]") {
  // Nodes onto hosts: a host of 16 cores with cpu_overcommit 1.5 offers 24 vCPU; nodes of 8 vCPU / 8 GiB.
  // Three fill host 0 exactly, the fourth goes to host 1.
  std::vector<Bin> hosts(2, Bin{16 * 1.5, 64, 0, 0});
  CHECK(place_all(hosts, 4, 8, 8, PlacementRule::first_fit) == std::vector<int>{0, 0, 0, 1});
  // Memory binds too: hosts of 64 cores but 16 GiB take two 8 GiB nodes each; the fifth has no room.
  hosts.assign(2, Bin{64, 16, 0, 0});
  CHECK(place_all(hosts, 5, 8, 8, PlacementRule::first_fit) == std::vector<int>{0, 0, 1, 1, -1});
  // A busier bin first: first_fit keeps it, least_allocated prefers the empty one.
  const Bin busy{8, 32, 4, 4}, empty{8, 32, 0, 0};
  CHECK(place({busy, empty}, 1, 1, PlacementRule::first_fit) == 0);
  CHECK(place({busy, empty}, 1, 1, PlacementRule::least_allocated) == 1);
  CHECK(score(busy, 1, 1, PlacementRule::first_fit).total() == 0);
}

TEST_CASE("requests summing to the allocatable in floating point still fit", "[placement]") {
  // 0.1 + 0.2 = 0.30000000000000004, and + 0.3 = 0.6000000000000001 > 0.6: without the slack the third pod
  // would not fit on a node of exactly 0.6 core / 0.6 GiB.
  const double requested = 0.1 + 0.2;
  REQUIRE(requested + 0.3 > 0.6);
  const Bin node{0.6, 0.6, requested, requested};
  CHECK(fits(node, 0.3, 0.3));
  CHECK(place({node}, 0.3, 0.3, PlacementRule::least_allocated) == 0);
  // Full on both resources: LeastAllocated 0, fractions 1 and 1 so BalancedAllocation 100.
  CHECK(score(node, 0.3, 0.3, PlacementRule::least_allocated).fit == 0);
  CHECK(score(node, 0.3, 0.3, PlacementRule::least_allocated).balanced == 100);
  // A real excess does not fit, on either resource.
  CHECK_FALSE(fits(node, 0.3 + 1e-6, 0.3));
  CHECK_FALSE(fits(node, 0.3, 0.3 + 1e-6));
}
