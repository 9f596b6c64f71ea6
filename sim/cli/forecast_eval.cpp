// `autoscale forecast-eval`: reads an EVAL file (TOML, through the scenario reader: file:line errors, ranges
// in key_ranges.cpp), the trace and its anomaly labels, builds the forecasters, runs the rolling-origin
// evaluation (forecasters/eval/) and reports: a table or JSON on stdout, the forecasts in HDF5
// (results/forecast_store). Every input is checked before anything is evaluated or written.
#include "sim/cli/forecast_eval.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "forecasters/eval/evaluation.hpp"
#include "forecasters/store/model_store.hpp"
#include "results/forecast_store.hpp"
#include "results/hdf5_store.hpp"
#include "sim/core/trace.hpp"
#include "sim/scenario/key_ranges.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

namespace {

namespace fs = std::filesystem;
namespace ev = forecast::eval;

// A forecaster section of an EVAL file, as written, except that `period_steps` (seasonal_naive, holt_winters,
// at any depth) defaults to the evaluation's season: one file then fits traces of any bin.
class SeasonDefault : public Params {
 public:
  SeasonDefault(std::unique_ptr<Params> inner, long season) : inner_(std::move(inner)), season_(season) {}
  double number(const std::string& k, std::optional<double> f) override { return inner_->number(k, f); }
  long integer(const std::string& k, std::optional<long> f) override {
    return inner_->integer(k, k == "period_steps" ? std::optional<long>(season_) : f);
  }
  bool boolean(const std::string& k, std::optional<bool> f) override { return inner_->boolean(k, f); }
  std::string string(const std::string& k, std::optional<std::string> f) override {
    return inner_->string(k, std::move(f));
  }
  std::vector<std::string> strings(const std::string& k, std::vector<std::string> f) override {
    return inner_->strings(k, std::move(f));
  }
  std::vector<double> numbers(const std::string& k, std::vector<double> f) override {
    return inner_->numbers(k, std::move(f));
  }
  bool has(const std::string& k) const override { return inner_->has(k); }
  std::unique_ptr<Params> table(const std::string& k) override {
    return std::make_unique<SeasonDefault>(inner_->table(k), season_);
  }
  std::vector<std::unique_ptr<Params>> tables(const std::string& k) override {
    std::vector<std::unique_ptr<Params>> out;
    for (auto& t : inner_->tables(k)) out.push_back(std::make_unique<SeasonDefault>(std::move(t), season_));
    return out;
  }
  void finish() override { inner_->finish(); }

 protected:
  void raise(const std::string& k, const std::string& expected) const override { inner_->fail(k, expected); }

 private:
  std::unique_ptr<Params> inner_;
  long season_;
};

// The forecasters evaluated when the file names none (besides the baselines): scale-free settings, every one
// with empirical intervals.
std::vector<std::pair<std::string, std::shared_ptr<MapParams>>> default_forecasters() {
  using V = std::map<std::string, MapParams::Value>;
  auto section = [](V v) {
    v["intervals"] = std::string("empirical");
    return std::make_shared<MapParams>(std::move(v));
  };
  return {{"direct_ar", section({{"kind", std::string("direct_ar")}})},
          {"ar", section({{"kind", std::string("ar")}, {"order", 12L}, {"differencing", 1L}})},
          {"holt_winters", section({{"kind", std::string("holt_winters")}})}};
}

std::string resolve(const std::string& path, const fs::path& base) {
  fs::path p(path);
  return (p.is_absolute() || base.empty() ? p : base / p).lexically_normal().string();
}

long steps_of(double seconds, double step_s, long at_least) {
  return std::max(at_least, static_cast<long>(std::llround(seconds / step_s)));
}

std::string num(double v) {
  if (std::isnan(v)) return "n/a";
  char buf[64];
  if (v != 0 && (std::fabs(v) < 1e-3 || std::fabs(v) >= 1e6))
    std::snprintf(buf, sizeof buf, "%.4g", v);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v);
  return buf;
}

