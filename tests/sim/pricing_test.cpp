// Capacity types in the cost model: spot nodes billed at their spot price, interrupted as a Poisson process
// (the stream "spot/<pool>") with a notice before reclamation; reserved nodes billed for the whole run, used
// or not, and nodes beyond them on demand. Hand-worked sums.
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "sim/core/presets.hpp"
#include "sim/core/random.hpp"
#include "support.hpp"

using namespace autoscale;
using autoscale::test::run_with;
using autoscale::test::ScriptedController;
using autoscale::test::timeline;

namespace {
using Timeline = std::vector<std::pair<double, std::string>>;

// A fixed pool "pool" of `nodes` node4 (4 vCPU / 16 GiB; on demand 3.6 USD/h = 0.001 USD/s, spot 1.08 USD/h =
// 0.0003 USD/s, reserved 1.8 USD/h = 0.0005 USD/s), new nodes starting in 30 s, a service "svc" of `initial`
// pods of 1 CPU / 1 GiB, no traffic; pods start in launch 2 s, provision 5 s, boot 3 s.
RunSpec pool_run(int nodes, int initial, double duration_s, CapacityType capacity) {
  RunSpec run = test::pods_on_pool(nodes, initial, duration_s, 30);
  InstanceType& t = run.instance_types.back();
  t.spot_price_per_hour_usd = 1.08;
  t.reserved_price_per_hour_usd = 1.8;
  run.node_pools.back().capacity_type = capacity;
  run.services[0].min_instances = 0;
  return run;
}

double cost(const RunResult& r) {
  return find_metric(r.summary, "cost_usd")->value;
}

// Orders the pool to `n` nodes at time t.
class PoolPlan : public Controller {
 public:
  PoolPlan(double t, int n) : t_(t), n_(n) {}
  Decision decide(const Observation& obs) override {
    Decision d;
    if (obs.time_s == t_) d.node_pools.push_back({"pool", n_, "script"});
    return d;
  }
  double interval_s() const override { return 1; }

 private:
  double t_;
  int n_;
};
}  // namespace

TEST_CASE("a spot node is billed at its spot price", "[sim][pricing]") {
  RunSpec run = pool_run(2, 1, 100, CapacityType::spot);
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{}));
  CHECK(cost(r) == Approx(2 * 100 * 0.0003));
  CHECK(r.cost_usd[4] == Approx(2 * 50 * 0.0003));  // t = 50
}

TEST_CASE("a spot interruption: notice at the stream's first draw and reclamation after the notice",
          "[sim][pricing]") {
  // One spot node at time 0 with one pod; interruptions at 36 per node-hour (mean 100 s). Its notice comes at
  // the first exponential draw of the stream "spot/pool" (seed 1): the pod is evicted (drains and, idle,
  // terminates at once) and its replacement (instance 1) launched, pending from notice + 2 (the node is
  // cordoned). The node is reclaimed at notice + 120 and the pool replaces it; the new node starts 30 s later
  // and takes the pod. The replacement node's own notice is the stream's second draw after its creation.
  RunSpec run = pool_run(1, 1, 3000, CapacityType::spot);
  run.node_pools[1].spot_interruptions_per_hour = 36;
  Rng stream(run.seed, "spot/pool");
  const double notice = stream.exponential(100);
  const double second = stream.exponential(100);
  const double reclaim = notice + 120;
  INFO("notice " << notice << ", second " << second);
  REQUIRE(reclaim + 30 + 10 < run.duration_s);
  REQUIRE(second > 30);  // the replacement node is still there when it starts
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{}));
  CHECK(timeline(r, 0) == Timeline{{0, "in_service"}, {notice, "draining"}, {notice, "terminated"}});
  const Timeline replaced = timeline(r, 1);
  REQUIRE(replaced.size() >= 3);
  CHECK(replaced[0] == std::make_pair(notice, std::string("launching")));
  CHECK(replaced[1] == std::make_pair(notice + 2, std::string("pending")));
  CHECK(replaced[2].first == Approx(reclaim + 30));
  CHECK(replaced[2].second == "provisioning");
  // Every node billed from its start to its reclamation (or the end); each replacement starts at the
  // reclamation of the one before and draws the stream's next interruption.
  Rng again(run.seed, "spot/pool");
  double expected = 0;
  for (double start = 0; start < run.duration_s;) {
    const double end = std::min(run.duration_s, start + again.exponential(100) + 120);
    expected += (end - start) * 0.0003;
    start = end;
  }
  CHECK(cost(r) == Approx(expected));
}

TEST_CASE("reserved nodes are billed for the whole run whether used or not", "[sim][pricing]") {
  // 3 reserved, 2 running: 3 x 0.0005 USD/s x 100 s.
  RunSpec run = pool_run(2, 1, 100, CapacityType::reserved);
  run.node_pools[1].reserved_nodes = 3;
  RunResult r = run_with(run, std::make_shared<ScriptedController>(1, std::map<double, int>{}));
  CHECK(cost(r) == Approx(3 * 0.0005 * 100));
}

TEST_CASE("nodes beyond the reservation are billed on demand", "[sim][pricing]") {
  // 1 reserved; 3 nodes from 0, a fourth from 50 (billed from its request): 1 x 0.0005 x 100 reserved, and on
  // demand 2 x 0.001 x 100 + 0.001 x 50.
  RunSpec run = pool_run(3, 1, 100, CapacityType::reserved);
  run.node_pools[1].reserved_nodes = 1;
  RunResult r = run_with(run, std::make_shared<PoolPlan>(50, 4));
  CHECK(cost(r) == Approx(0.05 + 0.2 + 0.05));
  CHECK(r.cost_usd[4] == Approx(0.0005 * 50 + 2 * 0.001 * 50));  // t = 50
}
