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

int cmd_bench_engine(bool json, double duration_s, int rounds, bool quiet) {
  // This machine's speed varies from run to run (shared cores, frequency steps): alternate the two
  // formulations and keep each one's best round, so that both are measured under the same conditions.
  Measure raw, exact;
  for (int k = 0; k < rounds; ++k) {
    if (!quiet)
      std::fprintf(stderr, "bench engine: round %d of %d (%.0f simulated s at 200 rps, twice)\n", k + 1,
                   rounds, duration_s);
    Measure r = in_child([&](Measure& m) {
      RawBaselineResult res = run_raw_baseline(duration_s, 20, 200, 1);
      m.requests = static_cast<double>(res.requests);
      m.p95_s = res.p95_latency_s;
    });
    Measure e = in_child([&](Measure& m) {
      QueuePreset preset;  // the standard queue: 20 VMs x 2 workers, 200 rps, 50 ms exponential work
      preset.duration_s = duration_s;
      RunResult res = run_simulation(single_queue(preset), SimulationOptions{});
      m.requests = find_metric(res.summary, "requests_total")->value;
      m.p95_s = find_metric(res.summary, "latency_p95_s")->value;
    });
    if (k == 0 || r.wall_s < raw.wall_s) raw = r;
    if (k == 0 || e.wall_s < exact.wall_s) exact = e;
  }
  double exact_rate = exact.requests / exact.wall_s, raw_rate = raw.requests / raw.wall_s;
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
                        {"baseline_latency_p95_s", raw.p95_s}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf("%-28s %12s %10s %10s\n", "formulation", "req/s", "wall s", "p95 s");
    std::printf("%-28s %12.0f %10.2f %10.4f\n", "exact mode (autoscale)", exact_rate, exact.wall_s,
                exact.p95_s);
    std::printf("%-28s %12.0f %10.2f %10.4f\n", "raw SimGrid baseline", raw_rate, raw.wall_s, raw.p95_s);
    std::printf("baseline / exact = %.3f\n", raw_rate / exact_rate);
  }
  return 0;
}

}  // namespace autoscale
