#pragma once
// direct_ar: a direct multi-horizon autoregression with seasonal and level terms, on a log scale. For each
// horizon h its own least-squares fit (no iteration of a one-step model, whose errors compound):
//
//   z_{t+h} - z_t = b0 + sum_{j<p} b_j (z_{t-j} - z_{t-j-1})
//                 + sum_{M in seasons, M >= h} [ c_M (z_{t+h-M} - z_{t-M}) + d_M (z_t - z_{t-M}) ]
//                 + sum_{L in levels} e_L (z_t - mean(z_{t-L+1..t})) + error
//
// z = log(y + k) with k = 0.1 x the mean of the values of the last fit (`transform = "log"`, the default:
// traffic is multiplicative — a match day, a burst, a growing trend), or z = y (`transform = "none"`). The
// seasonal terms say what happened next one season ago and how far today is from it; the seasons are
// `period_steps` and, with `weekly`, 7 x `period_steps`, each used once the data holds two of it. The level
// terms (windows of period_steps / 24 and period_steps, at least 2 steps) say how far the newest value is
// from the recent mean: a burst decays. The quantiles are normal on the z scale (sd: the head's in-sample
// residuals) mapped back, so the median is exp(z forecast) - k, never below 0.
//
// The heads are fitted (on first use) on everything the model has seen since fit(), and fitted again every
// max(period_steps, 100) observations (the newest max(20000, 28 x period_steps) values at most), so that the
// model follows a change of regime. Until the first fit (min_fit values) it answers as naive.
#include <map>
#include <vector>

#include "forecasters/models.hpp"

namespace autoscale::forecast {

class DirectArForecaster : public Model {
 public:
  DirectArForecaster(int order, std::size_t period_steps, bool weekly, bool log);
  std::string kind() const override { return "direct_ar"; }
  // The seasons and level windows in use (steps), and the log offset k (0 without the log transform).
  const std::vector<std::size_t>& seasons() const { return seasons_; }
  const std::vector<std::size_t>& levels() const { return levels_; }
  double offset() const { return k_; }

 protected:
  void reset() override;
  void calibrate(const std::vector<double>& values) override;
  std::size_t min_fit() const override { return static_cast<std::size_t>(4 * p_ + 40); }
  std::size_t keep() const override { return static_cast<std::size_t>(p_) + 2; }
  void update(double value) override;
  bool ready() const override;
  double point(int h) const override;
  double sd(int h) const override;
  void quantile_row(int h, const std::vector<double>& quantiles, std::vector<double>& out) const override;

 private:
  struct Head {
    std::vector<std::size_t> seasons;
    std::vector<double> beta;
    double sd = 0;
  };
  const Head& head(int h) const;
  double z(double y) const;
  double back(double v) const;
  void append(double zv);
  // The seasons and level windows the data holds, the heads to be fitted again.
  void configure();
  double z_forecast(int h) const;

  int p_;
  std::size_t m_;
  bool weekly_, log_;
  std::size_t refit_every_, cap_;
  double k_ = 0;
  std::vector<std::size_t> seasons_, levels_;
  std::vector<double> z_, cum_;  // z of every value seen since fit() (at most cap_ plus a refit), prefix sums
  std::size_t replay_ = 0;       // values of the last fit still to come through update()
  std::size_t since_refit_ = 0;
  mutable std::map<int, Head> heads_;
};

// make_forecaster's factory for "direct_ar": `order` (12), `period_steps` (24), `weekly` (true), `transform`
// ("log").
std::unique_ptr<Forecaster> make_direct_ar(Params& s);

}  // namespace autoscale::forecast
