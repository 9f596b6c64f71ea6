// The LibTorch networks behind NeuralForecaster: the only translation unit that includes torch headers, built
// as the plugin libautoscale_torch.so (forecasters/torch/backend.hpp: loaded on first use, so that processes
// that never touch a network do not pay for LibTorch). Of its own it exports three extern "C" functions (the
// interface version, create and load); everything else of this file is hidden.
//
// Input: a window of input_steps steps, each the scaled value plus (time_features) sin/cos of the time of day
// and of the day of the week. Output: max_horizon_steps x quantiles values (scaled units), added to the
// window's last scaled value, so that an untrained network starts out as `naive` and learns the change.
#include <torch/torch.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

#include "controllers/base/error.hpp"
#include "forecasters/torch/backend.hpp"
#include "forecasters/torch/neural.hpp"
#include "forecasters/torch/plugin_common.hpp"

namespace autoscale::forecast {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDayS = 86400, kWeekS = 604800;

int feature_count(const NeuralConfig& c) {
  return c.time_features ? 5 : 1;
}

// The value transform. "log_window" and "window" are relative to each window (offset() of its inputs);
// "global" uses the training data's mean and sd.
struct Scaler {
  enum Mode { log_window, window, global } mode = log_window;
  double mean = 0, sd = 1;

  static Mode parse(const std::string& s) {
    return s == "window" ? window : s == "global" ? global : log_window;
  }
  double offset(const double* x, int n) const {
    double sum = 0;
    switch (mode) {
      case log_window:
        for (int i = 0; i < n; ++i) sum += std::log1p(x[i]);
        return sum / n;
      case window: {
        for (int i = 0; i < n; ++i) sum += std::abs(x[i]);
        double m = sum / n;
        return m > 1e-12 ? m : 1.0;
      }
      case global:
        break;
    }
    return 0;
  }
  double forward(double x, double m) const {
    switch (mode) {
      case log_window:
        return std::log1p(x) - m;
      case window:
        return x / m;
      case global:
        break;
    }
    return (x - mean) / sd;
  }
  double inverse(double s, double m) const {
    switch (mode) {
      case log_window:
        return std::expm1(s + m);
      case window:
        return s * m;
      case global:
        break;
    }
    return s * sd + mean;
  }
};

void time_features(double t_s, float* out) {
  double day = 2 * kPi * std::fmod(t_s, kDayS) / kDayS, week = 2 * kPi * std::fmod(t_s, kWeekS) / kWeekS;
  out[0] = static_cast<float>(std::sin(day));
  out[1] = static_cast<float>(std::cos(day));
  out[2] = static_cast<float>(std::sin(week));
  out[3] = static_cast<float>(std::cos(week));
}

struct NetImpl : torch::nn::Module {
  NetImpl(const NeuralConfig& c) : window(c.input_steps) {
    const int f = feature_count(c);
    if (c.kind == "lstm") {
      lstm = register_module("lstm", torch::nn::LSTM(torch::nn::LSTMOptions(f, c.hidden)
                                                         .num_layers(c.layers)
                                                         .batch_first(true)
                                                         .dropout(c.layers > 1 ? c.dropout : 0)));
    } else if (c.kind == "gru") {
      gru = register_module("gru", torch::nn::GRU(torch::nn::GRUOptions(f, c.hidden)
                                                      .num_layers(c.layers)
                                                      .batch_first(true)
                                                      .dropout(c.layers > 1 ? c.dropout : 0)));
    } else {
      input = register_module("input", torch::nn::Linear(f, c.hidden));
      position = register_parameter("position", torch::randn({c.input_steps, 1, c.hidden}) * 0.02);
      encoder = register_module("encoder", torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(
                                               torch::nn::TransformerEncoderLayerOptions(c.hidden, c.heads)
                                                   .dim_feedforward(4 * c.hidden)
                                                   .dropout(c.dropout),
                                               c.layers)));
    }
    dropout = register_module("dropout", torch::nn::Dropout(c.dropout));
    head = register_module("head", torch::nn::Linear(c.hidden, c.max_horizon_steps * c.quantiles.size()));
  }

