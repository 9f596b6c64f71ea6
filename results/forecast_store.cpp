// Forecast evaluation files (forecast_store.hpp; layout in results/SCHEMA.md).
#include "results/forecast_store.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <string>
#include <vector>

#include "results/hdf5_io.hpp"

namespace autoscale {

namespace {

using namespace h5io;
namespace ev = forecast::eval;

constexpr int kSchemaVersion = 1;
// No object carries a modification time, so equal data gives equal files.
constexpr bool kGroupTimes = false;

Node group(const Node& parent, const std::string& name) {
  return create_group(parent, name, kGroupTimes);
}

// A horizon's group name: its effective horizon in seconds ("900", "1800", "0.5").
std::string seconds_name(double s) {
  char buf[64];
  if (s == std::floor(s) && std::fabs(s) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", s);
  else
    std::snprintf(buf, sizeof buf, "%.17g", s);
  return buf;
}

constexpr std::size_t kMetrics = std::size(ev::kMetricFields);

struct ResultRec {
  const char* forecaster;
  const char* kind;
  double horizon_s;
  int64_t horizon_steps, n;
  double metrics[kMetrics];  // ev::kMetricFields, in order
};
struct BestRec {
  double horizon_s;
  int64_t horizon_steps;
  const char* forecaster;
  double mae;
  const char* baseline;
  double baseline_mae, mae_ratio, coverage_80;
};
struct WindowRec {
  double start_s, end_s;
  int64_t n;
  double mae, mean_actual, mean_forecast;
};
struct EventRec {
  double start_s, end_s;
  uint8_t labelled;
};
struct LabelRec {
  double start_s, end_s;
  uint8_t evaluated, detected;
};

void write_results(const Node& root, const ev::Series& s, const ev::Report& r) {
  std::vector<ResultRec> rows;
  for (const auto& f : r.forecasters)
    for (const auto& h : f.horizons) {
      ResultRec row{f.name.c_str(),
                    f.kind.c_str(),
                    h.forecasts.horizon_steps * s.step_s,
                    h.forecasts.horizon_steps,
                    static_cast<int64_t>(h.metrics.n),
                    {}};
      for (std::size_t i = 0; i < kMetrics; ++i) row.metrics[i] = h.metrics.*ev::kMetricFields[i].value;
      rows.push_back(row);
    }
  Table<ResultRec> t(root, "results");
  t.text(RESULTS_FIELD(ResultRec, forecaster))
      .text(RESULTS_FIELD(ResultRec, kind))
      .real(RESULTS_FIELD(ResultRec, horizon_s))
      .int64(RESULTS_FIELD(ResultRec, horizon_steps))
      .int64(RESULTS_FIELD(ResultRec, n));
  for (std::size_t i = 0; i < kMetrics; ++i)
    t.real(ev::kMetricFields[i].name, HOFFSET(ResultRec, metrics) + i * sizeof(double));
  t.write(rows);

  std::vector<BestRec> best;
  for (const auto& b : r.best)
    best.push_back({b.horizon_steps * s.step_s, b.horizon_steps, b.forecaster.c_str(), b.mae,
                    b.baseline.c_str(), b.baseline_mae, b.ratio, b.coverage_80});
  Table<BestRec> bt(root, "best");
  bt.real(RESULTS_FIELD(BestRec, horizon_s))
      .int64(RESULTS_FIELD(BestRec, horizon_steps))
      .text(RESULTS_FIELD(BestRec, forecaster))
      .real(RESULTS_FIELD(BestRec, mae))
      .text(RESULTS_FIELD(BestRec, baseline))
      .real(RESULTS_FIELD(BestRec, baseline_mae))
      .real(RESULTS_FIELD(BestRec, mae_ratio))
      .real(RESULTS_FIELD(BestRec, coverage_80));
  bt.write(best);
}

void write_horizon(const Node& parent, const ev::Series& s, const ev::HorizonResult& h,
                   const std::string& units) {
  const ev::HorizonForecasts& f = h.forecasts;
  Node g = group(parent, seconds_name(f.horizon_steps * s.step_s));
  attr_double(g, "horizon_s", f.horizon_steps * s.step_s);
  attr_int(g, "horizon_steps", f.horizon_steps);
  for (const auto& m : ev::kMetricFields) attr_double(g, m.name, h.metrics.*m.value);
  std::vector<double> time(f.target.size()), error(f.target.size());
  for (std::size_t i = 0; i < f.target.size(); ++i) {
    time[i] = s.time(f.target[i]);
    error[i] = f.actual[i] - f.p50[i];
  }
  write_doubles(g, "target_time_s", time, "s");
  write_doubles(g, "actual", f.actual, units);
  write_doubles(g, "p10", f.p10, units);
  write_doubles(g, "p50", f.p50, units);
  write_doubles(g, "p90", f.p90, units);
  write_doubles(g, "error", error, units);
  std::vector<WindowRec> rows;
  for (const auto& w : h.worst)
    rows.push_back(
        {s.time(w.first), s.time(w.end), static_cast<int64_t>(w.n), w.mae, w.mean_actual, w.mean_forecast});
  Table<WindowRec> t(g, "worst_windows");
  t.real(RESULTS_FIELD(WindowRec, start_s))
      .real(RESULTS_FIELD(WindowRec, end_s))
      .int64(RESULTS_FIELD(WindowRec, n))
      .real(RESULTS_FIELD(WindowRec, mae))
      .real(RESULTS_FIELD(WindowRec, mean_actual))
      .real(RESULTS_FIELD(WindowRec, mean_forecast));
  t.write(rows);
}

void write_anomaly(const Node& root, const ev::Series& s, const ev::Report& r) {
  const ev::AnomalyResult& a = r.anomaly;
  Node g = group(root, "anomaly");
  attr_string(g, "forecaster", a.forecaster);
  attr_double(g, "horizon_s", a.horizon_steps * s.step_s);
  attr_int(g, "k_steps", a.k);
  attr_int(g, "labelled", a.labelled ? 1 : 0);
  const ev::Detection& d = a.detection;
  attr_double(g, "precision", d.precision);
  attr_double(g, "recall", d.recall);
  attr_double(g, "f1", d.f1);
  attr_int(g, "windows", static_cast<int64_t>(d.windows));
  attr_int(g, "windows_detected", static_cast<int64_t>(d.windows_detected));
  attr_int(g, "true_events", static_cast<int64_t>(d.true_events));
  write_flags(g, "alarm", a.alarms);
  std::vector<EventRec> events;
  for (std::size_t i = 0; i < a.events.size(); ++i)
    events.push_back({s.time(a.events[i].first), s.time(a.events[i].last) + s.step_s,
                      static_cast<uint8_t>(a.labelled && d.event_true.at(i))});
  Table<EventRec> et(g, "events");
  et.real(RESULTS_FIELD(EventRec, start_s))
      .real(RESULTS_FIELD(EventRec, end_s))
      .flag(RESULTS_FIELD(EventRec, labelled));
  et.write(events);
  std::vector<LabelRec> labels;
  for (std::size_t i = 0; i < a.labels.size(); ++i)
    labels.push_back({a.labels[i].start_s, a.labels[i].end_s,
                      static_cast<uint8_t>(i < d.window_evaluated.size() && d.window_evaluated[i]),
                      static_cast<uint8_t>(i < d.window_detected.size() && d.window_detected[i])});
  Table<LabelRec> lt(g, "labels");
  lt.real(RESULTS_FIELD(LabelRec, start_s))
      .real(RESULTS_FIELD(LabelRec, end_s))
      .flag(RESULTS_FIELD(LabelRec, evaluated))
      .flag(RESULTS_FIELD(LabelRec, detected));
  lt.write(labels);
}

void write_file(const std::string& path, const ForecastEvalMeta& meta, const ev::Series& s,
                const ev::Report& r) {
  Node f = create_file(path);
  {
    attr_string(f, "file_kind", "forecast_eval");
    attr_int(f, "schema_version", kSchemaVersion);
    for (const auto& [k, v] : meta.text) attr_string(f, k, v);
    for (const auto& [k, v] : meta.numbers) attr_double(f, k, v);
    attr_double(f, "mase_scale", r.mase_scale);
    {
      Node g = group(f, "series");
      std::vector<double> time(s.values.size());
      for (std::size_t i = 0; i < time.size(); ++i) time[i] = s.time(i);
      write_doubles(g, "time_s", time, "s");
      write_doubles(g, "actual", s.values, meta.value_units);
      write_flags(g, "burst", r.burst);
    }
    write_results(f, s, r);
    {
      Node g = group(f, "forecasters");
      for (const auto& fr : r.forecasters) {
        Node fg = group(g, fr.name);
        attr_string(fg, "kind", fr.kind);
        for (const auto& h : fr.horizons) write_horizon(fg, s, h, meta.value_units);
      }
    }
    write_anomaly(f, s, r);
  }
  finish_file(f);
}

}  // namespace

void write_forecast_eval(const std::string& path, const ForecastEvalMeta& meta, const ev::Series& s,
                         const ev::Report& r) {
  QuietErrors quiet;
  write_replacing(path, [&](const std::string& tmp) { write_file(tmp, meta, s, r); });
}

}  // namespace autoscale
