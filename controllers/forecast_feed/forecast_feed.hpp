#pragma once
// What a forecast-driven controller (`predictive`, `mpc`) keeps per service: its forecaster fed with the
// observed arrival rate every interval, the series for refits, and an online estimate of the capacity per
// instance. And the forecasters' construction from a [controller.forecaster] section, with the checks against
// the controller's interval and horizon.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/registry.hpp"
#include "forecasters/forecaster.hpp"

namespace autoscale {

struct FeedSettings {
  double interval_s = 60;
  int refit_intervals = 60;  // 0: never
  int warmup_intervals = 2;
  // Capacity estimate: completed rps per ready instance x target_utilization / cpu_utilization, an EWMA with
  // weight capacity_alpha, from samples with a ready instance at >= 5 % CPU.
  double target_utilization = 0.6;
  double capacity_alpha = 0.2;
};

class ForecastFeed {
 public:
  explicit ForecastFeed(std::unique_ptr<forecast::Forecaster> model = nullptr) : model_(std::move(model)) {}
  // The interval's observation of the service: when its metrics are valid, the arrival rate is observed and
  // kept (the newest kMaxHistory values), the model refitted every refit_intervals observations (an untrained
  // LibTorch model trains once, when the warm-up ends), and the capacity estimate updated.
  void feed(const ServiceObservation& s, double time_s, const FeedSettings& f);
  // Monitoring's history before the run (ControllerContext::history_arrival_rps, steps of step_s ending at
  // t = 0): re-binned to the controller's interval (means over each interval ending at 0, -interval, ...),
  // observed as if fed before the first decision, then fitted (trained, for LibTorch kinds) when it covers
  // the warm-up. Only the newest kMaxHistory intervals are kept.
  void preload(const std::vector<double>& rps, double step_s, const FeedSettings& f);
  long observed() const { return observed_; }
  bool warm(const FeedSettings& f) const { return observed_ >= f.warmup_intervals; }
  forecast::Forecaster& model() { return *model_; }
  double capacity_rps() const { return capacity_rps_; }  // 0: no estimate yet

  static constexpr std::size_t kMaxHistory = 20000;

 private:
  void observe(double time_s, double rps);           // to the model and the kept history
  void refit(double time_s, const FeedSettings& f);  // on the kept history, whose last value is at time_s
  std::unique_ptr<forecast::Forecaster> model_;
  std::vector<double> history_;
  long observed_ = 0;
  double capacity_rps_ = 0;
};

// One forecaster per service from the controller's [controller.forecaster] section (a kind with its keys, or
// a registry `model`; `naive` when absent), each checked: a trained model's step must be interval_s and its
// horizon reach `horizon_steps` (blamed on `horizon_key`). `default_warmup` receives the observations the
// kind needs before its forecasts are its own.
std::map<std::string, ForecastFeed> make_feeds(Params& p, const ControllerContext& ctx,
                                               const std::vector<std::string>& services, double interval_s,
                                               int horizon_steps, const std::string& horizon_key,
                                               long* default_warmup);

// Preloads every feed whose service has history in `ctx` (no-op without history).
void preload_feeds(std::map<std::string, ForecastFeed>& feeds, const ControllerContext& ctx,
                   const FeedSettings& f);

// `values` (one per step_s, the last ending at t = 0) as means over intervals of interval_s ending at 0,
// -interval_s, ..., oldest first: floor(n * step_s / interval_s) of them, each the exact time-weighted mean
// of the piecewise-constant history over it.
std::vector<double> rebin_history(const std::vector<double>& values, double step_s, double interval_s);

}  // namespace autoscale
