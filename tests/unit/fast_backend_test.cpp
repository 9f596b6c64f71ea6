// The fast backend against hand-worked processor sharing: completion times of CPU work under SimGrid's
// sharing rules (one core per execution, max-min fair shares of a machine among its executions and VMs,
// containers capped at their limit), and message times under LV08's constants. No engine.
#include <catch2/catch.hpp>
#include <map>

#include "sim/backend/fast_backend.hpp"
#include "sim/core/presets.hpp"

using namespace autoscale;

namespace {
// A run whose hosts compute 1 flop per second per core: work in flops is work in core-seconds.
RunSpec unit_run(int host_cores, double overcommit) {
  QueuePreset p;
  p.hosts = 2;
  p.host_cores = host_cores;
  p.cpu_overcommit = overcommit;
  RunSpec run = single_queue(p);
  run.hosts.speed_gflops = 1e-9;
  return run;
}

struct Recorder {
  std::map<uint32_t, double> done_s;  // by exec index
  void attach(FastBackend& b) {
    b.set_completion_handler([this](ActivityId id, bool ok, double t) {
      REQUIRE(ok);
      done_s[id.index] = t;
    });
  }
};
ActivityId exec(uint32_t i) {
  return {ActivityKind::request_exec, i};
}
}  // namespace

TEST_CASE("fast backend: executions on a node share its cores, one core each at most", "[fast]") {
  RunSpec run = unit_run(8, 1.0);
  FastBackend b(run);
  Recorder rec;
  rec.attach(b);
  const int node = b.open_node(0, 2, 0, "n");
  REQUIRE(node >= 0);
  // Three executions of 1 core-second on 2 cores: each at 2/3 of a core, all done at 1.5 s.
  for (uint32_t i = 0; i < 3; ++i) b.start_exec(exec(i), node, 1.0);
  b.advance_to(1.0);
  CHECK(rec.done_s.empty());
  CHECK(b.exec_done_flops(exec(0)) == Approx(2.0 / 3));
  b.advance_to(10);
  for (uint32_t i = 0; i < 3; ++i) CHECK(rec.done_s[i] == Approx(1.5));

  // Staggered: A (2 s of work) at t = 10, B (1 s) at 10.5, C (1 s) at 10.5 on 2 cores. Until 10.5: A alone at
  // one core (0.5 done). Then three share 2 cores at 2/3 each: B and C finish 1.5 s later (12.0), A has
  // 0.5 + 1 = 1.5 done; alone again, A ends at 12.5.
  b.start_exec(exec(10), node, 2.0);
  b.advance_to(10.5);
  b.start_exec(exec(11), node, 1.0);
  b.start_exec(exec(12), node, 1.0);
  b.advance_to(20);
  CHECK(rec.done_s[11] == Approx(12.0));
  CHECK(rec.done_s[12] == Approx(12.0));
  CHECK(rec.done_s[10] == Approx(12.5));
}

TEST_CASE("fast backend: a cancelled execution frees its share at once and is not reported", "[fast]") {
  RunSpec run = unit_run(8, 1.0);
  FastBackend b(run);
  Recorder rec;
  rec.attach(b);
  const int node = b.open_node(0, 2, 0, "n");
  // Four of 1 s on 2 cores (half a core each); two cancelled at 1 s (0.5 done each): the others run at a
  // full core and end at 1.5 s.
  for (uint32_t i = 0; i < 4; ++i) b.start_exec(exec(i), node, 1.0);
  b.advance_to(1.0);
  b.cancel(exec(2));
  b.cancel(exec(3));
  b.advance_to(5);
  CHECK(rec.done_s.size() == 2);
  CHECK(rec.done_s[0] == Approx(1.5));
  CHECK(rec.done_s[1] == Approx(1.5));
}

