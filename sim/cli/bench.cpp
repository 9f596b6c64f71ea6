// `autoscale bench engine`: exact mode against the fastest raw-SimGrid formulation of the same queue on the
// same platform, each in a child process of its own (one engine per process), measured in the same
// invocation.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "forecasters/forecaster.hpp"
#include "forecasters/torch/neural.hpp"
#include "sim/cli/runner.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/scenario/scenario_loader.hpp"

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
  Measure raw, exact, fast;
};
Measure run_preset(int instances, double arrival_rps, double duration_s, Fidelity fidelity) {
  return in_child([&](Measure& m) {
    QueuePreset preset;  // nodes of 2 vCPU x 2 workers, 50 ms exponential work, round robin
    preset.instances = instances;
    preset.hosts = (instances * preset.vcpu + preset.host_cores - 1) / preset.host_cores;
    preset.arrival_rps = arrival_rps;
    preset.duration_s = duration_s;
    RunSpec run = single_queue(preset);
    run.fidelity = fidelity;
    RunResult res = run_simulation(run, SimulationOptions{});
    m.requests = find_metric(res.summary, "requests_total")->value;
    m.p95_s = find_metric(res.summary, "latency_p95_s")->value;
  });
}
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
    Measure e = run_preset(instances, arrival_rps, duration_s, Fidelity::exact);
    Measure f = run_preset(instances, arrival_rps, duration_s, Fidelity::fast);
    if (k == 0 || r.wall_s < best.raw.wall_s) best.raw = r;
    if (k == 0 || e.wall_s < best.exact.wall_s) best.exact = e;
    if (k == 0 || f.wall_s < best.fast.wall_s) best.fast = f;
  }
  return best;
}

}  // namespace

namespace {

// A typical section of each controller kind, as a user would write it.
struct KindConfig {
  const char* kind;
  const char* toml;
};
const KindConfig kDecideConfigs[] = {
    {"static", "kind = \"static\"\ninstances = 100\n"},
    {"aws_simple",
     "kind = \"aws_simple\"\nmetric = \"cpu_utilization\"\nscale_out_above = 0.7\nscale_in_below = 0.3\n"},
    {"aws_target_tracking",
     "kind = \"aws_target_tracking\"\n[TargetTrackingConfiguration]\nTargetValue = 60.0\n"
     "PredefinedMetricSpecification = { PredefinedMetricType = \"ASGAverageCPUUtilization\" }\n"},
    {"aws_step",
     "kind = \"aws_step\"\n[[ScalingPolicies]]\nPolicyName = \"high\"\nMetricName = \"CPUUtilization\"\n"
     "ComparisonOperator = \"GreaterThanOrEqualToThreshold\"\nThreshold = 60.0\nEvaluationPeriods = 1\n"
     "AdjustmentType = \"ChangeInCapacity\"\nStepAdjustments = [{ MetricIntervalLowerBound = 0.0, "
     "ScalingAdjustment = 2 }]\n"},
    {"hpa",
     "kind = \"hpa\"\nmaxReplicas = 200\n[[metrics]]\ntype = \"Resource\"\n[metrics.resource]\nname = "
     "\"cpu\"\n"
     "[metrics.resource.target]\ntype = \"Utilization\"\naverageUtilization = 60\n"},
    {"kpa", "kind = \"kpa\"\ncontainerConcurrency = 10\n"},
    {"keda",
     "kind = \"keda\"\nminReplicaCount = 1\nmaxReplicaCount = 200\n[[triggers]]\ntype = "
     "\"cpu\"\n[triggers.metadata]\ntype = "
     "\"Utilization\"\nvalue = \"60\"\n"},
    {"scheduled",
     "kind = \"scheduled\"\n[inner]\nkind = \"aws_simple\"\nmetric = \"cpu_utilization\"\nscale_out_above = "
     "0.7\nscale_in_below = 0.3\n[[actions]]\nRecurrence = \"0 9 * * *\"\nMinSize = 10\n"},
};

// One service of 100 ready pods at 50 % of their 1-core request, with every service-level metric a controller
// reads, at time t.
Observation hundred_pods(double t) {
  Observation obs;
  obs.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 0;
  s.max_instances = 1000;
  s.desired = 100;
  s.in_service = 100;
  s.metrics_valid = true;
  s.cpu_utilization = 0.5;
  s.arrival_rps = s.completed_rps = 1000;
  s.concurrency = 5;
  s.stable_value = s.panic_value = 500;
  for (int i = 0; i < 100; ++i) {
    InstanceObservation io;
    io.id = i;
    io.name = "web-" + std::to_string(i);
    io.state = "in_service";
    io.ready = true;
    io.ready_time_s = 0;
    io.has_metrics = true;
    io.cpu_usage_cores = 0.5;
    io.cpu_request_cores = 1;
    io.concurrency = 5;
    io.metrics_timestamp_s = t;
    io.metrics_window_s = 60;
    io.pod_metrics = {{"concurrency", 5}, {"requests_per_second", 10}};
    s.instances.push_back(std::move(io));
  }
  for (const std::string& name : observation_metric_names()) {
    double v = 0;
    observation_metric(s, name, v);
    s.named_metrics[name] = v;
  }
  obs.services.push_back(std::move(s));
  return obs;
}

// Microseconds per decide() of each registered kind on 100 pods, over a run of its own ticks.
nlohmann::json measure_decide(bool quiet) {
  nlohmann::json out = nlohmann::json::object();
  const auto kinds = controller_kinds();
  for (const KindConfig& k : kDecideConfigs) {
    if (std::find(kinds.begin(), kinds.end(), k.kind) == kinds.end()) continue;
    auto params = parse_controller_toml(k.toml, std::string("bench ") + k.kind);
    params->string("kind", std::nullopt);
    std::unique_ptr<Controller> c = make_controller(k.kind, *params, ControllerContext{{"web"}});
    params->finish();
    constexpr int kCalls = 20000;
    std::vector<Observation> obs;
    for (int i = 0; i < 16; ++i) obs.push_back(hundred_pods(0));
    const double dt = c->interval_s();
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
      Observation& o = obs[static_cast<size_t>(i) % obs.size()];
      o.time_s = dt * (i + 1);
      for (auto& p : o.services[0].instances) p.metrics_timestamp_s = o.time_s;
      Decision d = c->decide(o);
      if (!d.services.empty()) o.services[0].desired = d.services[0].desired;
    }
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kCalls;
    out[k.kind] = us;
    if (!quiet) std::fprintf(stderr, "bench engine: decide() of %s: %.2f us\n", k.kind, us);
  }
  return out;
}

}  // namespace

