// Learner and policy loading without torch: they forward to the plugin libautoscale_torch.so
// (forecasters/torch/rl_agents.cpp), dlopen'ed on first use from the same places as the neural forecasters'
// (neural_proxy.cpp: $AUTOSCALE_TORCH_PLUGIN alone when set, else beside the executable, its parent
// directory, then where this build wrote it). Dlopen'ing the same file twice maps it once.
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "controllers/base/error.hpp"
#include "controllers/base/plugin.hpp"
#include "forecasters/torch/rl.hpp"
#include "forecasters/torch/rl_backend.hpp"

namespace autoscale::rl {

namespace {

constexpr const char* kPluginFile = "libautoscale_torch.so";
constexpr const char* kKind = "rl_policy";

#ifndef AUTOSCALE_TORCH_PLUGIN_PATH
#define AUTOSCALE_TORCH_PLUGIN_PATH ""
#endif

struct Plugin {
  RlCreateFn* create = nullptr;
  RlLoadFn* load = nullptr;
  std::string problem;
};

const Plugin& plugin() {
  static Plugin p;
  static std::once_flag once;
  std::call_once(once, [] {
    OpenedPlugin o =
        open_plugin(plugin_candidates(kPluginFile, "AUTOSCALE_TORCH_PLUGIN", AUTOSCALE_TORCH_PLUGIN_PATH),
                    kRlAbiSymbol, kRlBackendAbi, {kRlCreateSymbol, kRlLoadSymbol});
    if (!o.symbols.empty()) {
      p.create = reinterpret_cast<RlCreateFn*>(o.symbols[0]);
      p.load = reinterpret_cast<RlLoadFn*>(o.symbols[1]);
      return;
    }
    p.problem = "reinforcement learning (ppo, dqn) needs " + std::string(kPluginFile) +
                ", built beside the autoscale binary (or set AUTOSCALE_TORCH_PLUGIN to its path); tried " +
                o.tried;
  });
  if (!p.problem.empty()) throw InputError(kPluginFile, 0, "", p.problem);
  return p;
}

nlohmann::json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

// NaN (no episode ended yet) is written as null.
nlohmann::json number_json(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

void TrainConfig::validate(const std::string& file) const {
  auto need = [&](bool ok, const char* key, const std::string& expected) {
    if (!ok) throw InputError(file, 0, std::string("algorithm.") + key, expected);
  };
  need(algorithm == "ppo" || algorithm == "dqn", "algorithm",
       "\"ppo\" or \"dqn\", got \"" + algorithm + "\"");
  need(total_steps >= 1, "total_steps", "at least 1 environment step");
  need(!hidden.empty() && hidden.size() <= 8, "hidden", "1 to 8 hidden layer sizes");
  for (int h : hidden) need(h >= 1 && h <= 4096, "hidden", "layer sizes in 1..4096");
  need(learning_rate > 0 && learning_rate <= 1, "learning_rate", "a number in (0, 1]");
  need(gamma >= 0 && gamma <= 1, "gamma", "a discount in [0, 1]");
  need(max_grad_norm > 0, "max_grad_norm", "a positive norm");
  need(rollout_steps >= 1, "rollout_steps", "at least 1 step per environment");
  need(epochs >= 1, "epochs", "at least 1 pass");
  need(minibatch >= 1, "minibatch", "at least 1 sample");
  need(clip > 0 && clip < 1, "clip", "a ratio clip in (0, 1)");
  need(gae_lambda >= 0 && gae_lambda <= 1, "gae_lambda", "a number in [0, 1]");
  need(entropy_coef >= 0, "entropy_coef", "a non-negative coefficient");
  need(value_coef >= 0, "value_coef", "a non-negative coefficient");
  need(std::isfinite(initial_log_std) && initial_log_std >= -10 && initial_log_std <= 2, "initial_log_std",
       "a log standard deviation in [-10, 2]");
  need(buffer_size >= 1, "buffer_size", "at least 1 transition");
  need(batch_size >= 1, "batch_size", "at least 1 transition");
  need(learning_starts >= 0, "learning_starts", "a non-negative step count");
  need(train_every >= 1, "train_every", "at least 1 step");
  need(target_update_steps >= 1, "target_update_steps", "at least 1 step");
  need(epsilon_start >= 0 && epsilon_start <= 1, "epsilon_start", "a probability in [0, 1]");
  need(epsilon_end >= 0 && epsilon_end <= 1, "epsilon_end", "a probability in [0, 1]");
  need(epsilon_decay_steps >= 0, "epsilon_decay_steps", "a non-negative step count");
  need(eval_every_updates >= 1, "eval_every_updates", "at least 1 update");
  need(threads >= 1 && threads <= 256, "threads", "1..256 threads");
}

nlohmann::json TrainConfig::to_json() const {
  return {{"algorithm", algorithm},
          {"seed", seed},
          {"total_steps", total_steps},
          {"hidden", hidden},
          {"learning_rate", learning_rate},
          {"gamma", gamma},
          {"max_grad_norm", max_grad_norm},
          {"rollout_steps", rollout_steps},
          {"epochs", epochs},
          {"minibatch", minibatch},
          {"clip", clip},
          {"gae_lambda", gae_lambda},
          {"entropy_coef", entropy_coef},
          {"value_coef", value_coef},
          {"initial_log_std", initial_log_std},
          {"buffer_size", buffer_size},
          {"batch_size", batch_size},
          {"learning_starts", learning_starts},
          {"train_every", train_every},
          {"target_update_steps", target_update_steps},
          {"epsilon_start", epsilon_start},
          {"epsilon_end", epsilon_end},
          {"epsilon_decay_steps", epsilon_decay_steps},
          {"double_dqn", double_dqn},
          {"eval_every_updates", eval_every_updates},
          {"threads", threads}};
}

TrainConfig TrainConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin, 0, "config", "an object of training settings");
  TrainConfig c;
  nlohmann::json known = c.to_json();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.contains(it.key())) throw InputError(origin, 0, it.key(), "a training setting (unknown key)");
  auto read = [&](const char* key, auto& field) {
    if (!j.contains(key)) return;
    try {
      field = j.at(key).get<std::decay_t<decltype(field)>>();
    } catch (const nlohmann::json::exception&) {
      throw InputError(origin, 0, key, "a value of the type of " + known.at(key).dump());
    }
  };
  read("algorithm", c.algorithm);
  read("seed", c.seed);
  read("total_steps", c.total_steps);
  read("hidden", c.hidden);
  read("learning_rate", c.learning_rate);
  read("gamma", c.gamma);
  read("max_grad_norm", c.max_grad_norm);
  read("rollout_steps", c.rollout_steps);
  read("epochs", c.epochs);
  read("minibatch", c.minibatch);
  read("clip", c.clip);
  read("gae_lambda", c.gae_lambda);
  read("entropy_coef", c.entropy_coef);
  read("value_coef", c.value_coef);
  read("initial_log_std", c.initial_log_std);
  read("buffer_size", c.buffer_size);
  read("batch_size", c.batch_size);
  read("learning_starts", c.learning_starts);
  read("train_every", c.train_every);
  read("target_update_steps", c.target_update_steps);
  read("epsilon_start", c.epsilon_start);
  read("epsilon_end", c.epsilon_end);
  read("epsilon_decay_steps", c.epsilon_decay_steps);
  read("double_dqn", c.double_dqn);
  read("eval_every_updates", c.eval_every_updates);
  read("threads", c.threads);
  c.validate(origin);
  return c;
}