  // x: [batch, input_steps, features] -> [batch, horizons * quantiles] in scaled units.
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor last;
    if (lstm) {
      last = std::get<0>(lstm->forward(x)).select(1, window - 1);
    } else if (gru) {
      last = std::get<0>(gru->forward(x)).select(1, window - 1);
    } else {
      torch::Tensor h = input->forward(x).transpose(0, 1) + position;  // [steps, batch, hidden]
      last = encoder->forward(h).select(0, window - 1);
    }
    return head->forward(dropout->forward(last)) + x.select(1, window - 1).narrow(1, 0, 1);
  }

  int window;
  torch::nn::LSTM lstm{nullptr};
  torch::nn::GRU gru{nullptr};
  torch::nn::Linear input{nullptr};
  torch::Tensor position;
  torch::nn::TransformerEncoder encoder{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear head{nullptr};
};
TORCH_MODULE(Net);

std::string shape_text(at::IntArrayRef s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

// Torch's random generator and thread count are process-wide: one training (or network construction) at a
// time in the whole plugin (forecasters/torch/plugin_common.hpp).
using torch_state::archive_key;
using torch_state::fnv1a64;
using torch_state::ThreadScope;
std::mutex& torch_state_mutex() {
  return torch_state::mutex();
}

class TorchBackend final : public NeuralBackend {
 public:
  NeuralConfig cfg;
  Scaler scaler;
  Net net{nullptr};
  bool is_trained = false;
  double step_s = 0;   // of the training data
  torch::Tensor taus;  // [quantiles], for the pinball loss

  // The last input_steps observations (kept up to twice that, then trimmed).
  std::vector<double> values, times;
  bool have_t = false;

  // predict()'s network output for the current history: per horizon, the grid quantiles (sorted, original
  // units). Recomputed after an observation.
  mutable std::vector<std::vector<double>> rows;
  mutable bool rows_valid = false;
  mutable torch::Tensor input;  // [1, input_steps, features], reused

  explicit TorchBackend(NeuralConfig c) : cfg(std::move(c)) {
    scaler.mode = Scaler::parse(cfg.scaling);
    taus = torch::tensor(std::vector<float>(cfg.quantiles.begin(), cfg.quantiles.end()));
  }

  int horizons() const { return cfg.max_horizon_steps; }
  int grid() const { return static_cast<int>(cfg.quantiles.size()); }

  void build() {
    torch::manual_seed(cfg.seed);
    net = Net(cfg);
    input = torch::zeros({1, cfg.input_steps, feature_count(cfg)});
  }

  long parameter_count() const {
    long n = 0;
    for (const auto& p : net->parameters()) n += p.numel();
    return n;
  }

  void check_value(double v, const std::string& where) const {
    if (!std::isfinite(v)) throw InputError(where, 0, "values", "finite numbers");
    if (scaler.mode == Scaler::log_window && v < 0)
      throw InputError(where, 0, "values", "non-negative values (scaling \"log_window\" takes log1p)");
  }

  void check_series(const std::vector<SeriesData>& data, double step) const {
    const std::size_t need = static_cast<std::size_t>(cfg.input_steps + cfg.max_horizon_steps);
    for (const SeriesData& s : data) {
      if (!(s.step_s > 0)) throw InputError(s.name, 0, "step_s", "a positive step");
      if (s.step_s != step)
        throw InputError(s.name, 0, "step_s",
                         "the step of the other series (" + std::to_string(step) + " s), got " +
                             std::to_string(s.step_s) + " s");
      if (!std::isfinite(s.t0_s)) throw InputError(s.name, 0, "t0_s", "a finite time");
      if (s.values.size() < need)
        throw InputError(s.name, 0, "values",
                         "at least " + std::to_string(need) + " values (input_steps " +
                             std::to_string(cfg.input_steps) + " + max_horizon_steps " +
                             std::to_string(cfg.max_horizon_steps) + "), got " +
                             std::to_string(s.values.size()));
      for (double v : s.values) check_value(v, s.name);
    }
  }

  // Every window of `data`: inputs [n, input_steps, features] and targets [n, horizons] (scaled).
  std::pair<torch::Tensor, torch::Tensor> windows(const std::vector<SeriesData>& data) const {
    const int w = cfg.input_steps, h = horizons(), f = feature_count(cfg);
    long n = 0;
    for (const SeriesData& s : data) n += static_cast<long>(s.values.size()) - w - h + 1;
    if (n == 0) return {torch::zeros({0, w, f}), torch::zeros({0, h})};
    std::vector<float> x(static_cast<std::size_t>(n) * w * f), y(static_cast<std::size_t>(n) * h);
    long k = 0;
    for (const SeriesData& s : data) {
      const long len = static_cast<long>(s.values.size());
      std::vector<float> tf(static_cast<std::size_t>(cfg.time_features ? len * 4 : 0));
      for (long i = 0; cfg.time_features && i < len; ++i)
        time_features(s.t0_s + static_cast<double>(i) * s.step_s, &tf[static_cast<std::size_t>(i) * 4]);
      for (long j = 0; j + w + h <= len; ++j, ++k) {
        const double* v = s.values.data() + j;
        double m = scaler.offset(v, w);
        float* row = &x[static_cast<std::size_t>(k) * w * f];
        for (int i = 0; i < w; ++i, row += f) {
          row[0] = static_cast<float>(scaler.forward(v[i], m));
          if (cfg.time_features) std::copy_n(&tf[static_cast<std::size_t>(j + i) * 4], 4, row + 1);
        }
        for (int i = 0; i < h; ++i)
          y[static_cast<std::size_t>(k) * h + i] = static_cast<float>(scaler.forward(v[w + i], m));
      }
    }
    return {torch::from_blob(x.data(), {n, w, f}).clone(), torch::from_blob(y.data(), {n, h}).clone()};
  }

  // Mean pinball loss of outputs [b, horizons * quantiles] against targets [b, horizons].
  torch::Tensor pinball(const torch::Tensor& out, const torch::Tensor& y) const {
    torch::Tensor err = y.unsqueeze(2) - out.view({out.size(0), horizons(), grid()});
    return torch::max(taus * err, (taus - 1) * err).mean();
  }

  double evaluate(const torch::Tensor& x, const torch::Tensor& y) const {
    torch::NoGradGuard no_grad;
    net.ptr()->eval();
    const long n = x.size(0), chunk = 1024;
    double sum = 0;
    for (long i = 0; i < n; i += chunk) {
      long b = std::min(chunk, n - i);
      sum += pinball(net.ptr()->forward(x.narrow(0, i, b)), y.narrow(0, i, b)).item<double>() *
             static_cast<double>(b);
    }
    return n ? sum / static_cast<double>(n) : 0.0;
  }

  TrainReport train(const std::vector<SeriesData>& train_data, const std::vector<SeriesData>& validation,
                    const std::function<void(const EpochReport&)>& progress) override {
    if (train_data.empty()) throw InputError("", 0, "train", "at least one training series");
    const double step = train_data.front().step_s;
    check_series(train_data, step);
    check_series(validation, step);
    if (scaler.mode == Scaler::global) {
      double sum = 0, sq = 0, n = 0;
      for (const SeriesData& s : train_data)
        for (double v : s.values) sum += v, sq += v * v, ++n;
      scaler.mean = sum / n;
      double var = std::max(0.0, sq / n - scaler.mean * scaler.mean);
      scaler.sd = var > 0 ? std::sqrt(var) : 1.0;
    }
    std::lock_guard<std::mutex> lock(torch_state_mutex());
    ThreadScope threads(cfg.threads);
    auto [tx, ty] = windows(train_data);
    auto [vx, vy] = windows(validation);
    is_trained = false;
    rows_valid = false;
    build();
    torch::optim::Adam adam(net->parameters(),
                            torch::optim::AdamOptions(cfg.learning_rate).weight_decay(cfg.weight_decay));
    TrainReport report;
    report.train_windows = tx.size(0);
    report.validation_windows = vx.size(0);
    std::vector<torch::Tensor> best;
    double best_loss = std::numeric_limits<double>::infinity();
    int since_best = 0;
    std::mt19937_64 rng(cfg.seed ^ 0x9e3779b97f4a7c15ULL);
    std::vector<long> order(static_cast<std::size_t>(tx.size(0)));
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<long>(i);
    for (int epoch = 1; epoch <= cfg.epochs; ++epoch) {
      auto start = std::chrono::steady_clock::now();
      // Fisher-Yates with the engine's raw output: the same order with every standard library.
      for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
      torch::Tensor perm = torch::from_blob(order.data(), {static_cast<long>(order.size())}, torch::kLong);
      net->train();
      double sum = 0;
      for (long i = 0; i < tx.size(0); i += cfg.batch_size) {
        long b = std::min<long>(cfg.batch_size, tx.size(0) - i);
        torch::Tensor idx = perm.narrow(0, i, b);
        adam.zero_grad();
        torch::Tensor loss = pinball(net->forward(tx.index_select(0, idx)), ty.index_select(0, idx));
        loss.backward();
        adam.step();
        sum += loss.item<double>() * static_cast<double>(b);
      }
      EpochReport e;
      e.epoch = epoch;
      e.train_loss = sum / static_cast<double>(tx.size(0));
      // Without a validation split, early stopping watches the training loss.
      e.validation_loss = vx.size(0) ? evaluate(vx, vy) : e.train_loss;
      e.improved = e.validation_loss < best_loss;
      if (e.improved) {
        best_loss = e.validation_loss;
        report.best_epoch = epoch;
        since_best = 0;
        best.clear();
        for (const auto& p : net->parameters()) best.push_back(p.detach().clone());
      } else {
        ++since_best;
      }
      e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      report.epochs.push_back(e);
      if (progress) progress(e);
      if (since_best >= cfg.patience && epoch < cfg.epochs) {
        report.stopped_early = true;
        break;
      }
    }
    if (best.empty())
      throw InputError(
          train_data.front().name, 0, "values",
          "a series the network can learn: the loss was not finite (try a smaller learning_rate)");
    {
      torch::NoGradGuard no_grad;
      auto params = net->parameters();
      for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(best[i]);
    }
    net->eval();
    report.best_validation_loss = best_loss;
    is_trained = true;
    step_s = step;
    rows_valid = false;
    return report;
  }

  void push(double t_s, double v) {
    values.push_back(v);
    times.push_back(t_s);
    const std::size_t w = static_cast<std::size_t>(cfg.input_steps);
    if (values.size() > 2 * w) {
      values.erase(values.begin(), values.end() - static_cast<long>(w));
      times.erase(times.begin(), times.end() - static_cast<long>(w));
    }
    have_t = true;
    rows_valid = false;
  }

  void compute_rows() const {
    const int w = cfg.input_steps, f = feature_count(cfg), h = horizons(), q = grid();
    const double* v = values.data() + values.size() - w;
    const double* t = times.data() + times.size() - w;
    double m = scaler.offset(v, w);
    float* row = input.data_ptr<float>();
    for (int i = 0; i < w; ++i, row += f) {
      row[0] = static_cast<float>(scaler.forward(v[i], m));
      if (cfg.time_features) time_features(t[i], row + 1);
    }
    torch::Tensor out;
    {
      c10::InferenceMode guard;
      out = net.ptr()->forward(input).contiguous();
    }
    const float* o = out.data_ptr<float>();
    rows.assign(static_cast<std::size_t>(h), std::vector<double>(static_cast<std::size_t>(q)));
    for (int i = 0; i < h; ++i) {
      auto& r = rows[static_cast<std::size_t>(i)];
      for (int j = 0; j < q; ++j) r[static_cast<std::size_t>(j)] = scaler.inverse(o[i * q + j], m);
      std::sort(r.begin(), r.end());
    }
    rows_valid = true;
  }

  void load_weights(const std::string& path, const std::string& checksum) {
    auto bad = [&](const std::string& field, const std::string& expected) {
      throw InputError(path, 0, field, expected);
    };
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) bad("weights", "an existing weights file");
    std::ifstream in(path, std::ios::binary);
    std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    if (!in.good() && !in.eof()) bad("weights", "a readable weights file");
    if (fnv1a64(bytes) != checksum)
      bad("weights", "the file save() wrote (FNV-1a " + checksum + " in the description, " + fnv1a64(bytes) +
                         " on disk: truncated, corrupt or another model's)");
    try {
      std::istringstream stream(bytes);
      torch::serialize::InputArchive archive;
      archive.load_from(stream);
      auto named = net->named_parameters();
      std::vector<std::string> keys = archive.keys();
      if (keys.size() != named.size())
        bad("weights", std::to_string(named.size()) + " tensors for a " + cfg.kind +
                           " of this shape, found " + std::to_string(keys.size()));
      torch::NoGradGuard no_grad;
      for (auto& p : named) {
        torch::Tensor t;
        if (!archive.try_read(archive_key(p.key()), t))
          bad(p.key(), "a tensor of shape " + shape_text(p.value().sizes()) + " (the weights of a " +
                           cfg.kind + " model), found none");
        if (t.sizes() != p.value().sizes() || t.scalar_type() != p.value().scalar_type())
          bad(p.key(), "a float tensor of shape " + shape_text(p.value().sizes()) +
                           " for the description's " + cfg.kind + ", found " + shape_text(t.sizes()));
        if (!torch::isfinite(t).all().item<bool>()) bad(p.key(), "finite weights");
        p.value().copy_(t);
      }
    } catch (const InputError&) {
      throw;
    } catch (const c10::Error& e) {
      std::string what = e.what_without_backtrace();
      bad("weights", "a weights file written by save() (" + what.substr(0, what.find('\n')) + ")");
    } catch (const std::exception& e) {
      bad("weights", std::string("a weights file written by save() (") + e.what() + ")");
    }
  }

  // NeuralBackend (train() is above).
  bool trained() const override { return is_trained; }
  double loss(const std::vector<SeriesData>& data) const override;
  nlohmann::json save(const std::string& weights_path) const override;
  void observe(double t_s, double value) override;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override;
  Forecast predict(const std::vector<int>& horizons_steps,
                   const std::vector<double>& quantiles) const override;
  double trained_step_s() const override { return is_trained ? step_s : 0.0; }
};

