// Node autoscalers (controllers/nodes) on hand-made observations: cluster-autoscaler's scale-up estimate,
// bounds and scale-down timers; karpenter's NodeClaims (cheapest type that holds the pods, first-fit
// decreasing) and consolidation. Expectations worked by hand.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "controllers/nodes/bin_packing.hpp"
#include "controllers/nodes/cluster_autoscaler.hpp"
#include "controllers/nodes/karpenter.hpp"

using namespace autoscale;

namespace {
// A node of 4 vCPU / 16 GiB holding pods of the given CPU requests (1 GiB each).
NodeObservation node(int id, std::vector<double> pod_cpus, bool ready = true, double created_s = 0) {
  NodeObservation n;
  n.id = id;
  n.instance_type = "node4";
  n.ready = ready;
  n.created_s = created_s;
  n.allocatable_cpu_cores = 4;
  n.allocatable_memory_gib = 16;
  for (double c : pod_cpus) {
    n.pods.push_back({c, 1});
    n.requested_cpu_cores += c;
    n.requested_memory_gib += 1;
  }
  return n;
}

Observation at(double t, std::vector<NodeObservation> nodes, std::vector<double> pending_cpus,
               int min_nodes = 0, int max_nodes = 10) {
  NodePoolObservation p;
  p.name = "pool";
  p.min_nodes = min_nodes;
  p.max_nodes = max_nodes;
  p.instance_types = {{"node4", 4, 16, 3.6}};
  for (const auto& n : nodes) {
    if (n.deleting) continue;
    ++p.nodes;
    if (!n.ready) ++p.starting_nodes;
  }
  p.node_list = std::move(nodes);
  for (double c : pending_cpus) p.pending_requests.push_back({c, 1});
  p.pending_pods = static_cast<int>(p.pending_requests.size());
  Observation o;
  o.time_s = t;
  o.node_pools = {p};
  return o;
}

const std::vector<InstanceTypeObservation> kTypes = {
    {"small", 2, 8, 0.10}, {"medium", 4, 16, 0.17}, {"large", 8, 32, 0.30}};
}  // namespace

TEST_CASE("first-fit decreasing places big pods first", "[nodes]") {
  std::vector<NodeRoom> rooms = {{2, 8}, {3, 8}};
  // Sorted 2.5, 1.5, 1, 0.5: 2.5 -> room 1 (0.5 left), 1.5 -> room 0 (0.5 left), 1 -> nowhere, 0.5 -> room 0.
  const auto left = first_fit(rooms, decreasing({{1, 1}, {2.5, 1}, {0.5, 1}, {1.5, 1}}));
  REQUIRE(left.size() == 1);
  CHECK(left[0].cpu_cores == 1);
  CHECK(rooms[0].cpu_cores == Approx(0));
  CHECK(rooms[1].cpu_cores == Approx(0.5));
}

TEST_CASE("cluster-autoscaler sizes a scale-up by bin-packing the pending pods", "[nodes]") {
  NodeAutoscalerConfig c;
  c.kind = "cluster_autoscaler";
  ClusterAutoscaler ca(c);
  // Pending 3, 3, 2, 1, 1 CPU onto node4s: {3,1}, {3,1}, {2}: 3 nodes; a starting node with 2 free CPU takes
  // the 2 first ({3,1}, {3,1}): 2 new nodes.
  auto d = ca.decide(at(10, {node(0, {4}), node(1, {2}, false, 5)}, {1, 3, 2, 1, 3}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].desired_nodes == 4);
  CHECK(d[0].rule == "scale_up");
  CHECK(d[0].details == "pending_pods=5; new_nodes=2");
  // Capped at max_nodes.
  ClusterAutoscaler capped(c);
  d = capped.decide(at(10, {node(0, {4})}, {3, 3, 3}, 0, 2));
  REQUIRE(d.size() == 1);
  CHECK(d[0].desired_nodes == 2);
  CHECK(d[0].rule == "scale_up,max_nodes");
  // A pod no node4 can hold asks for nothing.
  ClusterAutoscaler too_big(c);
  CHECK(too_big.decide(at(10, {node(0, {4})}, {5})).empty());
}