// Anomaly windows: {"windows": [{"start_t_s", "end_t_s"}, ...]} (the NAB traces' *.anomalies.json).
std::vector<ev::LabelWindow> read_labels(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open anomaly labels (expected a readable JSON file)");
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::size_t upto = std::min(e.byte, text.size());
    int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(upto), '\n'));
    throw InputError(path, line, "", std::string("invalid JSON (") + e.what() + ")");
  }
  const char* format = "expected {\"windows\": [{\"start_t_s\": <s>, \"end_t_s\": <s>}, ...]}";
  if (!j.is_object() || !j.contains("windows") || !j["windows"].is_array())
    throw InputError(path, 0, "windows", format);
  std::vector<ev::LabelWindow> out;
  for (std::size_t i = 0; i < j["windows"].size(); ++i) {
    const nlohmann::json& w = j["windows"][i];
    std::string at = "windows[" + std::to_string(i) + "]";
    for (const char* k : {"start_t_s", "end_t_s"})
      if (!w.is_object() || !w.contains(k) || !w[k].is_number())
        throw InputError(path, 0, at + "." + k, std::string("expected a number of seconds; ") + format);
    ev::LabelWindow lw{w["start_t_s"].get<double>(), w["end_t_s"].get<double>()};
    if (!(lw.end_s >= lw.start_s))
      throw InputError(path, 0, at + ".end_t_s", "expected end_t_s >= start_t_s");
    out.push_back(lw);
  }
  return out;
}

struct Horizon {
  int steps = 1;
  std::vector<double> requested_s;
};

// Everything the evaluation needs, read and checked.
struct Setup {
  std::shared_ptr<Params> root;
  std::string trace_path, column, labels_path;
  ev::Series series;
  std::vector<Horizon> horizons;
  ev::EvalOptions options;
  std::vector<std::unique_ptr<Params>> sections;  // per candidate; null for a baseline added here
  std::vector<ev::Candidate> candidates;
  double worst_window_s = 0;
  std::size_t origins = 0;
};

void read_series(Params& t, const fs::path& base, Setup& s) {
  s.trace_path = resolve(t.string("path", std::nullopt), base);
  s.column = t.string("column", std::string("rps"));
  const bool has_step = t.has("step_s"), has_start = t.has("start_s"), has_end = t.has("end_s");
  const double step = has_step ? t.number("step_s", std::nullopt) : 0;
  const double start = has_start ? t.number("start_s", std::nullopt) : 0;
  const double end = has_end ? t.number("end_s", std::nullopt) : 0;
  t.finish();
  Trace tr = load_trace(s.trace_path, s.column);
  if (tr.rate.empty()) t.fail("path", "a trace with at least one row");
  std::size_t first = 0, last = tr.rate.size();  // bins [first, last)
  if (has_start) {
    if (start < tr.t0_s || start >= tr.end_s())
      t.fail("start_s",
             "a time inside the trace [" + format_number(tr.t0_s) + ", " + format_number(tr.end_s()) + ") s");
    first = static_cast<std::size_t>(std::ceil((start - tr.t0_s) / tr.bin_s - 1e-9));
  }
  if (has_end) {
    if (has_start && end <= start) t.fail("end_s", "a time after start_s");
    last = std::min(last, static_cast<std::size_t>(std::ceil((end - tr.t0_s) / tr.bin_s - 1e-9)));
  }
  // The window, then whole bins averaged to the step (sim/core/trace's resample).
  Trace window = tr;
  window.t0_s = tr.t0_s + static_cast<double>(first) * tr.bin_s;
  window.rate.assign(tr.rate.begin() + static_cast<long>(first),
                     tr.rate.begin() + static_cast<long>(std::max(first, last)));
  try {
    s.series.values = resample(window, has_step ? step : 0, "", "step_s");
  } catch (const InputError& e) {
    t.fail("step_s", e.message());
  }
  s.series.step_s = has_step ? tr.bin_s * std::round(step / tr.bin_s) : tr.bin_s;
  s.series.t0_s = window.t0_s;
  if (s.series.values.size() < 3)
    t.fail(has_end || has_start ? (has_end ? "end_s" : "start_s") : "path",
           "at least 3 values at the step of " + format_number(s.series.step_s) + " s, got " +
               std::to_string(s.series.values.size()));
}

