#pragma once
// The classical forecasters behind make_forecaster (forecaster.hpp), declared here so that tests and tools
// can read what a model fitted (AR coefficients, FFT harmonics, ensemble weights).
#include <cstddef>
#include <vector>

#include "forecasters/forecaster.hpp"

namespace autoscale::forecast {

// What every single-series model shares: the time-order check, the history, the one-step error statistics
// behind sigma, the naive fallback before the model is ready, and the automatic first fit.
class Model : public Forecaster {
 public:
  void observe(double t_s, double value) override;
  using Forecaster::fit;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override;
  Forecast predict(const std::vector<int>& horizons_steps,
                   const std::vector<double>& quantiles) const override;
  // RMS of the one-step-ahead errors seen since the last fit (0 before any).
  double sigma() const;

 protected:
  // Forget the state (not the fitted parameters).
  virtual void reset() {}
  // Fit the parameters on `values` (called by fit() before the values are replayed through update()).
  virtual void calibrate(const std::vector<double>& /*values*/) {}
  // The history length that calibrate() needs (0: no calibration).
  virtual std::size_t min_fit() const { return 0; }
  // New value (already at history().back(), n() counts it).
  virtual void update(double /*value*/) {}
  virtual bool ready() const = 0;
  virtual double point(int h) const = 0;
  virtual double sd(int h) const = 0;
  // The values at `quantiles` h steps ahead; the default is normal with point(h) and sd(h).
  virtual void quantile_row(int h, const std::vector<double>& quantiles, std::vector<double>& out) const;
  // History kept (at least); the model may read history() that far back.
  virtual std::size_t keep() const { return 1; }

  const std::vector<double>& history() const { return history_; }
  // Observations since the last fit began (the global index of the next value).
  std::size_t n() const { return n_; }
  bool calibrated_ = false;

 private:
  void push(double value);
  std::vector<double> history_;
  std::size_t n_ = 0;
  double last_t_ = 0;
  bool have_t_ = false;
  double step_s_ = 0;
  double sum_sq_ = 0;
  std::size_t errors_ = 0;
};

class ArForecaster : public Model {
 public:
  ArForecaster(int order, int differencing) : p_(order), d_(differencing) {}
  std::string kind() const override { return "ar"; }
  // phi_1..phi_p of the (differenced) series, and its intercept.
  const std::vector<double>& coefficients() const { return phi_; }
  double intercept() const { return c_; }

 protected:
  void calibrate(const std::vector<double>& values) override;
  std::size_t min_fit() const override;
  bool ready() const override;
  double point(int h) const override;
  double sd(int h) const override;
  std::size_t keep() const override { return min_fit(); }

 private:
  int p_, d_;
  std::vector<double> phi_;
  double c_ = 0;
  std::vector<double> level_poly_;  // AR polynomial on the undifferenced series
};

class FftForecaster : public Model {
 public:
  FftForecaster(int harmonics) : k_(harmonics) {}
  std::string kind() const override { return "fft"; }
  struct Harmonic {
    double period_steps, amplitude, phase;
  };
  const std::vector<Harmonic>& harmonics() const { return harmonics_; }
  double slope() const { return slope_; }

 protected:
  void calibrate(const std::vector<double>& values) override;
  std::size_t min_fit() const override { return 32; }
  bool ready() const override { return calibrated_; }
  double point(int h) const override;
  double sd(int h) const override;
  void quantile_row(int h, const std::vector<double>& quantiles, std::vector<double>& out) const override;
  std::size_t keep() const override { return min_fit(); }

 private:
  double curve(double t) const;
  int k_;
  std::vector<Harmonic> harmonics_;
  double intercept_ = 0, slope_ = 0;
  std::vector<double> residuals_;  // sorted
};

class EnsembleForecaster : public Forecaster {
 public:
  EnsembleForecaster(std::vector<std::unique_ptr<Forecaster>> members, int window_steps);
  void observe(double t_s, double value) override;
  using Forecaster::fit;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override;
  Forecast predict(const std::vector<int>& horizons_steps,
                   const std::vector<double>& quantiles) const override;
  std::string kind() const override { return "ensemble"; }
  int max_horizon_steps() const override;
  double trained_step_s() const override;
  // Each member's weight (sum 1): 1 / (mean absolute one-step error over the window + a tiny epsilon); equal
  // weights before any error is known.
  std::vector<double> weights() const;

 private:
  std::vector<std::unique_ptr<Forecaster>> members_;
  std::size_t window_;
  std::vector<std::vector<double>> errors_;  // per member, ring of absolute one-step errors
  std::size_t next_ = 0, filled_ = 0;
  bool observed_ = false;
};

}  // namespace autoscale::forecast