double TorchBackend::loss(const std::vector<SeriesData>& data) const {
  if (!is_trained) throw InputError("", 0, "model", "a trained model");
  if (data.empty()) return 0;
  check_series(data, data.front().step_s);
  std::lock_guard<std::mutex> lock(torch_state_mutex());
  ThreadScope threads(cfg.threads);
  auto [x, y] = windows(data);
  return evaluate(x, y);
}

nlohmann::json TorchBackend::save(const std::string& weights_path) const {
  const TorchBackend& m = *this;
  if (!m.is_trained) throw InputError(weights_path, 0, "model", "a trained model to save");
  // Serialized to memory first: a stream archive is named "archive" inside, a file archive after its file,
  // and the bytes must not depend on the file's name.
  std::ostringstream out;
  try {
    torch::serialize::OutputArchive archive;
    for (const auto& p : m.net->named_parameters()) archive.write(archive_key(p.key()), p.value().detach());
    archive.save_to(out);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw InputError(weights_path, 0, "weights",
                     "a model torch can serialize (" + what.substr(0, what.find('\n')) + ")");
  }
  const std::string bytes = out.str();
  const std::string tmp = weights_path + ".tmp" + std::to_string(::getpid());
  bool written = static_cast<bool>(std::ofstream(tmp, std::ios::binary | std::ios::trunc)
                                       .write(bytes.data(), static_cast<std::streamsize>(bytes.size())));
  std::error_code ec;
  if (written) std::filesystem::rename(tmp, weights_path, ec);
  if (!written || ec) {
    std::remove(tmp.c_str());
    throw InputError(weights_path, 0, "weights",
                     "a writable path" + (ec ? " (" + ec.message() + ")" : std::string()));
  }
  nlohmann::json norm{{"scaling", m.cfg.scaling}};
  if (m.scaler.mode == Scaler::global) norm["mean"] = m.scaler.mean, norm["sd"] = m.scaler.sd;
  // "config" is NeuralForecaster::save's (NeuralConfig::to_json is in the main program).
  return {{"kind", m.cfg.kind},
          {"step_s", m.step_s},
          {"normalisation", norm},
          {"parameters", m.parameter_count()},
          {"weights_fnv1a64", fnv1a64(bytes)}};
}

