// `autoscale train MODEL.toml` and `autoscale models list / show`.
#include "sim/cli/train.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "forecasters/eval/evaluation.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/store/sha256.hpp"
#include "forecasters/torch/neural.hpp"
#include "sim/core/trace.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

namespace fs = std::filesystem;
using forecast::NeuralConfig;
using forecast::NeuralForecaster;
using forecast::SeriesData;
namespace ev = forecast::eval;

namespace {

struct Split {
  SeriesData train, validation, test;
};

// A training file read and checked, its traces loaded and split: everything but the training.
struct TrainPlan {
  std::string name, kind;
  NeuralConfig cfg;
  double step_s = 0, train_fraction = 0, validation_fraction = 0;
  std::vector<std::string> traces;
  std::vector<Split> splits;
  std::vector<SeriesData> train, validation;
  std::vector<int> horizons;
  nlohmann::json data_json;
};

// The test metrics per horizon (train's table and model.json's `metrics.test`), pooled over the traces' test
// splits. Each trace is walked by rolling origin (forecasters/eval): the model, frozen, takes the trace's
// train and validation parts as history (fit() on a trained model only takes the history), then at each
// origin predicts every horizon from what it has observed and observes on; a forecast counts when its target
// is in the test split. At most ~2000 origins per trace (a stride over longer test splits). The naive
// forecast (the value at the origin) is the baseline.
nlohmann::json test_metrics(NeuralForecaster& model, const std::vector<Split>& splits,
                            const std::vector<int>& horizons, double step_s) {
  std::vector<ev::HorizonForecasts> pooled(horizons.size());  // no targets: there is no burst split
  std::vector<std::vector<double>> naive(horizons.size());
  auto append = [](std::vector<double>& to, const std::vector<double>& from) {
    to.insert(to.end(), from.begin(), from.end());
  };
  for (const auto& s : splits) {
    ev::Series series{s.train.values, s.train.t0_s, step_s};
    series.values.insert(series.values.end(), s.validation.values.begin(), s.validation.values.end());
    const std::size_t history = series.values.size();
    if (history == 0 || s.test.values.empty()) continue;
    series.values.insert(series.values.end(), s.test.values.begin(), s.test.values.end());
    const long n = static_cast<long>(s.test.values.size());
    const int stride = static_cast<int>(std::max(1L, (n - horizons.back()) / 2000));
    auto per_horizon = ev::rolling_origin(model, series, {history, horizons, stride});
    for (std::size_t k = 0; k < horizons.size(); ++k) {
      const ev::HorizonForecasts& h = per_horizon[k];
      ev::HorizonForecasts& p = pooled[k];
      append(p.actual, h.actual);
      append(p.p10, h.p10);
      append(p.p50, h.p50);
      append(p.p90, h.p90);
      for (std::size_t target : h.target)
        naive[k].push_back(series.values[target - static_cast<std::size_t>(h.horizon_steps)]);
    }
  }
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t k = 0; k < horizons.size(); ++k) {
    const ev::Metrics m = ev::compute_metrics(pooled[k], ev::kNaN, {});
    const bool any = m.n > 0;  // no forecast: every metric 0
    const double naive_mae = any ? ev::mae(pooled[k].actual, naive[k]) : 0.0;
    out.push_back({{"horizon_s", horizons[k] * step_s},
                   {"origins", m.n},
                   {"mae", any ? m.mae : 0.0},
                   {"rmse", any ? m.rmse : 0.0},
                   {"pinball", any ? m.pinball : 0.0},
                   {"coverage_80", any ? m.coverage_80 : 0.0},
                   {"naive_mae", naive_mae},
                   {"mae_vs_naive", naive_mae > 0 ? m.mae / naive_mae : 0.0}});
  }
  return out;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string resolve(const std::string& base_file, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base_file).parent_path() / p).lexically_normal().string();
}

}  // namespace

