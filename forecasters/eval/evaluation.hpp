#pragma once
// Rolling-origin evaluation of forecasters (`autoscale forecast-eval`): pure logic on a plain series, no
// files, no TOML, no HDF5. Every forecaster is fitted on the training part, then walks the rest of the
// series: at each origin it predicts every horizon (p10, p50, p90: the 80 % interval and the median) from
// what it has observed up to the origin, then observes the next values. It never sees a value after its
// origin.
//
// Metrics (per forecaster and horizon, over the forecasts whose target is inside the series; y the actual, f
// the median forecast, [lo, hi] the 80 % interval):
//   mae             mean |y - f|
//   rmse            sqrt(mean (y - f)^2)
//   smape           mean 200 |y - f| / (|y| + |f|), in percent (a term with y = f = 0 is 0)
//   mase            mae / mean |y_t - y_{t-m}| over the training part (m: the season; 1 when the training
//   part
//                   is not longer than a season); NaN when that mean is 0
//   pinball         mean over q in {0.1, 0.5, 0.9} of mean max(q (y - f_q), (q - 1) (y - f_q))
//   coverage_80     fraction of y in [lo, hi];  width_80: mean (hi - lo)
//   under/over      a forecast is under when f < y (the fleet lags), over when f > y (it overshoots): the
//                   fraction of forecasts of each kind and their mean |y - f|
//   burst/calm      mae over the targets inside bursts (burst_mask) and outside them
#include <cstddef>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"
#include "forecasters/forecaster.hpp"