TEST_CASE("fast backend: VMs on an overcommitted host share it by min(executions, vCPUs)", "[fast]") {
  // A 4-core host, overcommit 2: three VMs of 2 vCPUs, each with two executions of 1 s: they ask for 6 cores
  // of 4, so each VM gets 4/3 cores and each execution 2/3: all done at 1.5 s.
  RunSpec run = unit_run(4, 2.0);
  FastBackend b(run);
  Recorder rec;
  rec.attach(b);
  int vm[3];
  for (int& v : vm) v = b.open_node(0, 2, 0, "vm");
  for (uint32_t i = 0; i < 6; ++i) b.start_exec(exec(i), vm[i / 2], 1.0);
  b.advance_to(10);
  for (uint32_t i = 0; i < 6; ++i) CHECK(rec.done_s[i] == Approx(1.5));
  // One VM with a single execution (weight 1, at most one core) beside one with two (weight 2): 3 cores
  // asked of 4: everybody at a full core.
  b.start_exec(exec(20), vm[0], 1.0);
  b.start_exec(exec(21), vm[1], 1.0);
  b.start_exec(exec(22), vm[1], 1.0);
  b.advance_to(20);
  CHECK(rec.done_s[20] == Approx(11.0));
  CHECK(rec.done_s[22] == Approx(11.0));
  // A VM on the other host does not share this one's cores.
  const int other = b.open_node(0, 2, 1, "vm");
  for (uint32_t i = 30; i < 34; ++i) b.start_exec(exec(i), i < 32 ? vm[2] : other, 1.0);
  b.advance_to(30);
  for (uint32_t i = 30; i < 34; ++i) CHECK(rec.done_s[i] == Approx(21.0));
}

TEST_CASE("fast backend: a container runs at most at its CPU limit, beside others on its node", "[fast]") {
  RunSpec run = unit_run(8, 1.0);
  FastBackend b(run);
  Recorder rec;
  rec.attach(b);
  const int node = b.open_node(0, 2, 0, "n");
  const int pod = b.open_container(node, 0.5, "pod");
  // Alone at half a core: 1 s of work takes 2 s.
  b.start_exec(exec(0), pod, 1.0);
  b.advance_to(10);
  CHECK(rec.done_s[0] == Approx(2.0));
  // Two limited pods (0.5 core, one execution: weight 1) and two unlimited ones (two executions: weight 2) on
  // 2 cores: weighted max-min gives the level x with x + x + 2x + 2x = 2, x = 1/3 below every bound: the
  // limited pods 1/3 core each, the others 2/3 (1/3 per execution).
  const int pod2 = b.open_container(node, 0.5, "pod2");
  const int big1 = b.open_container(node, 4, "big1");
  const int big2 = b.open_container(node, 4, "big2");
  b.start_exec(exec(1), pod, 1.0);
  b.start_exec(exec(2), pod2, 1.0);
  b.start_exec(exec(3), big1, 0.25);
  b.start_exec(exec(4), big1, 0.25);
  b.start_exec(exec(5), big2, 0.25);
  b.start_exec(exec(6), big2, 0.25);
  b.advance_to(20);
  CHECK(rec.done_s[3] == Approx(10.75));  // 0.25 at 1/3
  CHECK(rec.done_s[6] == Approx(10.75));
  // Then the limited pods (0.25 done) run alone at their 0.5 core: 0.75 more takes 1.5 s.
  CHECK(rec.done_s[1] == Approx(12.25));
  CHECK(rec.done_s[2] == Approx(12.25));
}

TEST_CASE("fast backend: a message takes LV08's latency and bandwidth", "[fast]") {
  RunSpec run = unit_run(8, 1.0);
  run.network.latency_s = 50e-6;
  run.network.bandwidth_gbps = 10;
  FastBackend b(run);
  std::map<uint32_t, double> done;
  b.set_completion_handler([&](ActivityId id, bool, double t) { done[id.index] = t; });
  const int n1 = b.open_node(0, 2, 0, "a"), n2 = b.open_node(0, 2, 0, "b");
  b.start_comm({ActivityKind::call_comm, 7}, n1, n2, 1e6);
  b.advance_to(1);
  // 13.01 x (2 x 50 us) + 1e6 B / (0.97 x 1.25e9 B/s); TCP's window bound (gamma / 200 us) is above it.
  CHECK(done[7] == Approx(13.01 * 100e-6 + 1e6 / (0.97 * 1.25e9)).epsilon(1e-9));
}

TEST_CASE("fast backend: nodes beyond the hosts' room are refused, closed ones reused", "[fast]") {
  QueuePreset p;
  p.hosts = 1;
  p.host_cores = 4;
  p.instances = 1;
  RunSpec run = single_queue(p);
  run.services[0].max_instances =
      10;  // a dedicated pool: slots up to what one 4-core host holds (2 x 2 vCPU)
  FastBackend b(run);
  const int a = b.open_node(0, 2, 0, "a"), c = b.open_node(0, 2, 0, "c");
  CHECK(a >= 0);
  CHECK(c >= 0);
  CHECK(b.open_node(0, 2, 0, "d") == -1);
  b.close_node(a);
  CHECK(b.open_node(0, 2, 0, "e") == a);
}
