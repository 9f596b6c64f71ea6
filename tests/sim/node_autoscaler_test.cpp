// Node autoscalers in the engine ([node_autoscaler]): pending pods wait for a node that starts in
// node_startup_s after the autoscaler's tick; cluster-autoscaler removes an underused node exactly
// scale-down-unneeded-time after it first found it unneeded; karpenter launches the cheapest type that holds
// the pending pods. Hand-worked timelines, constant distributions.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sim/core/presets.hpp"
#include "support.hpp"

using namespace autoscale;
using autoscale::test::run_with;
using autoscale::test::ScriptedController;
using autoscale::test::timeline;

namespace {
using Timeline = std::vector<std::pair<double, std::string>>;

// A fixed pool "pool" of `nodes` node4 (4 vCPU / 16 GiB, 3.6 USD/h = 0.001 USD per node-second) whose new
// nodes start in 60 s, a service "svc" of pods requesting 1 CPU / 1 GiB with `initial` pods, no traffic, a
// record every 10 s; pods start in launch 2 s, provision 5 s, boot 3 s, ready at the end of boot.
RunSpec pool_run(int nodes, int initial, double duration_s) {
  RunSpec run = test::pods_on_pool(nodes, initial, duration_s, 60);
  run.node_pools.back().max_nodes = 5;
  run.services[0].min_instances = 0;
  return run;
}

const NodeDecisionRow& only_row(const RunResult& r) {
  REQUIRE(r.node_decisions.size() == 1);
  return r.node_decisions.front();
}
}  // namespace

TEST_CASE("cluster-autoscaler adds a node at its scan and pending pods wait for it to start",
          "[sim][nodes]") {
  // 4 pods fill the one node. At t = 5 the service goes to 6: the 2 new pods launch at 5 and find no room at
  // 7 (pending). The autoscaler's first scan at 10 sees 2 pending pods of 1 CPU: one new node4 holds both, so
  // the pool goes to 2 nodes at 10, billed from 10; the node starts at 10 + 60 = 70 and the pods are placed
  // there at 70: provisioning 70 -> 75, booting -> 78, ready at 78.
  RunSpec run = pool_run(1, 4, 200);
  run.node_autoscaler.config.kind = "cluster_autoscaler";
  run.node_autoscaler.interval_s = 10;
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{{5, 6}}));

  const NodeDecisionRow& d = only_row(r);
  CHECK(d.time_s == 10);
  CHECK(d.pool == "pool");
  CHECK(d.current == 1);
  CHECK(d.desired == 2);
  CHECK(d.rule == "scale_up");
  CHECK(d.details == "pending_pods=2; new_nodes=1");
  const Timeline waited = {{5, "launching"},     {7, "pending"},  {70, "provisioning"}, {75, "booting"},
                           {78, "initializing"}, {78, "probing"}, {78, "in_service"}};
  CHECK(timeline(r, 4) == waited);
  CHECK(timeline(r, 5) == waited);
  // The node series: starting from 10 (the records at 10 .. 60), ready from 70.
  REQUIRE(r.node_pools.size() == 1);
  const NodePoolSeries& np = r.node_pools[0];
  CHECK(np.nodes_starting[0] == 1);  // t = 10: the record follows the scan
  CHECK(np.nodes_ready[6] == 2);     // t = 70
  CHECK(np.nodes_starting[5] == 1);  // t = 60
  // 0.001 USD per node-second: the first node for 200 s, the second from 10.
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(0.200 + 0.190));
}

TEST_CASE("cluster-autoscaler removes underused nodes exactly scale-down-unneeded-time after finding them",
          "[sim][nodes]") {
  // 3 pods spread over 3 nodes (one each). At t = 5 the service goes to 2: the newest pod (instance 2, node
  // 2) drains and terminates at once, leaving node 2 empty. At the first scan (10) every node is unneeded
  // (node 2 empty; nodes 0 and 1 at 1/4 < 0.5, their pod fitting elsewhere): unneeded since 10, removable
  // from 10 + 600 = 610 (the delay after add, counted from the autoscaler's start at 0, is over at 600). At
  // 610: empty node 2 first, then one node with pods, node 0 (its pod fits on node 1); min_nodes = 1 keeps
  // node 1. Node 0's pod is evicted: it drains and terminates at 610 (no requests), node 0 closes, and its
  // replacement (instance 3) launches at 610 and lands on node 1 at 612, ready at 620.
  RunSpec run = pool_run(3, 3, 700);
  run.node_pools[1].min_nodes = 1;
  run.node_autoscaler.config.kind = "cluster_autoscaler";
  run.node_autoscaler.interval_s = 10;
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{{5, 2}}));

  const NodeDecisionRow& d = only_row(r);
  CHECK(d.time_s == 610);
  CHECK(d.current == 3);
  CHECK(d.desired == 1);
  CHECK(d.removed == "2,0");
  CHECK(d.rule == "scale_down");
  CHECK(timeline(r, 0) == Timeline{{0, "in_service"}, {610, "draining"}, {610, "terminated"}});
  CHECK(timeline(r, 1) == Timeline{{0, "in_service"}});
  CHECK(timeline(r, 3) == Timeline{{610, "launching"},
                                   {612, "provisioning"},
                                   {617, "booting"},
                                   {620, "initializing"},
                                   {620, "probing"},
                                   {620, "in_service"}});
  const NodePoolSeries& np = r.node_pools[0];
  CHECK(np.nodes_ready[59] == 3);  // t = 600
  CHECK(np.nodes_ready[60] == 1);  // t = 610
  // Nodes 0 and 2 billed until 610, node 1 to the end.
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx((610 + 610 + 700) * 0.001));
}

TEST_CASE("karpenter launches the cheapest instance type that holds the pending pods", "[sim][nodes]") {
  // No node at first; 3 pods of 1 CPU / 1 GiB launch at 1 and are pending from 3. Allowed types: small (2
  // vCPU, 0.10 USD/h), medium (4 vCPU, 0.17 USD/h), large (8 vCPU, 0.30 USD/h). At karpenter's tick at 10
  // the three pods go into one NodeClaim: after the third, only medium and large hold them; the cheapest,
  // medium, is launched, billed from 10 and started at 70, where the pods go (ready at 78).
  RunSpec run = pool_run(0, 0, 100);
  run.instance_types.push_back({"small", 2, 8, 0.10});
  run.instance_types.push_back({"medium", 4, 16, 0.17});
  run.instance_types.push_back({"large", 8, 32, 0.30});
  run.node_pools[1].instance_types = {"small", "medium", "large"};
  run.node_pools[1].instance_type = "small";
  run.node_autoscaler.config.kind = "karpenter";
  run.node_autoscaler.interval_s = 10;
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{{1, 3}}));

  const NodeDecisionRow& d = only_row(r);
  CHECK(d.time_s == 10);
  CHECK(d.current == 0);
  CHECK(d.desired == 1);
  CHECK(d.launched == "medium");
  CHECK(d.rule == "provision");
  const Timeline waited = {{1, "launching"},     {3, "pending"},  {70, "provisioning"}, {75, "booting"},
                           {78, "initializing"}, {78, "probing"}, {78, "in_service"}};
  for (int id : {0, 1, 2}) CHECK(timeline(r, id) == waited);
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(90 * 0.17 / 3600));
}
