#pragma once
// Private to forecasters/torch/: the interface between NeuralForecaster (neural_proxy.cpp, torch-free, in
// every binary) and its LibTorch implementation (neural.cpp, the only translation unit that includes torch),
// which is the plugin libautoscale_torch.so, dlopen'ed when the first neural model is built or loaded.
// Linking LibTorch into every binary cost each process start ~0.4 s and ~190 MB, for commands that never
// touch a network.
//
// Both sides are built by the same compiler, with the same flags, from the same headers: C++ types
// (std::string, std::vector, nlohmann::json, std::function) cross the boundary by reference, and exceptions
// thrown inside the plugin (autoscale::InputError, std::runtime_error) are caught by type outside (GCC
// compares type_info by name across shared objects; tests/unit/torch_plugin_test.cpp checks it). Torch's
// process-wide state (its random generator, its thread count, the lock around training) stays inside the
// plugin.
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forecasters/forecaster.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale::forecast {

// One network with its scaling and its history: NeuralForecaster's methods forward to these (see neural.hpp
// for what each does). kind(), max_horizon_steps() and config() are answered from NeuralForecaster's own
// copy of the config.
class NeuralBackend {
 public:
  virtual ~NeuralBackend() = default;
  virtual TrainReport train(const std::vector<SeriesData>& train, const std::vector<SeriesData>& validation,
                            const std::function<void(const EpochReport&)>& progress) = 0;
  virtual bool trained() const = 0;
  virtual double loss(const std::vector<SeriesData>& data) const = 0;
  // The description without its "config" (NeuralForecaster::save adds NeuralConfig::to_json(), which lives in
  // the main program: the plugin has nothing of Params).
  virtual nlohmann::json save(const std::string& weights_path) const = 0;
  virtual void observe(double t_s, double value) = 0;
  virtual void fit(const std::vector<double>& values, double step_s, double t0_s) = 0;
  virtual Forecast predict(const std::vector<int>& horizons_steps,
                           const std::vector<double>& quantiles) const = 0;
  virtual double trained_step_s() const = 0;
};

// The plugin's entry points, found with dlsym by these names. Bump kNeuralBackendAbi whenever this header or
// NeuralConfig changes: a plugin of another version is refused rather than called.
constexpr int kNeuralBackendAbi = 1;
constexpr const char* kNeuralAbiSymbol = "autoscale_torch_abi";
constexpr const char* kNeuralCreateSymbol = "autoscale_torch_create";
constexpr const char* kNeuralLoadSymbol = "autoscale_torch_load";
// kNeuralBackendAbi of the plugin.
using NeuralAbiFn = int();
// An untrained network of `cfg` (a checked config: NeuralConfig::from_params or from_json).
using NeuralCreateFn = NeuralBackend*(const NeuralConfig& cfg);
// A trained, frozen network from a description written by save() whose "config" is `cfg` (already read
// with NeuralConfig::from_json) and its weights file; InputError naming the file otherwise.
using NeuralLoadFn = NeuralBackend*(const NeuralConfig& cfg, const nlohmann::json& description,
                                    const std::string& weights_path);

}  // namespace autoscale::forecast