namespace autoscale::forecast::eval {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Values at a fixed step: values[i] covers [time(i), time(i) + step_s).
struct Series {
  std::vector<double> values;
  double t0_s = 0;
  double step_s = 1;
  double time(std::size_t i) const { return t0_s + static_cast<double>(i) * step_s; }
};

// One forecaster's forecasts at one horizon, one row per origin whose target is inside the series, in origin
// order.
struct HorizonForecasts {
  int horizon_steps = 1;
  std::vector<std::size_t> target;  // series index of the value forecast (origin + horizon)
  std::vector<double> actual, p10, p50, p90;
};

// Rolling origin: fit on values[0, train_size), first origin train_size - 1, then one origin every
// stride_steps while the shortest horizon's target is inside the series. `progress` gets the fraction done.
struct RollingOptions {
  std::size_t train_size = 0;
  std::vector<int> horizons_steps;
  int stride_steps = 1;
};
std::vector<HorizonForecasts> rolling_origin(Forecaster& f, const Series& s, const RollingOptions& o,
                                             const std::function<void(double)>& progress = {});

// The metrics of the file's header comment; NaN where undefined (no forecasts, no burst target, ...).
struct Metrics {
  std::size_t n = 0;
  double mae = kNaN, rmse = kNaN, smape = kNaN, mase = kNaN, pinball = kNaN;
  double coverage_80 = kNaN, width_80 = kNaN;
  double bias = kNaN;  // mean (f - y)
  double under_forecast_fraction = kNaN, under_forecast_mae = kNaN;
  double over_forecast_fraction = kNaN, over_forecast_mae = kNaN;
  double burst_fraction = kNaN, mae_burst = kNaN, mae_calm = kNaN;
};

// Every metric but n, by name, in the order reports and result files list them (README.md;
// results/SCHEMA.md).
struct MetricField {
  const char* name;
  double Metrics::*value;
};
inline constexpr MetricField kMetricFields[] = {
    {"mae", &Metrics::mae},
    {"rmse", &Metrics::rmse},
    {"smape", &Metrics::smape},
    {"mase", &Metrics::mase},
    {"pinball", &Metrics::pinball},
    {"coverage_80", &Metrics::coverage_80},
    {"width_80", &Metrics::width_80},
    {"bias", &Metrics::bias},
    {"under_forecast_fraction", &Metrics::under_forecast_fraction},
    {"under_forecast_mae", &Metrics::under_forecast_mae},
    {"over_forecast_fraction", &Metrics::over_forecast_fraction},
    {"over_forecast_mae", &Metrics::over_forecast_mae},
    {"burst_fraction", &Metrics::burst_fraction},
    {"mae_burst", &Metrics::mae_burst},
    {"mae_calm", &Metrics::mae_calm}};

// The building blocks, on equal-length vectors (NaN when empty).
double mae(const std::vector<double>& y, const std::vector<double>& f);
double rmse(const std::vector<double>& y, const std::vector<double>& f);
double smape(const std::vector<double>& y, const std::vector<double>& f);
double pinball(const std::vector<double>& y, const std::vector<double>& f_q, double q);
double coverage(const std::vector<double>& y, const std::vector<double>& lo, const std::vector<double>& hi);
// Mean |x_t - x_{t-m}| (the in-sample seasonal naive MAE, MASE's scale), m = season, or 1 when x has no
// more than `season` values; NaN when x has fewer than 2.
double mase_scale(const std::vector<double>& x, int season);

// `burst` is indexed by series index (empty: no burst split).
Metrics compute_metrics(const HorizonForecasts& f, double mase_scale, const std::vector<bool>& burst);

// Bursts: x_t is in a burst when it exceeds the median of the `window_steps` values before it by more than
// z * 1.4826 * their median absolute deviation (a robust z-score; with a MAD of 0, by anything). The first
// window_steps values are calm.
std::vector<bool> burst_mask(const std::vector<double>& x, int window_steps, double z);

// The k worst windows: for every window of `length_steps` consecutive series indices that starts at a target
// and ends by the last one, the mean |y - f| of the forecasts whose target is inside it; the k highest,
// greedily, no two overlapping (ties: the earlier window).
struct Window {
  std::size_t first = 0, end = 0;  // series indices [first, end)
  std::size_t n = 0;               // forecasts inside
  double mae = 0, mean_actual = 0, mean_forecast = 0;
};
std::vector<Window> worst_windows(const HorizonForecasts& f, std::size_t length_steps, std::size_t k);

// Residual anomaly detector: row i alarms when rows i-k+1..i (consecutive forecasts) all have their actual
// outside [p10, p90]. An event is a maximal run of alarming rows.
std::vector<bool> residual_alarms(const HorizonForecasts& f, int k);
struct Event {
  std::size_t first = 0, last = 0;  // series indices of its first and last alarm
};
std::vector<Event> alarm_events(const HorizonForecasts& f, const std::vector<bool>& alarms);

// Labelled anomaly windows, [start_s, end_s] in the series' time.
struct LabelWindow {
  double start_s = 0, end_s = 0;
};
// precision: events with an alarm inside a window / events; recall: windows with an alarm inside / windows
// (only windows that overlap [from_s, to_s], the evaluated targets' span). NaN when the denominator is 0.
struct Detection {
  std::size_t events = 0, true_events = 0, windows = 0, windows_detected = 0;
  double precision = kNaN, recall = kNaN, f1 = kNaN;
  std::vector<bool> event_true;       // per event
  std::vector<bool> window_detected;  // per window (false for a window outside the evaluated span)
  std::vector<bool> window_evaluated;
};
Detection score_detection(const std::vector<Event>& events, const Series& s,
                          const std::vector<LabelWindow>& windows, double from_s, double to_s);

// The whole evaluation.
struct Candidate {
  std::string name;
  std::unique_ptr<Forecaster> forecaster;
};
struct EvalOptions {
  std::size_t train_size = 0;
  std::vector<int> horizons_steps;  // distinct, ascending
  int stride_steps = 1;
  int season_steps = 1;
  std::size_t worst_count = 3, worst_length_steps = 12;
  int burst_window_steps = 12;
  double burst_z = 3;
  std::vector<std::string> baselines;  // names of the naive and seasonal_naive candidates
  int anomaly_k = 6;
  std::string anomaly_forecaster;  // "": the best at the shortest horizon
  bool labelled = false;
  std::vector<LabelWindow> labels;
  int jobs = 1;  // forecasters evaluated in parallel
};
struct HorizonResult {
  HorizonForecasts forecasts;
  Metrics metrics;
  std::vector<Window> worst;
};
struct ForecasterResult {
  std::string name, kind;
  std::vector<HorizonResult> horizons;  // in EvalOptions::horizons_steps order
};
// Per horizon: the lowest-MAE forecaster and the better (lower-MAE) baseline.
struct Best {
  int horizon_steps = 1;
  std::string forecaster, baseline;
  double mae = kNaN, baseline_mae = kNaN, ratio = kNaN, coverage_80 = kNaN;
};
struct AnomalyResult {
  std::string forecaster;
  int horizon_steps = 1, k = 1;
  std::vector<bool> alarms;  // per row of that forecaster's forecasts at that horizon
  std::vector<Event> events;
  bool labelled = false;
  std::vector<LabelWindow> labels;
  Detection detection;
};
struct Report {
  std::vector<bool> burst;  // per series index
  double mase_scale = kNaN;
  std::vector<ForecasterResult> forecasters;  // in candidate order
  std::vector<Best> best;                     // per horizon
  AnomalyResult anomaly;
};
// What evaluate() throws when a candidate's forecaster rejects the series with an InputError: which
// candidate.
class CandidateError : public InputError {
 public:
  CandidateError(std::size_t index, const InputError& e)
      : InputError(e.file(), e.line(), e.field(), e.message()), candidate(index) {}
  std::size_t candidate;
};

// `progress` gets (fraction done, the forecaster being evaluated); it may be called from worker threads, one
// call at a time. Candidates are evaluated in parallel (`jobs`), each on its own forecaster; the first
// candidate's error (in candidate order) is rethrown, an InputError as a CandidateError.
Report evaluate(std::vector<Candidate>& candidates, const Series& s, const EvalOptions& o,
                const std::function<void(double, const std::string&)>& progress = {});

}  // namespace autoscale::forecast::eval
