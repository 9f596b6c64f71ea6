#pragma once
// Forecasters: plain series in, multi-horizon quantile forecasts out. No engine, no SimGrid, nothing of sim/:
// a controller (or `autoscale forecast-eval`) hands a series over and reads the forecast back.
//
// A forecaster observes one series at a fixed step (`observe`, in time order), can be fitted offline on
// history
// (`fit`, which replaces what it has seen), and predicts several horizons (in steps) ahead, each as
// quantiles. `predict` does no fitting: it reads the state that `observe` keeps up to date, so it is cheap in
// a control loop. Before a model has enough history (one period for `seasonal_naive`, two for `holt_winters`,
// `order` + `differencing`
// + enough for the least squares for `ar`, ...) it answers as `naive` does; with no observation at all it
// throws. Models that need fitting (`holt_winters`, `ar`, `fft`) fit themselves once when `observe` has
// gathered enough history; after that `observe` updates their state only, and a refit is an explicit `fit`
// call.
//
// Quantiles, per kind (sigma: the RMS of the model's own one-step-ahead errors on what it has seen, z: the
// normal quantile):
//   naive            normal, sigma * sqrt(h) (random walk)
//   seasonal_naive   normal, sigma * sqrt(floor((h - 1) / period) + 1)
//   moving_average   normal, sigma (constant in h)
//   ewma             normal, sigma * sqrt(1 + (h - 1) alpha^2) (ARIMA(0,1,1) equivalent)
//   holt_winters     normal, sigma^2 (1 + sum_{j<h} c_j^2), c_j = alpha (1 + beta phi (1 - phi^j) / (1 -
//   phi))
//                    + gamma [j mod period = 0] (exact for additive ETS, an approximation for multiplicative)
//   ar               normal, sigma^2 sum_{j<h} psi_j^2 (psi-weights of the AR polynomial times (1 - B)^d)
//   fft              empirical: quantiles of the in-sample residuals of the fitted curve (the same for every
//   h) ensemble         the members' quantiles averaged with the ensemble's weights
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "controllers/params.hpp"

namespace autoscale::forecast {

// Per horizon (in the order asked), the value at each quantile (in the order asked).
struct Forecast {
  std::vector<int> horizons_steps;
  std::vector<double> quantiles;
  std::vector<std::vector<double>> values;  // values[horizon index][quantile index]
  double at(std::size_t horizon_index, std::size_t quantile_index) const {
    return values.at(horizon_index).at(quantile_index);
  }
};

inline const std::vector<double>& default_quantiles() {
  static const std::vector<double> q{0.1, 0.5, 0.9};
  return q;
}

class Forecaster {
 public:
  virtual ~Forecaster() = default;
  // One observation; t_s strictly increasing (an InputError otherwise), one step after the previous one.
  virtual void observe(double t_s, double value) = 0;
  // Fits on `values` (one every step_s seconds, oldest first, the first at t0_s) and takes them as the
  // history seen so far: the next observe() continues after t0_s + (size - 1) * step_s. A model trained
  // offline and loaded (the LibTorch kinds) is frozen: fit() then only takes the history.
  virtual void fit(const std::vector<double>& values, double step_s, double t0_s) = 0;
  void fit(const std::vector<double>& values, double step_s) { fit(values, step_s, 0.0); }
  // The farthest horizon predict() answers (the LibTorch kinds have one output head per step up to theirs).
  virtual int max_horizon_steps() const { return std::numeric_limits<int>::max(); }
  // The step the model was trained at, in seconds (0: any step; observe() then learns it from the times).
  virtual double trained_step_s() const { return 0; }
  // horizons_steps >= 1, quantiles in (0, 1); an InputError otherwise, or when nothing has been observed.
  virtual Forecast predict(const std::vector<int>& horizons_steps,
                           const std::vector<double>& quantiles = default_quantiles()) const = 0;
  virtual std::string kind() const = 0;
};

// `kind`: naive, seasonal_naive, moving_average, ewma, holt_winters, ar, fft, ensemble. Reads the kind's keys
// from `settings` (range errors name the key), then calls settings.finish(). An unknown kind is an InputError
// on "kind".
std::unique_ptr<Forecaster> make_forecaster(const std::string& kind, Params& settings);
std::vector<std::string> forecaster_kinds();

// The standard normal quantile (Acklam's rational approximation, relative error < 1.2e-9).
double normal_quantile(double p);

}  // namespace autoscale::forecast
