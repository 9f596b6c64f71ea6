// The node autoscaler seam: what a controller sees of node pools (Observation::node_pools) and what its
// Decision::node_pools does to a fixed pool (nodes join at once with node_startup_s = 0 and are billed from
// then on, pending pods are placed on them; removals take empty nodes only), with hand-worked expectations.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "controllers/controller.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;

namespace {
// A fixed pool "pool" of `nodes` nodes of 4 vCPU / 16 GiB at 3.6 USD/h (0.001 USD per node-second), a service
// "svc" of pods requesting 1 CPU / 1 GiB with `initial` pods, no traffic, 60 s, a record every 10 s. Pods
// start in constant time: launch 2 s, provision 5 s, boot 3 s, no init, ready at the first probe.
RunSpec pool_run(int nodes, int initial) {
  return test::pods_on_pool(nodes, initial, 60, 0);  // nodes added later join at once here
}

// Ticks every second, keeps what it is shown, and orders "svc" pod counts and "pool" node counts at given
// times (a node autoscaler scripted by the test).
class Plan : public Controller {
 public:
  Plan(std::map<double, int> pods, std::map<double, int> nodes)
      : pods_(std::move(pods)), nodes_(std::move(nodes)) {}
  Decision decide(const Observation& obs) override {
    seen.push_back(obs);
    Decision d;
    auto p = pods_.find(obs.time_s);
    if (p != pods_.end()) d.services.push_back({"svc", p->second, "", 0, "script"});
    auto n = nodes_.find(obs.time_s);
    if (n != nodes_.end()) d.node_pools.push_back({"pool", n->second, "script"});
    return d;
  }
  double interval_s() const override { return 1; }

  // The pool `name` as shown at time t.
  const NodePoolObservation& pool(double t, const std::string& name = "pool") const {
    for (const auto& obs : seen)
      if (obs.time_s == t)
        for (const auto& np : obs.node_pools)
          if (np.name == name) return np;
    throw std::runtime_error("no observation of " + name + " at " + std::to_string(t));
  }
  std::vector<Observation> seen;

 private:
  std::map<double, int> pods_, nodes_;
};

std::vector<std::pair<double, std::string>> timeline(const RunResult& r, int instance) {
  std::vector<std::pair<double, std::string>> out;
  for (const auto& e : r.events)
    if (e.instance == instance) out.emplace_back(e.time_s, e.transition);
  return out;
}

// The cumulative cost recorded at time t.
double cost_at(const RunResult& r, double t) {
  for (size_t i = 0; i < r.time_s.size(); ++i)
    if (r.time_s[i] == Approx(t)) return r.cost_usd[i];
  FAIL("no record at " << t);
  return -1;
}
}  // namespace

TEST_CASE("a node autoscaler sees fixed and dedicated pools", "[sim][nodes]") {
  RunSpec run = pool_run(2, 3);
  // A second service on the preset's dedicated pool "vms" (2 vCPU / 4 GiB per node), with 2 instances.
  ServiceSpec api = run.services[0];
  api.name = "api";
  api.node_pool = "vms";
  api.initial_instances = api.min_instances = api.max_instances = 2;
  run.services.push_back(api);
  auto plan = std::make_shared<Plan>(std::map<double, int>{}, std::map<double, int>{});
  SimulationOptions o;
  o.controller = plan;
  run_simulation(run, o);
  REQUIRE(!plan->seen.empty());
  REQUIRE(plan->seen.front().time_s == 1);  // the first control tick
  REQUIRE(plan->seen.front().node_pools.size() == 2);

  // Fixed pool: 2 nodes x 4 vCPU / 16 GiB, 3 pods of 1 CPU / 1 GiB placed on them.
  const NodePoolObservation& fixed = plan->pool(1, "pool");
  CHECK_FALSE(fixed.dedicated);
  CHECK(fixed.nodes == 2);
  CHECK(fixed.allocatable_cpu_cores == 8);
  CHECK(fixed.allocatable_memory_gib == 32);
  CHECK(fixed.requested_cpu_cores == 3);
  CHECK(fixed.requested_memory_gib == 3);
  CHECK(fixed.pods == 3);
  CHECK(fixed.pending_pods == 0);

  // Dedicated pool: one node per instance, all of it requested by that instance.
  const NodePoolObservation& dedicated = plan->pool(1, "vms");
  CHECK(dedicated.dedicated);
  CHECK(dedicated.nodes == 2);
  CHECK(dedicated.allocatable_cpu_cores == 4);
  CHECK(dedicated.allocatable_memory_gib == 8);
  CHECK(dedicated.requested_cpu_cores == 4);
  CHECK(dedicated.requested_memory_gib == 8);
  CHECK(dedicated.pods == 2);
  CHECK(dedicated.pending_pods == 0);
}