static TrainPlan plan_training(const TrainArgs& args) {
  TrainPlan plan;
  auto cfg_file = load_controller_toml(args.config, "train");
  Params& p = *cfg_file;
  plan.name = p.string("name", std::nullopt);

  // [data]: the traces, the step and the chronological split.
  auto data = p.table("data");
  plan.traces = data->strings("traces", {});
  if (plan.traces.empty()) data->fail("traces", "a non-empty array of trace files (t_s,rps CSV)");
  const std::string column = data->string("column", std::string("rps"));
  double& step_s = plan.step_s;
  step_s = data->number("step_s", 0.0);
  const double train_fraction = plan.train_fraction = data->number("train_fraction", 0.7);
  const double validation_fraction = plan.validation_fraction = data->number("validation_fraction", 0.15);
  if (train_fraction + validation_fraction > 1 + 1e-12)
    data->fail("validation_fraction",
               "train_fraction + validation_fraction <= 1 (the rest is the test split)");
  std::vector<double> horizons_s = data->numbers("test_horizons_s", {});
  data->finish();

  auto section = p.table("model");
  const std::string kind = plan.kind = section->choice("kind", std::nullopt, forecast::neural_kinds());
  NeuralConfig& cfg = plan.cfg;
  cfg = NeuralConfig::from_params(kind, *section);
  cfg.kind = kind;
  if (args.seed) cfg.seed = *args.seed;
  section->finish();
  p.finish();

  nlohmann::json& data_json = plan.data_json;
  data_json = nlohmann::json::array();
  std::vector<Split>& splits = plan.splits;
  for (const auto& t : plan.traces) {
    const std::string path = resolve(args.config, t);
    Trace trace = load_trace(path, column);
    if (step_s == 0) step_s = trace.bin_s;
    std::vector<double> v = resample(trace, step_s, args.config, "data.step_s");
    const auto n = v.size();
    const auto n_train = static_cast<std::size_t>(std::floor(train_fraction * static_cast<double>(n)));
    const auto n_val = static_cast<std::size_t>(std::floor(validation_fraction * static_cast<double>(n)));
    Split s;
    auto part = [&](std::size_t from, std::size_t to, const char* what) {
      SeriesData d;
      d.name = path + " (" + what + ")";
      d.values.assign(v.begin() + static_cast<long>(from), v.begin() + static_cast<long>(to));
      d.step_s = step_s;
      d.t0_s = trace.t0_s + static_cast<double>(from) * step_s;
      return d;
    };
    s.train = part(0, n_train, "train");
    s.validation = part(n_train, n_train + n_val, "validation");
    s.test = part(n_train + n_val, n, "test");
    splits.push_back(s);
    data_json.push_back({{"path", path},
                         {"sha256", forecast::sha256_file(path)},
                         {"column", column},
                         {"bin_s", trace.bin_s},
                         {"values", n},
                         {"train_values", n_train},
                         {"validation_values", n_val},
                         {"test_values", n - n_train - n_val}});
  }
  for (const auto& s : splits) {
    plan.train.push_back(s.train);
    if (!s.validation.values.empty()) plan.validation.push_back(s.validation);
  }
  if (plan.validation.empty())
    throw InputError(args.config, 0, "data.validation_fraction",
                     "a validation split long enough for early stopping (a positive fraction)");

  // Test metrics per horizon on each trace's test split (after its train and validation parts).
  std::vector<int>& horizons = plan.horizons;
  for (double h : horizons_s) {
    int k = std::max(1, static_cast<int>(std::lround(h / step_s)));
    if (k > cfg.max_horizon_steps)
      throw InputError(args.config, 0, "data.test_horizons_s",
                       "horizons up to max_horizon_steps x step_s = " +
                           std::to_string(cfg.max_horizon_steps * step_s) + " s, got " + std::to_string(h));
    horizons.push_back(k);
  }
  if (horizons.empty()) horizons = {1, std::max(1, cfg.max_horizon_steps / 2), cfg.max_horizon_steps};
  std::sort(horizons.begin(), horizons.end());
  horizons.erase(std::unique(horizons.begin(), horizons.end()), horizons.end());
  return plan;
}