// NeuralForecaster::load has checked that the description is an object and read its "config" into `cfg`.
std::unique_ptr<TorchBackend> load_backend(const NeuralConfig& cfg, const nlohmann::json& description,
                                           const std::string& weights_path) {
  auto bad = [&](const std::string& field, const std::string& expected) {
    throw InputError(weights_path, 0, field, expected);
  };
  auto get = [&](const char* key) -> const nlohmann::json& {
    auto it = description.find(key);
    if (it == description.end()) bad(std::string("model.") + key, "a value (this key is required)");
    return *it;
  };
  const nlohmann::json& kind = get("kind");
  if (!kind.is_string() || kind.get<std::string>() != cfg.kind)
    bad("model.kind", "the config's kind (\"" + cfg.kind + "\")");
  const nlohmann::json& step = get("step_s");
  if (!step.is_number() || !(step.get<double>() > 0) || !std::isfinite(step.get<double>()))
    bad("model.step_s", "a positive step in seconds");
  const nlohmann::json& norm = get("normalisation");
  if (!norm.is_object() || !norm.contains("scaling") || norm["scaling"] != cfg.scaling)
    bad("model.normalisation", "an object whose scaling is the config's (\"" + cfg.scaling + "\")");
  auto model = std::make_unique<TorchBackend>(cfg);
  TorchBackend& m = *model;
  if (m.scaler.mode == Scaler::global) {
    auto number = [&](const char* key) {
      auto it = norm.find(key);
      if (it == norm.end() || !it->is_number() || !std::isfinite(it->get<double>()))
        bad(std::string("model.normalisation.") + key, "a finite number");
      return it->get<double>();
    };
    m.scaler.mean = number("mean");
    m.scaler.sd = number("sd");
    if (!(m.scaler.sd > 0)) bad("model.normalisation.sd", "a positive number");
  }
  {
    std::lock_guard<std::mutex> lock(torch_state_mutex());
    m.build();
  }
  const nlohmann::json& count = get("parameters");
  if (!count.is_number_integer() || count.get<long>() != m.parameter_count())
    bad("model.parameters", std::to_string(m.parameter_count()) + " (the parameter count of the config's " +
                                cfg.kind + "), found " + count.dump());
  const nlohmann::json& checksum = get("weights_fnv1a64");
  if (!checksum.is_string()) bad("model.weights_fnv1a64", "the weights file's checksum (a hex string)");
  m.load_weights(weights_path, checksum.get<std::string>());
  m.net->eval();
  m.is_trained = true;
  m.step_s = step.get<double>();
  return model;
}