void read_evaluation(Params& e, Setup& s) {
  const double step = s.series.step_s;
  const std::size_t n = s.series.values.size();
  std::vector<double> hs = e.numbers("horizons_s", {60, 300, 900});
  if (hs.empty()) e.fail("horizons_s", "at least one horizon");
  std::map<long, std::vector<double>> by_steps;
  for (double h : hs) by_steps[steps_of(h, step, 1)].push_back(h);
  for (auto& [steps, requested] : by_steps) {
    if (steps > 1000000)
      e.fail("horizons_s", "horizons of at most 1000000 steps of " + format_number(step) + " s");
    s.horizons.push_back({static_cast<int>(steps), requested});
    s.options.horizons_steps.push_back(static_cast<int>(steps));
  }
  if (e.has("train_fraction") && e.has("train_until_s"))
    e.fail("train_until_s", "either train_fraction or train_until_s, not both");
  std::size_t train = 0;
  if (e.has("train_until_s")) {
    const double until = e.number("train_until_s", std::nullopt);
    train = static_cast<std::size_t>(std::max(0.0, std::ceil((until - s.series.t0_s) / step - 1e-9)));
    if (train < 2 || train >= n)
      e.fail("train_until_s", "a time leaving at least 2 values before it and 1 after it in [" +
                                  format_number(s.series.t0_s) + ", " +
                                  format_number(s.series.time(n - 1) + step) + ") s");
  } else {
    const double fraction = e.number("train_fraction", 0.5);
    train = std::max<std::size_t>(2, static_cast<std::size_t>(std::floor(fraction * static_cast<double>(n))));
    if (train >= n) e.fail("train_fraction", "a fraction leaving at least one value after the training part");
  }
  const int shortest = s.options.horizons_steps.front();
  if (train - 1 + static_cast<std::size_t>(shortest) >= n)
    e.fail(e.has("train_until_s") ? "train_until_s" : "train_fraction",
           "a training part that leaves at least one forecast at the shortest horizon (" +
               format_number(shortest * step) + " s)");
  s.options.train_size = train;
  s.options.stride_steps = static_cast<int>(e.integer("stride_steps", 1));
  s.options.season_steps = static_cast<int>(steps_of(e.number("season_s", 86400), step, 1));
  s.options.worst_count = static_cast<std::size_t>(e.integer("worst_windows", 3));
  s.options.worst_length_steps =
      static_cast<std::size_t>(steps_of(e.number("worst_window_s", 3600), step, 1));
  s.worst_window_s = static_cast<double>(s.options.worst_length_steps) * step;
  s.options.burst_window_steps = static_cast<int>(steps_of(e.number("burst_window_s", 3600), step, 4));
  s.options.burst_z = e.number("burst_z", 3);
  e.finish();
  s.origins = (n - 1 - static_cast<std::size_t>(shortest) - (train - 1)) /
                  static_cast<std::size_t>(s.options.stride_steps) +
              1;
}

// The anomaly section's `forecaster` is checked once the candidates are known.
std::string read_anomaly(Params& a, const fs::path& base, Setup& s) {
  if (a.has("labels")) {
    const std::string labels = a.string("labels", std::nullopt);
    if (!labels.empty()) s.labels_path = resolve(labels, base);
  } else {
    fs::path beside = fs::path(s.trace_path).replace_extension(".anomalies.json");
    if (fs::exists(beside)) s.labels_path = beside.string();
  }
  s.options.anomaly_k = static_cast<int>(a.integer("k_steps", 6));
  std::string forecaster = a.string("forecaster", std::string());
  a.finish();
  if (!s.labels_path.empty()) {
    s.options.labelled = true;
    s.options.labels = read_labels(s.labels_path);
  }
  return forecaster;
}

