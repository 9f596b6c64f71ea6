#pragma once
// The LibTorch forecasters: `lstm`, `gru` and `transformer` (a minimal encoder). This header includes no
// torch: the networks, their training and their files live behind an interface
// (forecasters/torch/backend.hpp) in the plugin libautoscale_torch.so (forecasters/torch/neural.cpp, the only
// translation unit of the project that includes torch headers), which the first NeuralForecaster built or
// loaded in a process dlopen's (forecasters/torch/neural_proxy.cpp says where it looks; a plugin that cannot
// be loaded is an InputError).
//
// A model reads a window of the last `input_steps` values (scaled, see `scaling`) plus time features and
// predicts, with one direct output per step ahead (1..max_horizon_steps) and per quantile of its grid, the
// values at those quantiles; it is trained with the pinball (quantile) loss. CPU, fixed seeds, `threads`
// intra-op threads (1 by default) so that training is bit-reproducible.
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forecasters/forecaster.hpp"

namespace autoscale::forecast {

struct NeuralConfig {
  std::string kind = "lstm";   // lstm | gru | transformer
  int input_steps = 48;        // window length
  int max_horizon_steps = 16;  // one output head per step ahead up to this
  // The quantile grid the network is trained on (sorted, in (0, 1), contains 0.5); predict() interpolates
  // linearly between grid quantiles and refuses a quantile outside the grid.
  std::vector<double> quantiles = {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95};
  int hidden = 32;  // LSTM/GRU hidden size; transformer model width
  int layers = 1;
  int heads = 2;  // transformer attention heads (hidden % heads == 0)
  double dropout = 0;
  int epochs = 30;  // at most
  int batch_size = 64;
  double learning_rate = 1e-3;  // Adam
  double weight_decay = 0;
  int patience = 5;  // early stopping: epochs without a better validation loss
  // fit(): the newest fraction of the series is the validation split for early stopping.
  double validation_fraction = 0.2;
  // "log_window": log1p of the values, minus the window's mean log1p (scale-free: a model trained on one
  // trace applies to another of a different magnitude); "window": divided by the window's mean; "global": (x
  // - mean) / sd with the training data's constants (stored in the artifact).
  std::string scaling = "log_window";
  bool time_features = true;  // sin/cos of the time of day and of the day of the week, from t_s
  std::uint64_t seed = 1;
  int threads = 1;

  // Reads the keys of a forecaster section of this kind (`kind` itself is read by the caller); range errors
  // name the key. Does not call finish().
  static NeuralConfig from_params(const std::string& kind, Params& p);
  nlohmann::json to_json() const;
  // Throws InputError(origin, 0, "model.<key>", ...) on a missing or bad key.
  static NeuralConfig from_json(const nlohmann::json& j, const std::string& origin);
};

// One training series: values at a fixed step, the first at t0_s (time features are computed from t_s).
struct SeriesData {
  std::string name;  // for messages
  std::vector<double> values;
  double step_s = 60;
  double t0_s = 0;
};

struct EpochReport {
  int epoch = 0;          // 1-based
  double train_loss = 0;  // mean pinball loss over the training windows, in scaled units
  double validation_loss = 0;
  double seconds = 0;     // wall time of the epoch
  bool improved = false;  // a new best validation loss (its weights are kept)
};

struct TrainReport {
  std::vector<EpochReport> epochs;
  int best_epoch = 0;
  double best_validation_loss = 0;
  bool stopped_early = false;
  long train_windows = 0, validation_windows = 0;
};

// The lstm/gru/transformer names (for registries and messages).
const std::vector<std::string>& neural_kinds();
bool is_neural_kind(const std::string& kind);

class NeuralBackend;  // private: forecasters/torch/backend.hpp

class NeuralForecaster : public Forecaster {
 public:
  explicit NeuralForecaster(NeuralConfig cfg);
  ~NeuralForecaster() override;
  NeuralForecaster(const NeuralForecaster&) = delete;
  NeuralForecaster& operator=(const NeuralForecaster&) = delete;

  // Trains on every window of the `train` series, early stopping on the loss over the windows of
  // `validation`, and keeps the best epoch's weights. All series must share one step (an InputError naming
  // the series otherwise) and each must be long enough for one window (input_steps + max_horizon_steps).
  // Same config, data and seed: identical weights. `progress` is called after every epoch.
  TrainReport train(const std::vector<SeriesData>& train, const std::vector<SeriesData>& validation,
                    const std::function<void(const EpochReport&)>& progress = {});
  bool trained() const;
  // Mean pinball loss (scaled units, the training loss) over the windows of `data`.
  double loss(const std::vector<SeriesData>& data) const;

  // The artifact. save() writes the weights (and nothing else) to `weights_path` and returns the model's
  // description: {"kind", "config": to_json(), "step_s", "normalisation": {...}, "parameters": count,
  // "weights_fnv1a64": the file's checksum, which load() checks first}. The file's bytes depend on the
  // weights only (not on its name).
  nlohmann::json save(const std::string& weights_path) const;
  // Rebuilds a trained, frozen model from a description written by save() and its weights file. A missing,
  // truncated or corrupt weights file, a description of another kind or shape: InputError naming the file.
  static std::unique_ptr<NeuralForecaster> load(const nlohmann::json& description,
                                                const std::string& weights_path);

  // Forecaster. observe() keeps the last input_steps values (and their times); fit() trains when the model
  // has not been trained (the newest validation_fraction of `values` is the validation split), else it only
  // takes the values as history. predict() before input_steps observations answers as `naive` (the last
  // value at every quantile); a horizon beyond max_horizon_steps or a quantile outside the grid is an
  // InputError.
  void observe(double t_s, double value) override;
  using Forecaster::fit;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override;
  Forecast predict(const std::vector<int>& horizons_steps,
                   const std::vector<double>& quantiles = default_quantiles()) const override;
  std::string kind() const override;
  int max_horizon_steps() const override;
  double trained_step_s() const override;
  const NeuralConfig& config() const;

 private:
  NeuralForecaster(NeuralConfig cfg, std::unique_ptr<NeuralBackend> backend);
  NeuralConfig cfg_;
  std::unique_ptr<NeuralBackend> impl_;  // made by the plugin
};

// make_forecaster's factory for the neural kinds: an untrained model (fit() trains it).
std::unique_ptr<Forecaster> make_neural(const std::string& kind, Params& settings);

}  // namespace autoscale::forecast
