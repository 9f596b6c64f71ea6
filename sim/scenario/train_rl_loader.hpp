#pragma once
// RL training files (`autoscale train-rl RL.toml`), read and checked (README.md, "Training an RL policy"):
//
//   name = "rl_web"                    # the policy's name in the model registry
//   seed = 7
//   [env]                              # the environments (sim/rl)
//   scenarios = ["rl_env.toml"]        # every [[run]] of each is a training episode source
//   service = "web"                    # the controlled service (default: the entry service)
//   fidelity = "fast"
//   num_envs = 4
//   interval_s = 60                    # one step
//   action = "discrete"                # or "continuous"
//   max_step = 2                       # discrete: actions -max_step .. +max_step instances
//   lambda_usd_per_violation_s = 0.01  # reward = -(cost + lambda x SLA-violation s + mu x changes)
//   mu_usd_per_change = 0.002
//   [[curriculum]]                     # optional: the runs of each stage, for its share of the steps
//   runs = ["nasa_jul04"]
//   steps = 20000
//   [algorithm]                        # kind = "ppo" | "dqn" and rl::TrainConfig's keys
//   [eval]                             # held-back seeds, every N updates
//   every_updates = 10
//   seeds = [1001, 1002]
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct RlTrainPlan {
  std::string file, name;
  std::string toml_text;  // the file as written (stored with the model)
  uint64_t seed = 1;
  // [env]
  std::vector<std::string> scenarios, scenario_paths;
  std::vector<std::string> set;
  std::string service;  // empty: the entry service
  std::string fidelity = "fast";
  int num_envs = 4;
  double interval_s = 60;
  bool discrete = true;
  int max_step = 2;
  double day_s = 86400;  // the period of the time-of-day features (a day replayed in 6 h: 21600)
  double lambda_usd_per_violation_s = 0;
  double mu_usd_per_change = 0;
  int max_steps = 0;  // episode truncation in steps; 0: the scenario's end
  struct Stage {
    std::vector<std::string> runs;  // run names; empty: all
    long steps = 0;                 // environment steps (all environments) of this stage; the last runs on
    int line = 0;
  };
  std::vector<Stage> curriculum;
  // [algorithm], as rl::TrainConfig::from_json reads it ("kind" renamed "algorithm"), and each key's line.
  nlohmann::json algorithm;
  std::vector<std::pair<std::string, int>> algorithm_lines;
  // [eval]
  int eval_every_updates = 10;
  std::vector<uint64_t> eval_seeds;
  // [[expect]]: metric op value, checked after training (exit 1 when one fails); metrics: train_rl_metrics().
  std::vector<Expectation> expectations;
};

// What an RL training file's [[expect]] may name: final_eval_reward, best_eval_reward (mean episode reward of
// the greedy policy on the held-back seeds: at the end, the best seen), mean_episode_reward (of the last 100
// training episodes), episodes, updates.
const std::vector<std::string>& train_rl_metrics();

// InputError naming the file, line and key on anything wrong.
RlTrainPlan load_train_rl(const std::string& path);

}  // namespace autoscale
