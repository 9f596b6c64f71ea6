#pragma once
// Reinforcement-learning environments over the simulator: a scenario run driven one control interval per
// step by an agent's actions instead of a controller, at any fidelity.
//
// An episode is one run (RunSpec) from reset to the scenario's end (terminated) or max_steps (truncated). The
// engine runs with a passive controller that only observes, every interval_s; reset() runs to the first
// control tick and returns what the agent sees there; step(a) carries out the action at once (the desired
// count of the controlled service, through the same actuator as a controller's decision: clamped to min/max,
// recorded) and runs to the next tick. Other services keep their initial counts.
//
// The observation is controllers/rl/features' vector of the monitoring view at the tick (late and aggregated,
// as a controller sees it), so that the `rl` controller encodes exactly what the policy saw in training.
//
// reward = -(cost_usd + lambda x sla_violation_s + mu x changes) over the step, where cost_usd is the cost of
// every node during the step, sla_violation_s the step's length times the fraction of the end-user requests
// finishing in the step (completed or failed) that violated the SLA (failed, or slower than [sla] latency_s;
// 0 when none finished), and changes 1 when the action changed the desired count (0 when it left it as it
// was, or the clamp to min/max did): as `scaling_actions` counts changes, so that `autoscale calibrate`
// minimises the same objective over whole runs.
//
// Vectorised environments (VecEnv) are N Env in one process, stepped one after the other in the calling
// thread: fast and fluid runs have no SimGrid engine, so N simulations live side by side; exact mode allows
// one. Throughput is the single environment's (N envs step N times slower per call): on one core, over
// scenarios/rl_env.toml (60 s steps, up to ~340 rps), about 300 env steps/s at fast, 4500 at fluid, for N =
// 1, 4, 16. Environment i's k-th episode runs run (i + k x N) mod R of the R allowed runs
// (EnvSpec::Order::cycle; a curriculum narrows them), or one drawn from (seed, i, k) (Order::random), at a
// seed derived from (seed, i, k): every episode derives from the reset seed alone.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/rl/environment.hpp"
#include "controllers/rl/features.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {
class Simulation;
}

namespace autoscale::rl {

struct EnvSpec {
  std::vector<RunSpec> runs;  // episode sources (at least one); all with the controlled service
  std::string service;        // the controlled service; empty: the traffic's entry service
  ActionSpace action;
  double interval_s = 60;
  double lambda_usd_per_violation_s = 0;
  double mu_usd_per_change = 0;
  int max_steps = 0;                 // 0: until the scenario's end
  std::optional<Fidelity> fidelity;  // replaces the runs' own
  double day_s = 86400;              // the period of the time-of-day features
  // VecEnv: the order episodes take the runs in (see above).
  enum class Order { cycle, random };
  Order order = Order::cycle;
};

struct StepInfo {
  double time_s = 0;
  double cost_usd = 0;  // the step's
  double sla_violation_s = 0;
  double changes = 0;  // 1 when the step changed the desired count
  int desired = 0;
  int ready = 0;  // ready instances at the tick, as monitoring shows them
  double arrival_rps = 0;
  int run = 0;  // index into EnvSpec::runs
  uint64_t seed = 0;
};

struct StepResult {
  std::vector<float> obs;
  double reward = 0;
  bool terminated = false;
  bool truncated = false;
  StepInfo info;
};

// The feature scales of a service of a run: rps_scale = max_instances x the requests per second one warm
// instance serves (min(cores, workers) x host speed / reference speed / mean work), the SLA latency, the
// maximum instances, workers for the queue and concurrency scales.
FeatureScales feature_scales(const RunSpec& run, int service);

class Env {
 public:
  // InputError (origin "env") when the spec is unusable: no runs, an unknown service, exact mode beside
  // another live exact environment is the caller's to avoid.
  explicit Env(EnvSpec spec);
  ~Env();
  Env(Env&&) noexcept;
  Env& operator=(Env&&) noexcept;

  // A new episode of run `run` (-1: runs[seed % runs.size()]) at `seed`; returns the first observation.
  std::vector<float> reset(uint64_t seed, int run = -1);
  StepResult step(double action);
  int observation_size() const;
  std::vector<std::string> observation_names() const;
  ActionSpace action_space() const { return spec_.action; }
  const FeatureScales& scales() const { return scales_; }
  FeatureOptions feature_options() const;
  const EnvSpec& spec() const { return spec_; }
  // Info of the last reset or step.
  const StepInfo& info() const { return info_; }

 private:
  StepResult observe(double cost_usd, double violation_s, double changes);
  EnvSpec spec_;
  int service_ = 0;
  FeatureScales scales_;
  std::unique_ptr<FeatureEncoder> encoder_;
  std::unique_ptr<RunSpec> run_;  // the episode's (the simulation refers to it)
  std::unique_ptr<Simulation> sim_;
  StepInfo info_;
  int steps_ = 0;
  double cost_prev_ = 0;
  long failed_prev_ = 0;
  size_t completed_prev_ = 0;
};

class VecEnv : public VecEnvironment {
 public:
  VecEnv(const EnvSpec& spec, int num_envs);
  int num_envs() const override { return static_cast<int>(envs_.size()); }
  int observation_size() const override { return envs_.front().observation_size(); }
  ActionSpace action_space() const override { return envs_.front().action_space(); }
  std::vector<float> reset(uint64_t seed) override;
  VecStep step(const std::vector<double>& actions) override;
  // The runs new episodes are drawn from (indexes into EnvSpec::runs; empty: all). Episodes under way finish.
  void allow_runs(std::vector<int> runs) { allowed_ = std::move(runs); }
  const Env& env(int i) const { return envs_[static_cast<size_t>(i)]; }
  const std::vector<StepInfo>& last_infos() const { return infos_; }

 private:
  std::vector<float> start(int i);
  std::vector<Env> envs_;
  std::vector<int> allowed_;
  std::vector<long> episodes_;  // per environment: episodes started
  std::vector<StepInfo> infos_;
  uint64_t seed_ = 0;
};

}  // namespace autoscale::rl
