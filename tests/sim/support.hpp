#pragma once
// Shared by the simulation tests (tests/sim/*_test.cpp): controllers scripted by a test, a controller that
// records what it is shown, a run in a child process of its own, and readers of a RunResult. Header-only.
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale::test {

// Orders planned desired counts at the control ticks planned for them (exact times), nothing at the others.
class ScriptedController : public Controller {
 public:
  using Orders = std::vector<std::pair<std::string, int>>;  // (service, desired count)
  using Plan = std::map<double, Orders>;

  ScriptedController(double interval_s, Plan plan) : interval_s_(interval_s), plan_(std::move(plan)) {}
  // One service's desired counts by time.
  ScriptedController(double interval_s, const std::map<double, int>& counts,
                     const std::string& service = "svc")
      : interval_s_(interval_s) {
    for (const auto& [t, n] : counts) plan_[t].emplace_back(service, n);
  }

  Decision decide(const Observation& obs) override {
    Decision d;
    auto it = plan_.find(obs.time_s);
    if (it != plan_.end())
      for (const auto& [service, n] : it->second) d.services.push_back({service, n, "", 0, "script"});
    return d;
  }
  double interval_s() const override { return interval_s_; }

 private:
  double interval_s_;
  Plan plan_;
};

// A scripted controller (by default one that never orders anything) that keeps every observation it is shown.
class RecordingController : public ScriptedController {
 public:
  explicit RecordingController(double interval_s, Plan plan = {})
      : ScriptedController(interval_s, std::move(plan)) {}
  RecordingController(double interval_s, const std::map<double, int>& counts,
                      const std::string& service = "svc")
      : ScriptedController(interval_s, counts, service) {}

  Decision decide(const Observation& obs) override {
    seen.push_back(obs);
    return ScriptedController::decide(obs);
  }
  // The observation shown at time t (the test fails if there was none).
  const Observation& at(double t) const {
    for (const auto& o : seen)
      if (o.time_s == t) return o;
    FAIL("no observation at " << t);
    return seen.front();
  }

  std::vector<Observation> seen;
};

// Runs `run` under `controller`.
inline RunResult run_with(const RunSpec& run, std::shared_ptr<Controller> controller) {
  SimulationOptions o;
  o.controller = std::move(controller);
  return run_simulation(run, o);
}

// Runs `body` (which returns a std::vector<double>) in a forked child process and returns what it returned:
// SimGrid allows one engine per process, so a test that compares runs makes all but one of them this way.
// The test fails if the child fails (an exception, a short write).
template <class F>
std::vector<double> in_child(F body) {
  int p[2];
  REQUIRE(pipe(p) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(p[0]);
    int code = 0;
    try {
      std::vector<double> v = body();
      const char* b = reinterpret_cast<const char*>(v.data());
      size_t left = v.size() * sizeof(double);
      while (left > 0) {
        ssize_t w = write(p[1], b, left);
        if (w <= 0) {
          code = 3;
          break;
        }
        b += w;
        left -= static_cast<size_t>(w);
      }
    } catch (...) {
      code = 2;
    }
    close(p[1]);
    _exit(code);
  }
  close(p[1]);
  std::vector<char> bytes;
  char buf[65536];
  for (;;) {
    ssize_t n = read(p[0], buf, sizeof buf);
    if (n <= 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  close(p[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  std::vector<double> v(bytes.size() / sizeof(double));
  std::copy(bytes.begin(), bytes.begin() + static_cast<long>(v.size() * sizeof(double)),
            reinterpret_cast<char*>(v.data()));
  return v;
}

// Two values are the same: equal, or both NaN.
inline bool same_value(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || a == b;
}

// The summary's values, in its order.
inline std::vector<double> summary_values(const RunResult& r) {
  std::vector<double> out;
  for (const auto& m : r.summary) out.push_back(m.value);
  return out;
}

// A summary metric's value (the test stops if the run has no such metric).
inline double metric(const RunResult& r, const char* key) {
  const SummaryValue* v = find_metric(r.summary, key);
  REQUIRE(v != nullptr);
  return v->value;
}
// A summary metric that counts something.
inline long count(const RunResult& r, const char* key) {
  return static_cast<long>(metric(r, key));
}

// (time, transition) of every lifecycle event of one instance, in order.
inline std::vector<std::pair<double, std::string>> timeline(const RunResult& r, int instance) {
  std::vector<std::pair<double, std::string>> out;
  for (const auto& e : r.events)
    if (e.instance == instance) out.emplace_back(e.time_s, e.transition);
  return out;
}

// Constant start-up phases, with a readiness probe every `probe_period_s` from the end of boot.
inline void constant_phases(StartupSpec& s, double launch_s, double provision_s, double boot_s, double init_s,
                            double probe_period_s) {
  s.launch_s = Distribution::constant(launch_s);
  s.provision_s = Distribution::constant(provision_s);
  s.boot_s = Distribution::constant(boot_s);
  s.init_s = Distribution::constant(init_s);
  s.readiness_period_s = probe_period_s;
}

// A fixed pool "pool" (run.node_pools.back(), after the preset's own) of `nodes` node4 nodes (4 vCPU / 16
// GiB, on demand 3.6 USD/h = 0.001 USD per node-second) whose nodes added later start in `node_startup_s`, a
// service "svc" of pods requesting 1 CPU / 1 GiB with `initial` pods (min 1, max 20), no traffic, a record
// every 10 s; pods start in constant time: launch 2 s, provision 5 s, boot 3 s, no init, ready at the first
// probe (every second). 5 hosts of 8 cores: room for 10 such nodes.
inline RunSpec pods_on_pool(int nodes, int initial, double duration_s, double node_startup_s) {
  QueuePreset p;
  p.instances = initial;
  p.duration_s = duration_s;
  p.arrival_rps = 0;
  RunSpec run = single_queue(p);
  run.record_interval_s = 10;
  run.instance_types.push_back({"node4", 4, 16, 3.6});
  NodePool pool;
  pool.name = "pool";
  pool.instance_type = "node4";
  pool.dedicated = false;
  pool.nodes = nodes;
  pool.node_startup_s = Distribution::constant(node_startup_s);
  run.node_pools.push_back(pool);
  ServiceSpec& s = run.services[0];
  s.node_pool = "pool";
  s.cpu_request = 1;
  s.memory_request_gib = 1;
  s.min_instances = 1;
  s.max_instances = 20;
  s.startup.launch_s = Distribution::constant(2);
  s.startup.provision_s = Distribution::constant(5);
  s.startup.boot_s = Distribution::constant(3);
  s.startup.readiness_period_s = 1;
  return run;
}

}  // namespace autoscale::test