TEST_CASE("cluster-autoscaler removes a node unneeded for scale-down-unneeded-time", "[nodes]") {
  NodeAutoscalerConfig c;
  c.kind = "cluster_autoscaler";
  ClusterAutoscaler ca(c);
  // Node 0 at 3/4 is needed; node 1 at 1/4 (< 0.5) is unneeded from 20, its pod fitting on node 0.
  const auto nodes = std::vector<NodeObservation>{node(0, {3}), node(1, {1})};
  CHECK(ca.decide(at(20, nodes, {})).empty());
  CHECK(ca.decide(at(610, nodes, {})).empty());  // 590 s: not yet
  auto d = ca.decide(at(620, nodes, {}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].remove == std::vector<int>{1});
  CHECK(d[0].desired_nodes == -1);
  CHECK(d[0].rule == "scale_down");
  // At exactly the threshold (2/4 = 0.5) a node is needed: the timer restarts when it is underused again.
  ClusterAutoscaler b(c);
  CHECK(b.decide(at(20, nodes, {})).empty());
  CHECK(b.decide(at(300, {node(0, {2}), node(1, {2})}, {})).empty());
  CHECK(b.decide(at(620, nodes, {})).empty());
  CHECK(b.decide(at(1220, nodes, {})).size() == 1);
  // Within scale-down-delay-after-add of a scale-up, nothing is removed.
  ClusterAutoscaler e(c);
  CHECK(e.decide(at(700, {node(0, {}), node(1, {4})}, {})).empty());       // empty node 0 unneeded from 700
  CHECK(e.decide(at(710, {node(0, {}), node(1, {4})}, {4})).size() == 1);  // scale-up at 710
  CHECK(e.decide(at(1300, {node(0, {}), node(1, {4}), node(2, {4})}, {})).empty());  // 590 s after the add
  d = e.decide(at(1310, {node(0, {}), node(1, {4}), node(2, {4})}, {}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].remove == std::vector<int>{0});
  // min_nodes holds.
  ClusterAutoscaler m(c);
  CHECK(m.decide(at(0, {node(0, {})}, {}, 1)).empty());
  CHECK(m.decide(at(600, {node(0, {})}, {}, 1)).empty());
}

TEST_CASE("cluster-autoscaler removes a node that never started", "[nodes]") {
  NodeAutoscalerConfig c;
  c.kind = "cluster_autoscaler";
  ClusterAutoscaler ca(c);
  CHECK(ca.decide(at(909, {node(0, {1}), node(1, {}, false, 10)}, {})).empty());
  auto d = ca.decide(at(910, {node(0, {1}), node(1, {}, false, 10)}, {}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].remove == std::vector<int>{1});
  CHECK(d[0].rule == "max_node_provision_time");
}

TEST_CASE("karpenter launches the cheapest instance types that hold the pending pods", "[nodes]") {
  // 3 pods of 1 CPU: one claim; after the third only medium (0.17) and large (0.30) hold it -> medium.
  CHECK(Karpenter::provision({{1, 1}, {1, 1}, {1, 1}}, {}, kTypes) == std::vector<std::string>{"medium"});
  // 10 pods of 1 CPU: the first claim takes 8 (large), the 9th and 10th open a second claim of 2 CPU, held
  // by small at 0.10: large + small = 0.40 USD/h.
  CHECK(Karpenter::provision(std::vector<PodRequest>(10, {1, 1}), {}, kTypes) ==
        std::vector<std::string>{"large", "small"});
  // A starting node with 2 free CPU takes 2 of 3 pods; the third gets a small.
  CHECK(Karpenter::provision({{1, 1}, {1, 1}, {1, 1}}, {{2, 8}}, kTypes) ==
        std::vector<std::string>{"small"});
  // Memory counts too: 1 CPU / 12 GiB does not fit small (8 GiB): medium.
  CHECK(Karpenter::provision({{1, 12}}, {}, kTypes) == std::vector<std::string>{"medium"});
  // A pod no type holds stays pending.
  CHECK(Karpenter::provision({{9, 1}}, {}, kTypes).empty());
}