int cmd_train(const TrainArgs& args) {
  TrainPlan plan = plan_training(args);
  const std::string& name = plan.name;
  const std::string& kind = plan.kind;
  const NeuralConfig& cfg = plan.cfg;
  const double step_s = plan.step_s;
  const auto& splits = plan.splits;
  const auto& horizons = plan.horizons;
  const auto& data_json = plan.data_json;
  const double train_fraction = plan.train_fraction, validation_fraction = plan.validation_fraction;
  const auto& traces = plan.traces;
  const auto& train = plan.train;
  const auto& validation = plan.validation;
  const bool progress = !args.quiet;
  if (progress)
    std::fprintf(stderr, "train: %s (%s) on %zu trace(s) at %g-s steps, seed %llu\n", name.c_str(),
                 kind.c_str(), traces.size(), step_s, static_cast<unsigned long long>(cfg.seed));
  NeuralForecaster model(cfg);
  auto started = std::chrono::steady_clock::now();
  forecast::TrainReport report = model.train(train, validation, [&](const forecast::EpochReport& e) {
    if (progress)
      std::fprintf(stderr, "train: epoch %3d/%d  train loss %.5f  validation loss %.5f  %.2f s%s\n", e.epoch,
                   cfg.epochs, e.train_loss, e.validation_loss, e.seconds, e.improved ? "  (best)" : "");
  });
  double train_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  const nlohmann::json test_json = test_metrics(model, splits, horizons, step_s);
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : report.epochs)
    history.push_back({{"epoch", e.epoch},
                       {"train_loss", e.train_loss},
                       {"validation_loss", e.validation_loss},
                       {"seconds", e.seconds}});
  nlohmann::json meta = {
      {"created_utc", utc_now()},
      {"project_version", AUTOSCALE_VERSION},
      {"config", {{"file", args.config}, {"sha256", forecast::sha256_file(args.config)}}},
      {"training",
       {{"data", data_json},
        {"step_s", step_s},
        {"split",
         {{"train_fraction", train_fraction},
          {"validation_fraction", validation_fraction},
          {"test_fraction", std::max(0.0, 1 - train_fraction - validation_fraction)}}},
        {"seed", cfg.seed},
        {"threads", cfg.threads},
        {"epochs_run", report.epochs.size()},
        {"best_epoch", report.best_epoch},
        {"stopped_early", report.stopped_early},
        {"train_windows", report.train_windows},
        {"validation_windows", report.validation_windows},
        {"train_s", train_s},
        {"history", history}}},
      {"metrics", {{"validation_loss", report.best_validation_loss}, {"test", test_json}}}};

  const std::string dir = args.models_dir.empty() ? forecast::default_models_dir() : args.models_dir;
  forecast::ModelInfo info = forecast::save_model(dir, name, model, meta);
  if (args.json) {
    std::cout << nlohmann::json{{"model", info.name + "@" + std::to_string(info.version)},
                                {"dir", info.dir},
                                {"kind", kind},
                                {"epochs_run", report.epochs.size()},
                                {"best_epoch", report.best_epoch},
                                {"validation_loss", report.best_validation_loss},
                                {"train_s", train_s},
                                {"weights_sha256", info.meta["weights"]["sha256"]},
                                {"test", test_json}}
                     .dump(2)
              << "\n";
  } else {
    std::printf("model %s@%d (%s) written to %s\n", info.name.c_str(), info.version, kind.c_str(),
                info.dir.c_str());
    std::printf("epochs %zu (best %d%s), validation loss %.5f, %.1f s\n", report.epochs.size(),
                report.best_epoch, report.stopped_early ? ", stopped early" : "", report.best_validation_loss,
                train_s);
    std::printf("%-10s %8s %12s %12s %10s %12s %9s\n", "horizon_s", "origins", "mae", "naive_mae", "vs_naive",
                "pinball", "cover_80");
    for (const auto& t : test_json)
      std::printf("%-10g %8ld %12.5g %12.5g %10.3f %12.5g %9.3f\n", t["horizon_s"].get<double>(),
                  t["origins"].get<long>(), t["mae"].get<double>(), t["naive_mae"].get<double>(),
                  t["mae_vs_naive"].get<double>(), t["pinball"].get<double>(),
                  t["coverage_80"].get<double>());
  }
  return 0;
}

