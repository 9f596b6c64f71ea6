#pragma once
// `autoscale train-rl RL.toml`: a policy trained with PPO or DQN (LibTorch, forecasters/torch/rl) on the RL
// environments of the file's scenarios (sim/rl), evaluated on held-back seeds, stored in the model registry
// (format: sim/scenario/train_rl_loader.hpp, README.md "Training an RL policy").
#include <cstdint>
#include <optional>
#include <string>

namespace autoscale {

struct TrainRlArgs {
  std::string config;      // RL.toml
  std::string models_dir;  // empty: default_models_dir()
  std::optional<uint64_t> seed;
  bool json = false;
  bool quiet = false;
};

int cmd_train_rl(const TrainRlArgs& args);
// `autoscale validate RL.toml`: the file, its scenarios and the algorithm's settings; nothing trains.
int cmd_validate_train_rl(const std::string& file);

}  // namespace autoscale