nlohmann::json TrainProgress::to_json() const {
  return {{"steps", steps},
          {"updates", updates},
          {"episodes", episodes},
          {"mean_episode_reward", number_json(mean_episode_reward)},
          {"eval_reward", optional_json(eval_reward)},
          {"policy_loss", policy_loss},
          {"value_loss", value_loss},
          {"entropy", entropy},
          {"epsilon", epsilon},
          {"wall_s", wall_s}};
}

nlohmann::json TrainReport::to_json() const {
  nlohmann::json c = nlohmann::json::array();
  for (const auto& p : curve) c.push_back(p.to_json());
  return {{"steps", steps},
          {"updates", updates},
          {"episodes", episodes},
          {"mean_episode_reward", number_json(mean_episode_reward)},
          {"final_eval_reward", optional_json(final_eval_reward)},
          {"best_eval_reward", optional_json(best_eval_reward)},
          {"wall_s", wall_s},
          {"curve", c}};
}

Learner::Learner(const TrainConfig& cfg, int observation_size, ActionSpace space) : cfg_(cfg) {
  cfg_.validate();
  if (cfg_.algorithm == "dqn" && !space.discrete)
    throw InputError("", 0, "algorithm.algorithm",
                     "ppo for a continuous action space (dqn needs discrete actions)");
  if (observation_size < 1) throw InputError("", 0, "observation_size", "at least 1 observation value");
  if (space.discrete && (space.max_step < 1 || space.max_step > 1000))
    throw InputError("", 0, "action.max_step", "1..1000 instances per step");
  impl_.reset(plugin().create(cfg_, observation_size, space));
}

Learner::~Learner() = default;

TrainReport Learner::train(VecEnvironment& env, const std::function<void(const TrainProgress&)>& progress,
                           const std::function<double(const Policy&)>& evaluate) {
  return impl_->train(env, progress, evaluate);
}

std::unique_ptr<Policy> Learner::policy() const {
  return std::unique_ptr<Policy>(impl_->policy());
}

void Learner::save(const std::string& weights_path) const {
  impl_->save(weights_path);
}

nlohmann::json Learner::describe() const {
  nlohmann::json d = impl_->describe();
  d["kind"] = kKind;
  d["config"] = cfg_.to_json();
  return d;
}

std::unique_ptr<Policy> load_policy_file(const nlohmann::json& description, const std::string& weights_path) {
  return std::unique_ptr<Policy>(plugin().load(description, weights_path));
}

forecast::ModelInfo save_policy(const std::string& models_dir, const std::string& name,
                                const Learner& learner, const nlohmann::json& meta) {
  nlohmann::json m = meta.is_null() ? nlohmann::json::object() : meta;
  if (!m.contains("seed")) m["seed"] = learner.config().seed;
  return forecast::save_artifact(
      models_dir, name, kKind,
      [&](const std::string& weights) {
        learner.save(weights);
        return learner.describe();
      },
      m);
}

LoadedPolicy load_policy(const std::string& ref, const std::string& models_dir) {
  forecast::ModelInfo info = forecast::resolve_model(ref, models_dir);
  std::string meta_file = (std::filesystem::path(info.dir) / "model.json").string();
  std::string kind = info.meta["kind"].get<std::string>();
  if (kind != kKind)
    throw InputError(meta_file, 0, "kind",
                     "an rl_policy artifact (a trained policy), got a \"" + kind + "\" model");
  std::string weights = forecast::checked_weights(info);
  LoadedPolicy out;
  out.policy = load_policy_file(info.meta["model"], weights);
  out.meta = std::move(info.meta);
  return out;
}

}  // namespace autoscale::rl