TEST_CASE("karpenter consolidates empty and underused nodes", "[nodes]") {
  NodeAutoscalerConfig c;
  c.kind = "karpenter";
  c.consolidate_after_s = 30;
  Karpenter k(c);
  auto n0 = node(0, {2, 1}), n1 = node(1, {1}), n2 = node(2, {});
  n0.last_pod_change_s = 0;
  n1.last_pod_change_s = 0;
  n2.last_pod_change_s = 10;
  // At 35 only nodes 0 and 1 are 30 s quiet (node 2: 25 s); node 1 has fewer pods (1 against 2) and its pod
  // fits on node 0 (1 free): delete it.
  auto d = k.decide(at(35, {n0, n1, n2}, {}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].remove == std::vector<int>{1});
  CHECK(d[0].rule == "consolidation_delete");
  // At 40 node 2 (empty, quiet since 10) goes first, on its own.
  d = k.decide(at(40, {n0, n1, n2}, {}));
  REQUIRE(d.size() == 1);
  CHECK(d[0].remove == std::vector<int>{2});
  CHECK(d[0].rule == "consolidation_empty");
  // WhenEmpty only: no underused deletion.
  c.consolidation = false;
  Karpenter empty_only(c);
  CHECK(empty_only.decide(at(35, {n0, n1, n2}, {})).empty());
  // Pending pods: provisioning, no consolidation.
  d = k.decide(at(40, {n0, n1, n2}, {8}));
  CHECK(d.empty());  // 8 CPU fits no node4: nothing to launch, nothing consolidated
}

// The scenario keys of node autoscaling and capacity types (README, "[cluster]" and "[node_autoscaler]"):
// read from scenarios/cluster_autoscaler.toml and spot.toml, and bad input named by its key.
#include <filesystem>

#include "controllers/base/error.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace {
std::string shipped(const std::string& name) {
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "scenarios" / name)
      .string();
}
// The error loading the shipped `name` with these overrides (its field and message).
InputError error_loading(const std::string& name, std::vector<std::string> set) {
  LoadOptions o;
  o.set = std::move(set);
  try {
    load_scenario(shipped(name), o);
  } catch (const InputError& e) {
    return e;
  }
  FAIL("no error");
  return InputError("", 0, "", "");
}
}  // namespace