void add_candidate(Setup& s, std::unique_ptr<Params> section, const std::string& name,
                   std::unique_ptr<forecast::Forecaster> f) {
  const int longest = s.options.horizons_steps.back();
  if (section) {
    const char* key = section->has("model") ? "model" : "kind";
    if (f->max_horizon_steps() < longest)
      section->fail(section->has("max_horizon_steps") ? "max_horizon_steps" : key,
                    "a model that predicts the longest horizon, " + std::to_string(longest) + " steps (" +
                        format_number(longest * s.series.step_s) + " s); it predicts at most " +
                        std::to_string(f->max_horizon_steps()) + " steps ahead");
    if (f->trained_step_s() > 0 && std::fabs(f->trained_step_s() - s.series.step_s) > 1e-9 * s.series.step_s)
      section->fail(key, "a model trained at the evaluation's step of " + format_number(s.series.step_s) +
                             " s; it was trained at " + format_number(f->trained_step_s()) +
                             " s (set [trace] step_s)");
  }
  s.sections.push_back(std::move(section));
  s.candidates.push_back({name, std::move(f)});
}

void read_forecasters(Params& root, const std::string& base, Setup& s) {
  const long season = s.options.season_steps;
  std::vector<std::pair<std::string, std::unique_ptr<Params>>> sections;  // name ("": read it) and section
  for (auto& t : root.tables("forecaster"))
    sections.emplace_back("", std::make_unique<SeasonDefault>(std::move(t), season));
  if (sections.empty())
    for (auto& [name, p] : default_forecasters())
      sections.emplace_back(name, std::make_unique<SeasonDefault>(std::make_unique<MapParams>(*p), season));
  std::vector<std::string> names;
  for (auto& [given, section] : sections) {
    Params& sec = *section;
    const std::string name = given.empty() ? sec.string("name", std::nullopt) : given;
    std::string problem = name_problem(name);
    if (!problem.empty()) sec.fail("name", problem + "; expected " + kNameRule);
    if (std::find(names.begin(), names.end(), name) != names.end())
      sec.fail("name", "a name of its own; another [[forecaster]] is named '" + name + "'");
    names.push_back(name);
    std::unique_ptr<forecast::Forecaster> f =
        forecast::forecaster_from_section(sec, forecast::default_models_dir(), base);
    add_candidate(s, std::move(section), name, std::move(f));
  }
  // The baselines every report compares with: the first naive and seasonal_naive, added when absent.
  for (const char* kind : {"naive", "seasonal_naive"}) {
    auto it = std::find_if(s.candidates.begin(), s.candidates.end(),
                           [&](const ev::Candidate& c) { return c.forecaster->kind() == kind; });
    if (it == s.candidates.end()) {
      std::string name = kind;
      while (std::find(names.begin(), names.end(), name) != names.end()) name += "_baseline";
      names.push_back(name);
      SeasonDefault p(std::make_unique<MapParams>(), season);
      add_candidate(s, nullptr, name, forecast::make_forecaster(kind, p));
      s.options.baselines.push_back(name);
    } else {
      s.options.baselines.push_back(it->name);
    }
  }
}

Setup read_setup(const std::string& file) {
  Setup s;
  s.root = load_controller_toml(file);
  Params& root = *s.root;
  const fs::path base = fs::path(file).parent_path();
  root.string("description", std::string());
  {
    auto trace = root.table("trace");
    read_series(*trace, base, s);
  }
  {
    auto evaluation = root.has("evaluation") ? root.table("evaluation") : std::make_unique<MapParams>();
    read_evaluation(*evaluation, s);
  }
  auto anomaly = root.has("anomaly") ? root.table("anomaly") : std::make_unique<MapParams>();
  std::string anomaly_forecaster = read_anomaly(*anomaly, base, s);
  read_forecasters(root, base.string(), s);
  root.finish();
  if (!anomaly_forecaster.empty()) {
    std::vector<std::string> names;
    for (const auto& c : s.candidates) names.push_back(c.name);
    anomaly->choice("forecaster", anomaly_forecaster, names);
    s.options.anomaly_forecaster = anomaly_forecaster;
  }
  s.options.jobs = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return s;
}