TEST_CASE("pending pods are placed on a node the autoscaler adds and billed from then on", "[sim][nodes]") {
  // 3 pods on 2 nodes of 4 vCPU; at t = 10 the service goes to 10 pods. Launched at 10, they look for room at
  // 12: 5 of the 7 fit (8 slots, 3 taken), instances 8 and 9 stay pending. At t = 20 the pool goes to 3
  // nodes: the new node joins at once and both pending pods go there at 20 (provisioning 20 -> 25, booting ->
  // 28, ready at 28).
  auto plan = std::make_shared<Plan>(std::map<double, int>{{10, 10}}, std::map<double, int>{{20, 3}});
  SimulationOptions o;
  o.controller = plan;
  RunResult r = run_simulation(pool_run(2, 3), o);

  const NodePoolObservation& before = plan->pool(11);
  CHECK(before.pods == 3);  // the new pods are still launching: not placed, not pending
  CHECK(before.pending_pods == 0);
  const NodePoolObservation& full = plan->pool(13);
  CHECK(full.nodes == 2);
  CHECK(full.pods == 8);
  CHECK(full.requested_cpu_cores == 8);
  CHECK(full.pending_pods == 2);
  CHECK(plan->pool(20).pending_pods == 2);  // still waiting when the autoscaler decides
  const NodePoolObservation& grown = plan->pool(21);
  CHECK(grown.nodes == 3);
  CHECK(grown.allocatable_cpu_cores == 12);
  CHECK(grown.pods == 10);
  CHECK(grown.requested_cpu_cores == 10);
  CHECK(grown.pending_pods == 0);

  std::vector<std::pair<double, std::string>> placed = {{10, "launching"}, {12, "provisioning"},
                                                        {17, "booting"},   {20, "initializing"},
                                                        {20, "probing"},   {20, "in_service"}};
  CHECK(timeline(r, 7) == placed);
  std::vector<std::pair<double, std::string>> waited = {
      {10, "launching"},    {12, "pending"}, {20, "provisioning"}, {25, "booting"},
      {28, "initializing"}, {28, "probing"}, {28, "in_service"}};
  CHECK(timeline(r, 8) == waited);
  CHECK(timeline(r, 9) == waited);

  // 0.001 USD per node-second: 2 nodes for 60 s, the third from 20 to 60.
  CHECK(cost_at(r, 10) == Approx(2 * 10 * 0.001));
  CHECK(cost_at(r, 20) == Approx(2 * 20 * 0.001));
  CHECK(cost_at(r, 30) == Approx(2 * 30 * 0.001 + 10 * 0.001));
  CHECK(cost_at(r, 60) == Approx(2 * 60 * 0.001 + 40 * 0.001));
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(0.160));
}

TEST_CASE("a pool shrinks only by its empty nodes and their billing stops", "[sim][nodes]") {
  // 3 pods spread over 3 nodes (least_allocated: one each, pod k on node k). At t = 10 the autoscaler asks
  // for 1 node: every node holds a pod, none is removed. At t = 20 the service goes to 2 pods: the newest
  // (instance 2, on node 2) drains and, with no requests, terminates at once, leaving node 2 empty. At t = 30
  // the autoscaler asks for 2 nodes: node 2 is removed and billed no more.
  auto plan = std::make_shared<Plan>(std::map<double, int>{{20, 2}}, std::map<double, int>{{10, 1}, {30, 2}});
  SimulationOptions o;
  o.controller = plan;
  RunResult r = run_simulation(pool_run(3, 3), o);

  const NodePoolObservation& kept = plan->pool(11);
  CHECK(kept.nodes == 3);
  CHECK(kept.pods == 3);
  const NodePoolObservation& emptied = plan->pool(21);
  CHECK(emptied.nodes == 3);
  CHECK(emptied.pods == 2);
  const NodePoolObservation& shrunk = plan->pool(31);
  CHECK(shrunk.nodes == 2);
  CHECK(shrunk.allocatable_cpu_cores == 8);
  CHECK(shrunk.allocatable_memory_gib == 32);
  CHECK(shrunk.pods == 2);
  CHECK(shrunk.requested_cpu_cores == 2);
  CHECK(plan->pool(59).nodes == 2);

  // The pods on the nodes that were kept were never disturbed.
  for (int id : {0, 1})
    CHECK(timeline(r, id) == std::vector<std::pair<double, std::string>>{{0, "in_service"}});
  std::vector<std::pair<double, std::string>> removed = {
      {0, "in_service"}, {20, "draining"}, {20, "terminated"}};
  CHECK(timeline(r, 2) == removed);

  // 0.001 USD per node-second: 3 nodes until 30, then 2 until 60.
  CHECK(cost_at(r, 30) == Approx(3 * 30 * 0.001));
  CHECK(cost_at(r, 40) == Approx(3 * 30 * 0.001 + 2 * 10 * 0.001));
  CHECK(cost_at(r, 60) == Approx(3 * 30 * 0.001 + 2 * 30 * 0.001));
  CHECK(find_metric(r.summary, "cost_usd")->value == Approx(0.150));
}
