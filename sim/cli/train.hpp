#pragma once
// `autoscale train` and `autoscale models list / show`: training a LibTorch forecaster on traces into the
// versioned model registry (forecasters/store/model_store.hpp), and reading the registry back.
#include <cstdint>
#include <optional>
#include <string>

namespace autoscale {

struct TrainArgs {
  std::string config;      // MODEL.toml
  std::string models_dir;  // empty: default_models_dir()
  std::optional<std::uint64_t> seed;
  bool json = false;
  bool quiet = false;
};

int cmd_train(const TrainArgs& args);
// `autoscale validate` of a training file: everything `train` checks before it trains.
int cmd_validate_train(const std::string& file);
int cmd_models_list(const std::string& models_dir, bool json);
// Loads the artifact (checks model.json, the weights' size and SHA-256, and the network) and prints it.
int cmd_models_show(const std::string& ref, const std::string& models_dir, bool json);

}  // namespace autoscale
