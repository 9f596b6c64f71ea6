// `autoscale bench engine`: exact mode against the fastest raw-SimGrid formulation of the same queue on the
// same platform, each in a child process of its own (one engine per process), measured in the same
// invocation.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "sim/cli/runner.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale {

namespace {

struct Measure {
  double requests = 0;
  double wall_s = 0;
  double p95_s = 0;
};

// Runs `body` in a child process and returns what it measured.
template <class F>
Measure in_child(F body) {
  int fd[2];
  if (pipe(fd) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fd[0]);
    Measure m;
    try {
      auto t0 = std::chrono::steady_clock::now();
      body(m);
      m.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      _exit(3);
    }
    if (write(fd[1], &m, sizeof m) != sizeof m) _exit(3);
    _exit(0);
  }
  close(fd[1]);
  Measure m;
  ssize_t got = read(fd[0], &m, sizeof m);
  close(fd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof m || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("benchmark child process failed");
  return m;
}

}  // namespace

namespace {

// One exact-mode run and one raw-SimGrid run of the standard queue with `instances` nodes, alternated
// `rounds` times; each side's best round is kept (this machine's speed varies between runs: shared cores,
// frequency steps).
struct Pair {
  Measure raw, exact;
};
Pair measure_pair(int instances, double arrival_rps, double duration_s, int rounds, bool quiet) {
  Pair best;
  for (int k = 0; k < rounds; ++k) {
    if (!quiet)
      std::fprintf(stderr,
                   "bench engine: %d instances, round %d of %d (%.0f simulated s at %.0f rps, twice)\n",
                   instances, k + 1, rounds, duration_s, arrival_rps);
    Measure r = in_child([&](Measure& m) {
      RawBaselineResult res = run_raw_baseline(duration_s, instances, arrival_rps, 1);
      m.requests = static_cast<double>(res.requests);
      m.p95_s = res.p95_latency_s;
    });
    Measure e = in_child([&](Measure& m) {
      QueuePreset preset;  // nodes of 2 vCPU x 2 workers, 50 ms exponential work, round robin
      preset.instances = instances;
      preset.hosts = (instances * preset.vcpu + preset.host_cores - 1) / preset.host_cores;
      preset.arrival_rps = arrival_rps;
      preset.duration_s = duration_s;
      RunResult res = run_simulation(single_queue(preset), SimulationOptions{});
      m.requests = find_metric(res.summary, "requests_total")->value;
      m.p95_s = find_metric(res.summary, "latency_p95_s")->value;
    });
    if (k == 0 || r.wall_s < best.raw.wall_s) best.raw = r;
    if (k == 0 || e.wall_s < best.exact.wall_s) best.exact = e;
  }
  return best;
}

}  // namespace

int cmd_bench_engine(bool json, double duration_s, int rounds, bool quiet,
                     const std::vector<int>& instances) {
  // The standard queue: 20 nodes, 200 rps.
  Pair std_pair = measure_pair(20, 200, duration_s, rounds, quiet);
  const Measure& raw = std_pair.raw;
  const Measure& exact = std_pair.exact;
  double exact_rate = exact.requests / exact.wall_s, raw_rate = raw.requests / raw.wall_s;
  // Cost against the fleet: the same 600 000 requests at 10 rps per instance, whatever the fleet size.
  nlohmann::json scaling = nlohmann::json::array();
  std::vector<Pair> fleet;
  for (int n : instances) {
    double rate = 10.0 * n;
    fleet.push_back(measure_pair(n, rate, 600000 / rate, 1, quiet));
    const Pair& p = fleet.back();
    scaling.push_back(
        {{"instances", n},
         {"exact_req_per_s", p.exact.requests / p.exact.wall_s},
         {"baseline_req_per_s", p.raw.requests / p.raw.wall_s},
         {"ratio_baseline_over_exact", (p.raw.requests / p.raw.wall_s) / (p.exact.requests / p.exact.wall_s)},
         {"exact_wall_s", p.exact.wall_s},
         {"baseline_wall_s", p.raw.wall_s},
         {"exact_requests", p.exact.requests}});
  }
  if (json) {
    nlohmann::json j = {{"exact_req_per_s", exact_rate},
                        {"baseline_req_per_s", raw_rate},
                        {"ratio_baseline_over_exact", raw_rate / exact_rate},
                        {"rounds", rounds},
                        {"exact_requests", exact.requests},
                        {"baseline_requests", raw.requests},
                        {"exact_wall_s", exact.wall_s},
                        {"baseline_wall_s", raw.wall_s},
                        {"exact_latency_p95_s", exact.p95_s},
                        {"baseline_latency_p95_s", raw.p95_s},
                        {"scaling", scaling}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%-28s %12s %10s %10s\n", "formulation", "req/s", "wall s", "p95 s");
    std::printf("%-28s %12.0f %10.2f %10.4f\n", "exact mode (autoscale)", exact_rate, exact.wall_s,
                exact.p95_s);
    std::printf("%-28s %12.0f %10.2f %10.4f\n", "raw SimGrid baseline", raw_rate, raw.wall_s, raw.p95_s);
    std::printf("baseline / exact = %.3f\n", raw_rate / exact_rate);
    if (!fleet.empty()) {
      std::printf("\n600 000 requests, 10 rps per instance (nodes as hosts of their own):\n");
      std::printf("%10s %14s %14s %10s %10s %8s\n", "instances", "exact req/s", "raw req/s", "exact s",
                  "raw s", "ratio");
      for (size_t i = 0; i < fleet.size(); ++i) {
        const Pair& p = fleet[i];
        std::printf("%10d %14.0f %14.0f %10.2f %10.2f %8.2f\n", instances[i],
                    p.exact.requests / p.exact.wall_s, p.raw.requests / p.raw.wall_s, p.exact.wall_s,
                    p.raw.wall_s, p.exact.wall_s / p.raw.wall_s);
      }
    }
  }
  return 0;
}

}  // namespace autoscale
