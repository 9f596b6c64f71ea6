// The reference formulation for `autoscale bench engine`: the standard queue written directly against SimGrid
// in the fastest way measured (README, Performance): no actor per request, arrivals
// injected from the main loop with run_until(), one Exec per request, the completion callback starts the next
// queued request. Same platform as the exact-mode benchmark without overcommit: every node (2 cores) a host
// of its own with its own link, round robin, 2 workers, 50 ms exponential work.
#include <simgrid/s4u.hpp>

#include <deque>

#include "sim/core/monitoring.hpp"
#include "sim/core/random.hpp"
#include "sim/engine/simulation.hpp"

namespace sg = simgrid::s4u;

namespace autoscale {

RawBaselineResult run_raw_baseline(double duration_s, int instances, double arrival_rps, uint64_t seed) {
  int argc = 2;
  char arg0[] = "autoscale";
  char arg1[] = "--log=root.thres:critical";
  char* argv[] = {arg0, arg1, nullptr};
  sg::Engine engine(&argc, argv);
  constexpr int kWorkers = 2;
  constexpr double kSpeed = 1e9, kWork = 0.05;
  const int kInstances = instances;
  const double kRate = arrival_rps;
  auto* zone = sg::create_star_zone("cluster");
  std::vector<sg::Host*> hosts;
  for (int i = 0; i < kInstances; ++i) {
    std::string name = "node-" + std::to_string(i);
    sg::Host* host = zone->create_host(name, kSpeed)->set_core_count(kWorkers)->seal();
    const sg::Link* link =
        zone->create_split_duplex_link("link-" + name, 10e9 / 8)->set_latency(50e-6)->seal();
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr, {{link, sg::LinkInRoute::Direction::UP}},
                    true);
    hosts.push_back(host);
  }
  zone->seal();
  struct Slot {
    double arrival;
    int instance;
    sg::ExecPtr exec;
  };
  struct Inst {
    sg::Host* host;
    int busy = 0;
    std::deque<double> queue;
  };
  std::vector<Inst> inst;
  for (int i = 0; i < kInstances; ++i) inst.push_back({hosts[static_cast<size_t>(i)], 0, {}});
  Rng arrivals(seed, "bench/arrivals"), work(seed, "bench/work");
  std::vector<Slot> slots;
  std::vector<uint32_t> free_slots;
  std::vector<sg::ExecPtr> graveyard;
  std::vector<double> latencies;
  auto start = [&](double arrival, int i) {
    uint32_t k;
    if (free_slots.empty()) {
      k = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
    } else {
      k = free_slots.back();
      free_slots.pop_back();
    }
    slots[k].arrival = arrival;
    slots[k].instance = i;
    slots[k].exec =
        sg::Exec::init()->set_flops_amount(work.exponential(kWork) * kSpeed)->set_host(inst[i].host);
    slots[k].exec->set_data(reinterpret_cast<void*>(static_cast<uintptr_t>(k) + 1));
    slots[k].exec->start();
    ++inst[i].busy;
  };
  sg::Activity::on_completion_cb([&](const sg::Activity& a) {
    auto tag = reinterpret_cast<uintptr_t>(a.get_data<void>());
    if (tag == 0) return;
    Slot& s = slots[tag - 1];
    latencies.push_back(sg::Engine::get_clock() - s.arrival);
    graveyard.push_back(std::move(s.exec));
    free_slots.push_back(static_cast<uint32_t>(tag - 1));
    Inst& in = inst[s.instance];
    --in.busy;
    if (!in.queue.empty()) {
      double next = in.queue.front();
      in.queue.pop_front();
      start(next, s.instance);
    }
  });
  long n = 0;
  int rr = 0;
  for (double t = arrivals.exponential(1 / kRate); t < duration_s; t += arrivals.exponential(1 / kRate)) {
    engine.run_until(t);
    graveyard.clear();
    int i = rr++ % kInstances;
    ++n;
    if (inst[i].busy < kWorkers)
      start(t, i);
    else
      inst[i].queue.push_back(t);
  }
  engine.run_until(duration_s + 3600);
  graveyard.clear();
  return {n, quantile(latencies, 0.95)};
}

}  // namespace autoscale
