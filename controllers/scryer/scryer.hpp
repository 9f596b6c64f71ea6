#pragma once
// `scryer`: Netflix's predictive auto scaling engine (Netflix Tech Blog, "Scryer: Netflix's Predictive Auto
// Scaling Engine", parts 1 and 2, 2013), as we rebuild it. The arrival rate is kept in bins of `step_s`; two
// predictors forecast it: an FFT one (forecasters' `fft`: a linear trend plus the strongest harmonics of the
// last `fft_days` days) and a similar-days one (similar_days.hpp). Their forecasts are ensembled (`ensemble`:
// weighted by the inverse of each one's recent mean absolute one-bin error, or the plain mean); the
// capacity is the peak of the ensemble from now to now + `lead_s`, over `rps_per_instance`, plus `headroom`.
// Desired = max(that capacity, the reactive backstop's decision): the backstop, [controller.inner], is any
// controller (AWS target tracking, as Netflix kept its reactive policies). Until both predictors have the
// history they need, the backstop alone decides.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/scryer/similar_days.hpp"
#include "forecasters/models.hpp"

namespace autoscale::scryer {

struct ScryerConfig {
  std::vector<std::string> services;
  double interval_s = 60;  // without a backstop; else the backstop's
  double step_s = 300;
  double period_s = 86400;
  double lead_s = 600;
  double rps_per_instance = 0;
  double headroom = 0.1;
  int harmonics = 8;
  int fft_days = 7;
  bool weighted = true;  // ensemble: "weighted" | "mean"
  int error_window_steps = 12;
  SimilarDaysSettings days;
};

// The ensemble's weights for (fft, similar days): 1 / (mean absolute error + 1e-9) over each one's recorded
// errors, normalised; equal when either has none (or for "mean").
std::pair<double, double> ensemble_weights(const std::vector<double>& fft_errors,
                                           const std::vector<double>& days_errors, bool weighted);

class ScryerController : public Controller {
 public:
  // history: per service, arrival rate means over bins of step_s ending at t = 0, oldest first.
  ScryerController(ScryerConfig cfg, std::unique_ptr<Controller> backstop,
                   const std::map<std::string, std::vector<double>>& history);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return backstop_ ? backstop_->interval_s() : cfg_.interval_s; }
  std::vector<std::string> scale_to_zero_services() const override {
    return backstop_ ? backstop_->scale_to_zero_services() : std::vector<std::string>{};
  }
  std::map<std::string, MetricWindows> metric_windows() const override {
    return backstop_ ? backstop_->metric_windows() : std::map<std::string, MetricWindows>{};
  }

 private:
  struct State {
    std::vector<double> bins;  // complete bins, the newest kept
    long last_bin = -1;        // index of bins.back() (bin b covers [b step_s, (b + 1) step_s))
    long open_bin = 0;
    double open_sum = 0;
    int open_count = 0;
    std::unique_ptr<forecast::FftForecaster> fft;  // fitted at the newest complete bin
    double fft_next = 0, days_next = 0;            // their forecasts of the next bin, for the errors
    bool have_next = false;
    std::vector<double> fft_errors, days_errors;  // the newest error_window_steps absolute errors
  };
  void close_bin(State& st, double value);
  void refit(State& st);
  bool ready(const State& st) const;
  ScryerConfig cfg_;
  std::unique_ptr<Controller> backstop_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale::scryer
