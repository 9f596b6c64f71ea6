#pragma once
// Private to forecasters/torch/: the interface between Learner / load_policy_file (rl_proxy.cpp, torch-free)
// and their LibTorch implementation (rl_agents.cpp) in the plugin libautoscale_torch.so. The same rules as
// backend.hpp: both sides come from one build, C++ types cross by reference, exceptions are caught by type.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "controllers/rl/environment.hpp"
#include "controllers/rl/policy.hpp"
#include "forecasters/torch/rl.hpp"

namespace autoscale::rl {

// One agent: its networks, optimiser and generator. Learner's methods forward to these.
class LearnerBackend {
 public:
  virtual ~LearnerBackend() = default;
  virtual TrainReport train(VecEnvironment& env, const std::function<void(const TrainProgress&)>& progress,
                            const std::function<double(const Policy&)>& evaluate) = 0;
  virtual Policy* policy() const = 0;  // a new frozen copy, owned by the caller
  virtual void save(const std::string& weights_path) const = 0;
  // The description without "config" (Learner::describe adds TrainConfig::to_json, which lives in the main
  // program).
  virtual nlohmann::json describe() const = 0;
};

// The plugin's RL entry points, found with dlsym. Bump kRlBackendAbi whenever this header or TrainConfig
// changes.
constexpr int kRlBackendAbi = 1;
constexpr const char* kRlAbiSymbol = "autoscale_torch_rl_abi";
constexpr const char* kRlCreateSymbol = "autoscale_torch_rl_create";
constexpr const char* kRlLoadSymbol = "autoscale_torch_rl_load";
using RlAbiFn = int();
// An untrained agent of a validated config.
using RlCreateFn = LearnerBackend*(const TrainConfig& cfg, int observation_size, const ActionSpace& space);
// A frozen greedy policy from a description written by describe() and its weights file; InputError naming
// the file otherwise.
using RlLoadFn = Policy*(const nlohmann::json& description, const std::string& weights_path);

}  // namespace autoscale::rl