int cmd_bench_engine(bool json, double duration_s, int rounds, bool quiet,
                     const std::vector<int>& instances) {
  // The standard queue: 20 nodes, 200 rps.
  Pair std_pair = measure_pair(20, 200, duration_s, rounds, quiet);
  const Measure& raw = std_pair.raw;
  const Measure& exact = std_pair.exact;
  const Measure& fast = std_pair.fast;
  double exact_rate = exact.requests / exact.wall_s, raw_rate = raw.requests / raw.wall_s;
  double fast_rate = fast.requests / fast.wall_s;
  double fast_p95_err = std::abs(fast.p95_s - exact.p95_s) / exact.p95_s;
  // Fluid: the same queue over the same time (its error), and a day of it at one-second steps (an RL
  // episode).
  if (!quiet) std::fprintf(stderr, "bench engine: fluid mode, the standard queue and a one-day episode\n");
  Measure fluid = run_preset(20, 200, duration_s, Fidelity::fluid);
  Measure fluid_day = run_preset(20, 200, 86400, Fidelity::fluid);
  for (int k = 1; k < rounds; ++k) {
    Measure again = run_preset(20, 200, 86400, Fidelity::fluid);
    if (again.wall_s < fluid_day.wall_s) fluid_day = again;
  }
  double fluid_p95_err = std::abs(fluid.p95_s - exact.p95_s) / exact.p95_s;
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
         {"fast_req_per_s", p.fast.requests / p.fast.wall_s},
         {"exact_wall_s", p.exact.wall_s},
         {"baseline_wall_s", p.raw.wall_s},
         {"fast_wall_s", p.fast.wall_s},
         {"exact_requests", p.exact.requests}});
  }
  // The cost of deciding, per controller kind (a year of 15 s syncs is 2.1 M calls).
  nlohmann::json decide_us = measure_decide(quiet);
  if (json) {
    nlohmann::json j = {{"decide_us", decide_us},
                        {"exact_req_per_s", exact_rate},
                        {"baseline_req_per_s", raw_rate},
                        {"ratio_baseline_over_exact", raw_rate / exact_rate},
                        {"fast_req_per_s", fast_rate},
                        {"ratio_fast_over_exact", fast_rate / exact_rate},
                        {"fast_p95_rel_error", fast_p95_err},
                        {"fast_latency_p95_s", fast.p95_s},
                        {"fast_wall_s", fast.wall_s},
                        {"fluid_episode_s", fluid_day.wall_s},
                        {"fluid_p95_rel_error", fluid_p95_err},
                        {"fluid_latency_p95_s", fluid.p95_s},
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
    std::printf("%-28s %12.0f %10.2f %10.4f\n", "fast mode (no SimGrid)", fast_rate, fast.wall_s, fast.p95_s);
    std::printf("%-28s %12s %10.2f %10.4f  (a one-day episode at 1 s steps; p95 of the same queue)\n",
                "fluid mode (no requests)", "-", fluid_day.wall_s, fluid.p95_s);
    std::printf("fluid p95 off exact by %.2f %%\n", 100 * fluid_p95_err);
    std::printf("baseline / exact = %.3f; fast / exact = %.2f; fast p95 off exact by %.2f %%\n",
                raw_rate / exact_rate, fast_rate / exact_rate, 100 * fast_p95_err);
    std::printf("\ndecide() on an observation of 100 pods:\n");
    for (auto it = decide_us.begin(); it != decide_us.end(); ++it)
      std::printf("  %-22s %8.2f us\n", it.key().c_str(), it.value().get<double>());
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

namespace {

// A week of one-minute steps: a diurnal rate (period 1440 steps) with a weekly swell and deterministic noise.
std::vector<double> week_series() {
  std::vector<double> v;
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (int i = 0; i < 7 * 1440; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const double noise = static_cast<double>(x >> 11) * 0x1.0p-53 - 0.5;
    v.push_back(100 + 40 * std::sin(2 * M_PI * i / 1440.0) + 10 * std::sin(2 * M_PI * i / 10080.0) +
                8 * noise);
  }
  return v;
}

// A typical configuration of each kind for one-minute steps and a daily period.
std::shared_ptr<MapParams> forecaster_settings(const std::string& kind) {
  using V = std::map<std::string, MapParams::Value>;
  if (kind == "seasonal_naive" || kind == "holt_winters")
    return std::make_shared<MapParams>(V{{"period_steps", 1440L}});
  if (kind == "moving_average") return std::make_shared<MapParams>(V{{"window_steps", 30L}});
  if (kind == "ar") return std::make_shared<MapParams>(V{{"order", 3L}, {"differencing", 1L}});
  if (kind == "fft") return std::make_shared<MapParams>(V{{"harmonics", 5L}});
  if (kind == "ensemble") {
    auto naive = std::make_shared<MapParams>(V{{"kind", std::string("naive")}});
    auto seasonal =
        std::make_shared<MapParams>(V{{"kind", std::string("seasonal_naive")}, {"period_steps", 1440L}});
    return std::make_shared<MapParams>(V{{"members", std::vector<MapParams::Table>{naive, seasonal}}});
  }
  if (forecast::is_neural_kind(kind))  // defaults, heads up to the longest horizon, three epochs timed
    return std::make_shared<MapParams>(V{{"max_horizon_steps", 60L}, {"epochs", 3L}, {"patience", 3L}});
  return std::make_shared<MapParams>();
}

}  // namespace

int cmd_bench_forecasters(bool json, bool quiet) {
  const std::vector<double> series = week_series();
  const double step_s = 60;
  const std::vector<int> horizons = {1, 5, 15, 60};  // 1, 5, 15 and 60 minutes ahead
  nlohmann::json out = nlohmann::json::object();
  if (!json) std::printf("%-16s %12s %12s %14s\n", "forecaster", "fit s", "predict us", "s per epoch");
  for (const std::string& kind : forecast::forecaster_kinds()) {
    auto settings = forecaster_settings(kind);
    auto f = forecast::make_forecaster(kind, *settings);
    auto t0 = std::chrono::steady_clock::now();
    nlohmann::json per_epoch = nullptr;
    if (auto* neural = dynamic_cast<forecast::NeuralForecaster*>(f.get())) {
      // trained as `autoscale train` does: the newest 20 % for early stopping
      const auto cut = static_cast<long>(series.size() * 4 / 5);
      forecast::SeriesData train{"week (train)", {series.begin(), series.begin() + cut}, step_s, 0};
      forecast::SeriesData validation{"week (validation)",
                                      {series.begin() + cut, series.end()},
                                      step_s,
                                      step_s * static_cast<double>(cut)};
      forecast::TrainReport r = neural->train({train}, {validation}, [&](const forecast::EpochReport& e) {
        if (!quiet)
          std::fprintf(stderr, "bench forecasters: %s epoch %d %.2f s\n", kind.c_str(), e.epoch, e.seconds);
      });
      double total = 0;
      for (const auto& e : r.epochs) total += e.seconds;
      per_epoch = total / static_cast<double>(r.epochs.size());
      neural->fit(series, step_s);  // frozen: takes the week as history
    } else {
      f->fit(series, step_s);
    }
    const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // A control loop: a new value observed, then the horizons predicted, as often as a controller would.
    constexpr int kCalls = 2000;
    double sink = 0;
    t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; ++i) {
      f->observe(step_s * static_cast<double>(series.size() + static_cast<size_t>(i)),
                 series[static_cast<size_t>(i)]);
      sink += f->predict(horizons).values.back().back();
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kCalls;
    if (!std::isfinite(sink))
      throw std::runtime_error("bench forecasters: " + kind + " predicted a non-finite value");
    out[kind] = {{"predict_us", us}, {"fit_s", fit_s}, {"train_s_per_epoch", per_epoch}};
    if (!quiet && json) std::fprintf(stderr, "bench forecasters: %s %.2f us\n", kind.c_str(), us);
    if (!json)
      std::printf("%-16s %12.4f %12.2f %14s\n", kind.c_str(), fit_s, us,
                  per_epoch.is_null() ? "-" : std::to_string(per_epoch.get<double>()).c_str());
  }
  if (json) std::cout << nlohmann::json{{"forecasters", out}}.dump(2) << "\n";
  return 0;
}

}  // namespace autoscale
