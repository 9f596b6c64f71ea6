#pragma once
// Reinforcement learning with LibTorch: PPO and DQN trained against a VecEnvironment
// (controllers/rl/environment.hpp), and trained policies stored in the model registry (kind "rl_policy").
// This header includes no torch: the networks and their training live in the plugin libautoscale_torch.so
// (forecasters/torch/rl_agents.cpp, behind forecasters/torch/rl_backend.hpp), dlopen'ed by the first Learner
// built or policy loaded (forecasters/torch/rl_proxy.cpp; a plugin that cannot be loaded is an InputError).
//
// Networks: MLPs with tanh hidden layers, CPU. PPO: an actor (categorical over the discrete actions, or a
// Gaussian mean with a state-independent log-std for a continuous action, clipped to [0, 1] for the
// environment) and a separate critic. DQN (discrete actions only): a Q network, its target copy, a replay
// buffer, epsilon-greedy exploration, Huber loss, double DQN. With threads = 1 a seed gives bit-identical
// weights: initial weights, sampling, exploration and shuffles all come from the learner's own generator
// (seeded with cfg.seed), never from torch's process-wide one.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/rl/environment.hpp"
#include "controllers/rl/policy.hpp"
#include "forecasters/store/model_store.hpp"

namespace autoscale::rl {

// An "update": PPO, one rollout of rollout_steps steps per environment and its optimisation; DQN,
// rollout_steps steps of every environment with their gradient steps (the reporting period).
struct TrainConfig {
  std::string algorithm = "ppo";  // ppo | dqn (dqn: discrete actions only)
  std::uint64_t seed = 1;         // network initialisation, sampling, shuffles; env.reset(seed)
  long total_steps = 100000;      // environment steps summed over all environments
  std::vector<int> hidden = {64, 64};
  double learning_rate = 3e-4;  // Adam
  double gamma = 0.99;
  double max_grad_norm = 0.5;  // gradient clipping (global L2 norm)
  int rollout_steps = 128;     // per environment and update

  // PPO
  int epochs = 4;      // passes over a rollout
  int minibatch = 64;  // samples per gradient step
  double clip = 0.2;   // of the probability ratio
  double gae_lambda = 0.95;
  double entropy_coef = 0.0;
  double value_coef = 0.5;
  double initial_log_std = -1.0;  // continuous actions: log of the Gaussian's initial standard deviation

  // DQN
  int buffer_size = 50000;         // transitions
  int batch_size = 64;             // transitions per gradient step
  long learning_starts = 1000;     // environment steps before the first gradient step
  int train_every = 1;             // environment steps (summed over environments) per gradient step
  long target_update_steps = 500;  // environment steps between copies to the target network
  double epsilon_start = 1.0, epsilon_end = 0.05;
  long epsilon_decay_steps = 10000;  // environment steps of the linear decay
  bool double_dqn = true;

  int eval_every_updates = 10;  // calls `evaluate` every this many updates (and after the last one)
  int threads = 1;              // torch intra-op threads while training (1: bit-reproducible)

  // InputError(file, 0, "algorithm.<key>", ...) naming the first bad key.
  void validate(const std::string& file = "") const;
  nlohmann::json to_json() const;
  // Every key is optional (defaults above); unknown keys and bad values are InputError(origin, 0,
  // "<key>", ...).
  static TrainConfig from_json(const nlohmann::json& j, const std::string& origin);
};

struct TrainProgress {
  long steps = 0;  // environment steps so far, summed over environments
  int updates = 0;
  int episodes = 0;  // completed so far
  // Mean return of the last (up to) 100 completed episodes; NaN before the first one ends.
  double mean_episode_reward = 0;
  double wall_s = 0;
  std::optional<double> eval_reward;  // `evaluate`'s answer when it was called after this update
  // Of this update's gradient steps (mean): PPO, clipped surrogate loss, value loss (squared error) and
  // policy entropy; DQN, Huber TD loss as value_loss, and the exploration epsilon.
  double policy_loss = 0, value_loss = 0, entropy = 0, epsilon = 0;

  nlohmann::json to_json() const;
};

struct TrainReport {
  long steps = 0;
  int updates = 0;
  int episodes = 0;
  double mean_episode_reward = 0;  // as TrainProgress, at the end
  std::optional<double> final_eval_reward, best_eval_reward;
  double wall_s = 0;
  std::vector<TrainProgress> curve;  // one point per update

  nlohmann::json to_json() const;
};

class LearnerBackend;

class Learner {
 public:
  // An untrained agent (weights initialised from cfg.seed). InputError when cfg is invalid, when DQN is
  // asked for a continuous action, or observation_size < 1.
  Learner(const TrainConfig& cfg, int observation_size, ActionSpace space);
  ~Learner();
  Learner(const Learner&) = delete;
  Learner& operator=(const Learner&) = delete;

  // Trains for cfg.total_steps environment steps, rounded up to whole updates (a second call trains further,
  // from env.reset(cfg.seed)). `progress` (may be empty)
  // is called after every update; `evaluate` (may be empty) every eval_every_updates updates and after the
  // last, with the current greedy policy: it returns its mean episode reward on held-back seeds.
  // InputError when env's observation size or action space differ from the learner's.
  TrainReport train(VecEnvironment& env, const std::function<void(const TrainProgress&)>& progress = {},
                    const std::function<double(const Policy&)>& evaluate = {});
  // A frozen copy of the current greedy policy (independent of further training).
  std::unique_ptr<Policy> policy() const;
  // Writes the weights (the bytes depend on the weights only); describe() is what load_policy_file needs
  // beside them: config, algorithm, observation size, action space, hidden sizes, weights checksum.
  void save(const std::string& weights_path) const;
  nlohmann::json describe() const;
  const TrainConfig& config() const { return cfg_; }

 private:
  TrainConfig cfg_;
  std::unique_ptr<LearnerBackend> impl_;
};

// A frozen greedy policy from describe()'s description and save()'s weights file. InputError naming the
// file when they do not match (shape, checksum) or are malformed.
std::unique_ptr<Policy> load_policy_file(const nlohmann::json& description, const std::string& weights_path);

// The registry (forecasters/store/model_store.hpp): the next version of `name`, kind "rl_policy", with the
// weights and model.json = `meta` (training scenario, seeds, metrics, ...) + the learner's description under
// "model" + format, name, version and the weights' file, size and SHA-256.
forecast::ModelInfo save_policy(const std::string& models_dir, const std::string& name,
                                const Learner& learner, const nlohmann::json& meta);

struct LoadedPolicy {
  std::unique_ptr<Policy> policy;
  nlohmann::json meta;  // model.json
};
// `ref`: "name", "name@version" or an artifact directory. Checks the weights' size and SHA-256; InputError
// naming the file when anything is wrong, including an artifact that is not an rl_policy.
LoadedPolicy load_policy(const std::string& ref, const std::string& models_dir);

}  // namespace autoscale::rl