// Progress on stderr (a terminal only, not with --quiet), drawn once the evaluation has taken a second.
class Progress {
 public:
  explicit Progress(bool show) : show_(show), start_(std::chrono::steady_clock::now()) {}
  void operator()(double fraction, const std::string& name) {
    if (!show_) return;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (elapsed < 1) return;
    int filled = static_cast<int>(fraction * 30);
    std::string bar(static_cast<std::size_t>(std::clamp(filled, 0, 30)), '#');
    bar.resize(30, '.');
    std::fprintf(stderr, "\rforecast-eval [%s] %5.1f%%  %-20s %.0f s", bar.c_str(), 100 * fraction,
                 name.c_str(), elapsed);
    std::fflush(stderr);
    drawn_ = true;
  }
  ~Progress() {
    if (drawn_) std::fprintf(stderr, "\n");
  }

 private:
  bool show_, drawn_ = false;
  std::chrono::steady_clock::time_point start_;
};

nlohmann::json metrics_json(const ev::Metrics& m) {
  nlohmann::json j = {{"n", m.n}};
  for (const auto& f : ev::kMetricFields) j[f.name] = m.*f.value;
  return j;
}

nlohmann::json report_json(const std::string& file, const Setup& s, const ev::Report& r,
                           const std::string& out) {
  const ev::Series& se = s.series;
  nlohmann::json horizons = nlohmann::json::array(), results = nlohmann::json::array(),
                 best = nlohmann::json::array();
  for (const Horizon& h : s.horizons)
    horizons.push_back(
        {{"horizon_s", h.steps * se.step_s}, {"horizon_steps", h.steps}, {"requested_s", h.requested_s}});
  for (const auto& f : r.forecasters)
    for (const auto& h : f.horizons) {
      nlohmann::json j = {{"forecaster", f.name},
                          {"kind", f.kind},
                          {"horizon_s", h.forecasts.horizon_steps * se.step_s},
                          {"horizon_steps", h.forecasts.horizon_steps}};
      j.update(metrics_json(h.metrics));
      nlohmann::json worst = nlohmann::json::array();
      for (const auto& w : h.worst)
        worst.push_back({{"start_s", se.time(w.first)},
                         {"end_s", se.time(w.end)},
                         {"n", w.n},
                         {"mae", w.mae},
                         {"mean_actual", w.mean_actual},
                         {"mean_forecast", w.mean_forecast}});
      j["worst_windows"] = worst;
      results.push_back(j);
    }
  for (const auto& b : r.best)
    best.push_back({{"horizon_s", b.horizon_steps * se.step_s},
                    {"horizon_steps", b.horizon_steps},
                    {"forecaster", b.forecaster},
                    {"mae", b.mae},
                    {"baseline", b.baseline},
                    {"baseline_mae", b.baseline_mae},
                    {"mae_ratio", b.ratio},
                    {"coverage_80", b.coverage_80}});
  const ev::AnomalyResult& a = r.anomaly;
  nlohmann::json events = nlohmann::json::array();
  for (std::size_t i = 0; i < a.events.size(); ++i)
    events.push_back(
        {{"start_s", se.time(a.events[i].first)},
         {"end_s", se.time(a.events[i].last) + se.step_s},
         {"labelled", a.labelled ? nlohmann::json(a.detection.event_true.at(i)) : nlohmann::json()}});
  nlohmann::json anomaly = {{"forecaster", a.forecaster},
                            {"horizon_s", a.horizon_steps * se.step_s},
                            {"k_steps", a.k},
                            {"events", events},
                            {"labels", a.labelled ? nlohmann::json(s.labels_path) : nlohmann::json()},
                            {"windows", a.detection.windows},
                            {"windows_detected", a.detection.windows_detected},
                            {"true_events", a.detection.true_events},
                            {"precision", a.detection.precision},
                            {"recall", a.detection.recall},
                            {"f1", a.detection.f1}};
  return {{"eval", file},
          {"trace", s.trace_path},
          {"column", s.column},
          {"step_s", se.step_s},
          {"t0_s", se.t0_s},
          {"values", se.values.size()},
          {"train_until_s", se.time(s.options.train_size)},
          {"origins", s.origins},
          {"stride_steps", s.options.stride_steps},
          {"season_steps", s.options.season_steps},
          {"mase_scale", r.mase_scale},
          {"horizons", horizons},
          {"results", results},
          {"best", best},
          {"anomaly", anomaly},
          {"output", out}};
}