int cmd_validate_train(const std::string& file) {
  TrainArgs args;
  args.config = file;
  TrainPlan plan = plan_training(args);
  std::size_t values = 0;
  for (const auto& s : plan.splits)
    values += s.train.values.size() + s.validation.values.size() + s.test.values.size();
  std::printf("%s: ok (training file: %s, %s on %zu trace(s), %zu values at %g-s steps)\n", file.c_str(),
              plan.name.c_str(), plan.kind.c_str(), plan.traces.size(), values, plan.step_s);
  return 0;
}

int cmd_models_list(const std::string& models_dir, bool json) {
  const std::string dir = models_dir.empty() ? forecast::default_models_dir() : models_dir;
  auto models = forecast::list_models(dir);
  nlohmann::json out = nlohmann::json::array();
  if (!json)
    std::printf("%-28s %-12s %-20s %12s %10s  %s\n", "model", "kind", "created_utc", "val_loss", "epochs",
                "data");
  for (const auto& m : models) {
    std::string ref = m.name + "@" + std::to_string(m.version);
    if (m.meta.is_null()) {
      if (json)
        out.push_back({{"model", ref}, {"dir", m.dir}, {"damaged", true}});
      else
        std::printf("%-28s damaged: run `autoscale models show %s` for the reason\n", ref.c_str(),
                    ref.c_str());
      continue;
    }
    const auto& tr = m.meta.value("training", nlohmann::json::object());
    std::string data;
    for (const auto& d : tr.value("data", nlohmann::json::array()))
      data += (data.empty() ? "" : ", ") + fs::path(d.value("path", std::string())).filename().string();
    double val = m.meta.value("metrics", nlohmann::json::object()).value("validation_loss", 0.0);
    if (json) {
      out.push_back({{"model", ref},
                     {"dir", m.dir},
                     {"kind", m.meta.value("kind", "")},
                     {"created_utc", m.meta.value("created_utc", "")},
                     {"validation_loss", val},
                     {"epochs_run", tr.value("epochs_run", 0)},
                     {"data", data}});
    } else {
      std::printf("%-28s %-12s %-20s %12.5g %10d  %s\n", ref.c_str(), m.meta.value("kind", "").c_str(),
                  m.meta.value("created_utc", "").c_str(), val, tr.value("epochs_run", 0), data.c_str());
    }
  }
  if (json)
    std::cout << nlohmann::json{{"models_dir", dir}, {"models", out}}.dump(2) << "\n";
  else if (models.empty())
    std::printf("(no models in %s)\n", dir.c_str());
  return 0;
}

int cmd_models_show(const std::string& ref, const std::string& models_dir, bool json) {
  const std::string dir = models_dir.empty() ? forecast::default_models_dir() : models_dir;
  forecast::ModelInfo info = forecast::resolve_model(ref, dir);
  auto model = forecast::load_model(info.dir, dir);  // checks the weights and rebuilds the network
  if (json) {
    nlohmann::json j = info.meta;
    j["dir"] = info.dir;
    j["check"] = "ok";
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("%s\n", info.meta.dump(2).c_str());
  std::printf("ok: %s@%d in %s: weights %s verified (SHA-256), %s loaded (horizons up to %d steps of %g s)\n",
              info.name.c_str(), info.version, info.dir.c_str(),
              info.meta["weights"]["file"].get<std::string>().c_str(), model->kind().c_str(),
              model->max_horizon_steps(), model->trained_step_s());
  return 0;
}

}  // namespace autoscale