void TorchBackend::observe(double t_s, double value) {
  TorchBackend& m = *this;
  if (!std::isfinite(t_s)) throw InputError("", 0, "t_s", "a finite time");
  if (m.have_t && !(t_s > m.times.back()))
    throw InputError("", 0, "t_s",
                     "times in increasing order (" + std::to_string(t_s) + " after " +
                         std::to_string(m.times.back()) + ")");
  m.check_value(value, "");
  m.push(t_s, value);
}

void TorchBackend::fit(const std::vector<double>& values, double step_s, double t0_s) {
  TorchBackend& m = *this;
  if (!(step_s > 0) || !std::isfinite(step_s)) throw InputError("", 0, "step_s", "a positive step");
  if (!std::isfinite(t0_s)) throw InputError("", 0, "t0_s", "a finite time");
  for (double v : values) m.check_value(v, "");
  if (!m.is_trained) {
    const long n = static_cast<long>(values.size()), w = m.cfg.input_steps, h = m.cfg.max_horizon_steps;
    const long n_val = m.cfg.validation_fraction > 0
                           ? std::max(h, std::lround(static_cast<double>(n) * m.cfg.validation_fraction))
                           : 0;
    if (n - n_val < w + h)
      throw InputError("", 0, "values",
                       "at least " + std::to_string(w + h + n_val) + " values to train on (input_steps " +
                           std::to_string(w) + " + max_horizon_steps " + std::to_string(h) + ", + " +
                           std::to_string(n_val) + " for the validation split), got " + std::to_string(n));
    std::vector<SeriesData> train{{"values", {values.begin(), values.end() - n_val}, step_s, t0_s}};
    std::vector<SeriesData> validation;
    // The validation windows' inputs may reach back into the training part; their targets do not.
    if (n_val > 0)
      validation.push_back({"values (validation split)",
                            {values.end() - n_val - w, values.end()},
                            step_s,
                            t0_s + static_cast<double>(n - n_val - w) * step_s});
    m.train(train, validation, {});
  }
  m.values.clear();
  m.times.clear();
  m.have_t = false;
  m.rows_valid = false;
  const std::size_t first = values.size() > static_cast<std::size_t>(m.cfg.input_steps)
                                ? values.size() - static_cast<std::size_t>(m.cfg.input_steps)
                                : 0;
  for (std::size_t i = first; i < values.size(); ++i)
    m.push(t0_s + static_cast<double>(i) * step_s, values[i]);
}