void print_report(std::ostream& o, const std::string& file, const Setup& s, const ev::Report& r,
                  const std::string& out) {
  const ev::Series& se = s.series;
  char buf[512];
  o << "forecast-eval " << file << ": " << s.trace_path << " (" << s.column << "), step "
    << format_number(se.step_s) << " s, " << se.values.size() << " values from t = " << format_number(se.t0_s)
    << " s; trained until " << format_number(se.time(s.options.train_size)) << " s, " << s.origins
    << " origins\n";
  for (const Horizon& h : s.horizons)
    if (h.requested_s.size() > 1 || std::fabs(h.requested_s[0] - h.steps * se.step_s) > 1e-9 * se.step_s) {
      std::string req;
      for (double v : h.requested_s) req += (req.empty() ? "" : ", ") + format_number(v) + " s";
      o << "horizon " << req << " -> " << format_number(h.steps * se.step_s) << " s (" << h.steps << " step"
        << (h.steps == 1 ? "" : "s") << ")\n";
    }
  std::size_t w = 10;
  for (const auto& f : r.forecasters) w = std::max(w, f.name.size());
  std::snprintf(buf, sizeof buf, "%-*s %9s %10s %10s %7s %7s %10s %6s %10s %6s %10s %10s %10s %10s\n",
                static_cast<int>(w), "forecaster", "horizon_s", "mae", "rmse", "smape%", "mase", "pinball",
                "cov80", "width80", "under", "under_mae", "over_mae", "mae_burst", "mae_calm");
  o << buf;
  for (const auto& f : r.forecasters)
    for (const auto& h : f.horizons) {
      const ev::Metrics& m = h.metrics;
      std::snprintf(
          buf, sizeof buf, "%-*s %9s %10s %10s %7.2f %7.3f %10s %6.3f %10s %6.3f %10s %10s %10s %10s\n",
          static_cast<int>(w), f.name.c_str(), format_number(h.forecasts.horizon_steps * se.step_s).c_str(),
          num(m.mae).c_str(), num(m.rmse).c_str(), m.smape, m.mase, num(m.pinball).c_str(), m.coverage_80,
          num(m.width_80).c_str(), m.under_forecast_fraction, num(m.under_forecast_mae).c_str(),
          num(m.over_forecast_mae).c_str(), num(m.mae_burst).c_str(), num(m.mae_calm).c_str());
      o << buf;
    }
  o << "best per horizon, against the better of the baselines (" << s.options.baselines[0] << ", "
    << s.options.baselines[1] << "):\n";
  for (const auto& b : r.best) {
    std::snprintf(buf, sizeof buf, "  %s s: %s, mae %s = %.3f x %s (%s); %.1f %% below; coverage_80 %.3f\n",
                  format_number(b.horizon_steps * se.step_s).c_str(), b.forecaster.c_str(),
                  num(b.mae).c_str(), b.ratio, b.baseline.c_str(), num(b.baseline_mae).c_str(),
                  100 * (1 - b.ratio), b.coverage_80);
    o << buf;
  }
  if (!r.best.empty() && s.options.worst_count > 0) {
    const ev::Best& b = r.best.back();
    for (const auto& f : r.forecasters) {
      if (f.name != b.forecaster) continue;
      o << "worst " << format_number(s.worst_window_s) << " s windows of " << f.name << " at "
        << format_number(b.horizon_steps * se.step_s) << " s:\n";
      for (const auto& wnd : f.horizons.back().worst) {
        std::snprintf(buf, sizeof buf, "  [%s, %s) s: mae %s, mean actual %s, mean forecast %s\n",
                      format_number(se.time(wnd.first)).c_str(), format_number(se.time(wnd.end)).c_str(),
                      num(wnd.mae).c_str(), num(wnd.mean_actual).c_str(), num(wnd.mean_forecast).c_str());
        o << buf;
      }
    }
  }
  const ev::AnomalyResult& a = r.anomaly;
  o << "anomalies: " << a.forecaster << " at " << format_number(a.horizon_steps * se.step_s) << " s, " << a.k
    << " consecutive forecasts outside the 80 % interval: " << a.events.size() << " event"
    << (a.events.size() == 1 ? "" : "s") << "\n";
  if (a.labelled) {
    const ev::Detection& d = a.detection;
    o << "  labels " << s.labels_path << ": " << d.windows_detected << " of " << d.windows
      << " windows in the evaluated span detected (recall " << num(d.recall) << "), " << d.true_events
      << " of " << d.events << " events inside a window (precision " << num(d.precision) << ")\n";
  }
  o << "results: " << out << "\n";
}

}  // namespace

