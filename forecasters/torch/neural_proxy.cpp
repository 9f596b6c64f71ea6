// NeuralForecaster in the main program, without torch: it forwards to a NeuralBackend made by the plugin
// libautoscale_torch.so (forecasters/torch/neural.cpp), which is dlopen'ed when the first neural model is
// built or loaded. A process that never touches a network never maps LibTorch (~0.4 s and ~190 MB per process
// start when it was linked in).
//
// The plugin is looked for, in this order:
//   1. $AUTOSCALE_TORCH_PLUGIN, the plugin's full path; when set, nothing else is tried;
//   2. beside the running executable (/proc/self/exe), then in its parent directory (the unit tests live in
//      build/tests/, the plugin in build/);
//   3. where this build wrote it (AUTOSCALE_TORCH_PLUGIN_PATH, set by CMakeLists.txt).
#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "controllers/base/error.hpp"
#include "controllers/base/plugin.hpp"
#include "forecasters/torch/backend.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale::forecast {

namespace {

constexpr const char* kPluginFile = "libautoscale_torch.so";

struct Plugin {
  NeuralCreateFn* create = nullptr;
  NeuralLoadFn* load = nullptr;
  std::string problem;  // what was tried and why it failed; empty once loaded
};

#ifndef AUTOSCALE_TORCH_PLUGIN_PATH
#define AUTOSCALE_TORCH_PLUGIN_PATH ""
#endif

// Loads the plugin once (thread-safe); a plugin that cannot be loaded is an InputError, every time asked.
const Plugin& plugin() {
  static Plugin p;
  static std::once_flag once;
  std::call_once(once, [] {
    OpenedPlugin o =
        open_plugin(plugin_candidates(kPluginFile, "AUTOSCALE_TORCH_PLUGIN", AUTOSCALE_TORCH_PLUGIN_PATH),
                    kNeuralAbiSymbol, kNeuralBackendAbi, {kNeuralCreateSymbol, kNeuralLoadSymbol});
    if (!o.symbols.empty()) {
      p.create = reinterpret_cast<NeuralCreateFn*>(o.symbols[0]);
      p.load = reinterpret_cast<NeuralLoadFn*>(o.symbols[1]);
      return;
    }
    p.problem = "the LibTorch forecasters (lstm, gru, transformer) need " + std::string(kPluginFile) +
                ", built beside the autoscale binary (or set AUTOSCALE_TORCH_PLUGIN to its path); tried " +
                o.tried;
  });
  if (!p.problem.empty()) throw InputError(kPluginFile, 0, "", p.problem);
  return p;
}

}  // namespace

NeuralForecaster::NeuralForecaster(NeuralConfig cfg) : cfg_(std::move(cfg)), impl_(plugin().create(cfg_)) {}

NeuralForecaster::NeuralForecaster(NeuralConfig cfg, std::unique_ptr<NeuralBackend> backend)
    : cfg_(std::move(cfg)), impl_(std::move(backend)) {}

NeuralForecaster::~NeuralForecaster() = default;

TrainReport NeuralForecaster::train(const std::vector<SeriesData>& train,
                                    const std::vector<SeriesData>& validation,
                                    const std::function<void(const EpochReport&)>& progress) {
  return impl_->train(train, validation, progress);
}

bool NeuralForecaster::trained() const {
  return impl_->trained();
}

double NeuralForecaster::loss(const std::vector<SeriesData>& data) const {
  return impl_->loss(data);
}

nlohmann::json NeuralForecaster::save(const std::string& weights_path) const {
  nlohmann::json description = impl_->save(weights_path);
  description["config"] = cfg_.to_json();
  return description;
}

std::unique_ptr<NeuralForecaster> NeuralForecaster::load(const nlohmann::json& description,
                                                         const std::string& weights_path) {
  // The description's config is read here (NeuralConfig lives in the main program), the rest in the plugin.
  if (!description.is_object())
    throw InputError(weights_path, 0, "model", "a description written by save() (an object)");
  auto config = description.find("config");
  if (config == description.end())
    throw InputError(weights_path, 0, "model.config", "a value (this key is required)");
  NeuralConfig cfg = NeuralConfig::from_json(*config, weights_path);
  std::unique_ptr<NeuralBackend> backend(plugin().load(cfg, description, weights_path));
  return std::unique_ptr<NeuralForecaster>(new NeuralForecaster(std::move(cfg), std::move(backend)));
}

void NeuralForecaster::observe(double t_s, double value) {
  impl_->observe(t_s, value);
}

void NeuralForecaster::fit(const std::vector<double>& values, double step_s, double t0_s) {
  impl_->fit(values, step_s, t0_s);
}

Forecast NeuralForecaster::predict(const std::vector<int>& horizons_steps,
                                   const std::vector<double>& quantiles) const {
  return impl_->predict(horizons_steps, quantiles);
}

std::string NeuralForecaster::kind() const {
  return cfg_.kind;
}

int NeuralForecaster::max_horizon_steps() const {
  return cfg_.max_horizon_steps;
}

double NeuralForecaster::trained_step_s() const {
  return impl_->trained_step_s();
}

const NeuralConfig& NeuralForecaster::config() const {
  return cfg_;
}

}  // namespace autoscale::forecast