Forecast TorchBackend::predict(const std::vector<int>& horizons_steps,
                               const std::vector<double>& quantiles) const {
  const TorchBackend& m = *this;
  if (m.values.empty()) throw InputError("", 0, "history", "at least one observation before a forecast");
  const std::vector<double>& g = m.cfg.quantiles;
  for (int h : horizons_steps)
    if (h < 1 || h > m.cfg.max_horizon_steps)
      throw InputError("", 0, "horizons_steps",
                       "horizons in [1, " + std::to_string(m.cfg.max_horizon_steps) +
                           "] steps (max_horizon_steps), got " + std::to_string(h));
  // Per asked quantile: the grid interval [lo, lo + 1] and the weight of its upper end.
  std::vector<std::pair<std::size_t, double>> at(quantiles.size());
  for (std::size_t j = 0; j < quantiles.size(); ++j) {
    double q = quantiles[j];
    if (!(q >= g.front() && q <= g.back()))
      throw InputError("", 0, "quantiles",
                       "probabilities in [" + std::to_string(g.front()) + ", " + std::to_string(g.back()) +
                           "] (the model's quantile grid), got " + std::to_string(q));
    std::size_t lo = 0;
    while (lo + 2 < g.size() && q > g[lo + 1]) ++lo;
    at[j] = g.size() == 1 ? std::make_pair<std::size_t, double>(0, 0.0)
                          : std::make_pair(lo, (q - g[lo]) / (g[lo + 1] - g[lo]));
  }
  Forecast f{horizons_steps, quantiles, std::vector<std::vector<double>>(horizons_steps.size())};
  const bool ready = m.is_trained && m.values.size() >= static_cast<std::size_t>(m.cfg.input_steps);
  if (ready && !m.rows_valid) m.compute_rows();
  for (std::size_t i = 0; i < horizons_steps.size(); ++i) {
    f.values[i].resize(quantiles.size());
    for (std::size_t j = 0; j < quantiles.size(); ++j) {
      if (!ready) {
        f.values[i][j] = m.values.back();
        continue;
      }
      const auto& r = m.rows[static_cast<std::size_t>(horizons_steps[i] - 1)];
      auto [lo, w] = at[j];
      f.values[i][j] = w == 0 ? r[lo] : (1 - w) * r[lo] + w * r[lo + 1];
    }
  }
  return f;
}

}  // namespace

// The plugin's entry points (backend.hpp), found with dlsym: the only symbols of this file it exports.
#define AUTOSCALE_TORCH_EXPORT __attribute__((visibility("default")))

extern "C" AUTOSCALE_TORCH_EXPORT int autoscale_torch_abi() {
  return kNeuralBackendAbi;
}

extern "C" AUTOSCALE_TORCH_EXPORT NeuralBackend* autoscale_torch_create(const NeuralConfig& cfg) {
  return new TorchBackend(cfg);
}

extern "C" AUTOSCALE_TORCH_EXPORT NeuralBackend* autoscale_torch_load(const NeuralConfig& cfg,
                                                                      const nlohmann::json& description,
                                                                      const std::string& weights_path) {
  return load_backend(cfg, description, weights_path).release();
}

// The entry points have the types NeuralForecaster casts dlsym's answers to.
static_assert(std::is_same_v<decltype(autoscale_torch_abi), NeuralAbiFn>);
static_assert(std::is_same_v<decltype(autoscale_torch_create), NeuralCreateFn>);
static_assert(std::is_same_v<decltype(autoscale_torch_load), NeuralLoadFn>);

}  // namespace autoscale::forecast