TEST_CASE("node autoscaling and capacity keys are read", "[nodes][scenario]") {
  Scenario sc = load_scenario(shipped("cluster_autoscaler.toml"), {});
  REQUIRE(sc.runs.size() == 3);
  const RunSpec& presized = sc.runs[0];
  CHECK(presized.node_autoscaler.config.kind.empty());
  CHECK(presized.node_pools[0].capacity_type == CapacityType::on_demand);
  const RunSpec& auto_run = sc.runs[1];
  CHECK(auto_run.node_autoscaler.config.kind == "cluster_autoscaler");
  CHECK(auto_run.node_autoscaler.interval_s == 10);
  CHECK(auto_run.node_autoscaler.config.scale_down_unneeded_time_s == 600);
  CHECK(auto_run.node_autoscaler.config.scale_down_utilization_threshold == 0.5);
  CHECK(auto_run.node_autoscaler.config.scale_down_delay_after_add_s == 600);
  CHECK(auto_run.node_autoscaler.config.max_node_provision_time_s == 900);
  const NodePool& p = auto_run.node_pools[0];
  CHECK(p.nodes == 2);
  CHECK(p.min_nodes == 1);
  CHECK(p.max_nodes == 8);
  CHECK(p.node_startup_s.kind == Distribution::Kind::uniform);
  CHECK(p.node_startup_s.min == 60);
  CHECK(p.node_startup_s.max == 120);
  const RunSpec& karpenter = sc.runs[2];
  CHECK(karpenter.node_autoscaler.config.kind == "karpenter");
  CHECK(karpenter.node_autoscaler.config.consolidate_after_s == 0);
  CHECK(karpenter.node_autoscaler.config.consolidation);
  CHECK(karpenter.node_pools[0].instance_type == "m5.xlarge");
  CHECK(karpenter.node_pools[0].instance_types ==
        std::vector<std::string>{"m5.large", "m5.xlarge", "m5.2xlarge"});

  Scenario spot = load_scenario(shipped("spot.toml"), {});
  REQUIRE(spot.runs.size() == 3);
  CHECK(spot.runs[1].node_pools[0].capacity_type == CapacityType::spot);
  CHECK(spot.runs[1].node_pools[0].spot_interruptions_per_hour == 2);
  CHECK(spot.runs[1].node_pools[0].spot_notice_s == 120);
  CHECK(spot.runs[1].instance_types[0].spot_price_per_hour_usd == 0.0768);
  CHECK(spot.runs[2].node_pools[0].capacity_type == CapacityType::reserved);
  CHECK(spot.runs[2].node_pools[0].reserved_nodes == 4);
}

TEST_CASE("bad node autoscaling and capacity input is named", "[nodes][scenario]") {
  // A spot pool of a type without a spot price.
  InputError e =
      error_loading("cluster_autoscaler.toml", {"cluster.node_pools.workers.capacity_type=\"spot\""});
  CHECK(e.field() == "cluster.node_pools.workers.capacity_type");
  CHECK(e.message().find("spot_price_per_hour_usd") != std::string::npos);
  // Reserved nodes on an on-demand pool.
  e = error_loading("spot.toml", {"cluster.node_pools.workers.reserved_nodes=2"});
  CHECK(e.field() == "cluster.node_pools.workers.reserved_nodes");
  // Several instance types without karpenter; an instance_type not among them.
  const std::vector<std::string> big = {"cluster.instance_types.big.vcpu=8",
                                        "cluster.instance_types.big.memory_gib=32",
                                        "cluster.instance_types.big.price_per_hour_usd=0.4"};
  std::vector<std::string> set = big;
  set.push_back("cluster.node_pools.workers.instance_types=[\"m5.xlarge\", \"big\"]");
  e = error_loading("cluster_autoscaler.toml", set);
  CHECK(e.message().find("karpenter") != std::string::npos);
  set = big;
  set.push_back("cluster.node_pools.workers.instance_types=[\"big\"]");
  e = error_loading("cluster_autoscaler.toml", set);
  CHECK(e.field() == "cluster.node_pools.workers.instance_type");
  // An unknown kind, a key of the other kind, a range.
  e = error_loading("cluster_autoscaler.toml", {"node_autoscaler.kind=\"descheduler\""});
  CHECK(e.field() == "node_autoscaler.kind");
  e = error_loading("cluster_autoscaler.toml", {"node_autoscaler.kind=\"cluster_autoscaler\"",
                                                "node_autoscaler.consolidate_after_s=30"});
  CHECK(e.field() == "node_autoscaler.consolidate_after_s");
  e = error_loading("cluster_autoscaler.toml", {"node_autoscaler.kind=\"cluster_autoscaler\"",
                                                "node_autoscaler.scale_down_utilization_threshold=1.5"});
  CHECK(e.field() == "node_autoscaler.scale_down_utilization_threshold");
  // No node at all and nothing to add any.
  e = error_loading("cluster_autoscaler.toml", {"cluster.node_pools.workers.nodes=0"});
  CHECK(e.field() == "cluster.node_pools.workers.nodes");
}