int cmd_validate_forecast_eval(const std::string& file) {
  read_setup(file);
  std::printf("%s: ok (forecast evaluation file)\n", file.c_str());
  return 0;
}

int cmd_forecast_eval(const ForecastEvalArgs& args) {
  const std::string out =
      args.out.empty() ? (fs::path("results") / (fs::path(args.eval_file).stem().string() + ".h5")).string()
                       : args.out;
  if (fs::is_directory(out))
    throw InputError("command line", 0, "--out", "'" + out + "' is a directory; expected a file name");
  Setup s = read_setup(args.eval_file);

  ev::Report report;
  {
    Progress progress(!args.quiet && isatty(STDERR_FILENO));
    std::mutex mu;
    try {
      report = ev::evaluate(s.candidates, s.series, s.options, [&](double f, const std::string& name) {
        std::lock_guard<std::mutex> lock(mu);
        progress(f, name);
      });
    } catch (const ev::CandidateError& e) {
      Params* section = s.sections.at(e.candidate).get();
      if (!section || !e.file().empty()) throw InputError(e.file(), e.line(), e.field(), e.message());
      section->fail(section->has("model") ? "model" : "kind",
                    "a forecaster that takes this series: " +
                        (e.field().empty() ? std::string() : "'" + e.field() + "': ") + e.message());
    }
  }

  ForecastEvalMeta meta;
  {
    std::ifstream in(args.eval_file, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    meta.text = {{"eval_toml", buf.str()},        {"eval_file", args.eval_file},
                 {"trace_path", s.trace_path},    {"column", s.column},
                 {"labels_path", s.labels_path},  {"autoscale_version", AUTOSCALE_VERSION},
                 {"hdf5_version", hdf5_version()}};
  }
  meta.numbers = {{"step_s", s.series.step_s},
                  {"t0_s", s.series.t0_s},
                  {"train_until_s", s.series.time(s.options.train_size)},
                  {"season_steps", s.options.season_steps},
                  {"stride_steps", s.options.stride_steps},
                  {"burst_window_steps", s.options.burst_window_steps},
                  {"burst_z", s.options.burst_z},
                  {"worst_window_s", s.worst_window_s}};
  meta.value_units = s.column == "rps" ? "1/s" : s.column;
  if (fs::path(out).has_parent_path()) {
    std::error_code ec;
    fs::create_directories(fs::path(out).parent_path(), ec);
    if (ec)
      throw InputError(
          "command line", 0, "--out",
          "cannot create the directory of '" + out + "': " + ec.message() + " (expected a writable path)");
  }
  write_forecast_eval(out, meta, s.series, report);

  if (args.json)
    std::cout << report_json(args.eval_file, s, report, out).dump(2) << "\n";
  else
    print_report(std::cout, args.eval_file, s, report, out);
  return 0;
}

}  // namespace autoscale
