#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "controllers/base/error.hpp"
#include "forecasters/models.hpp"

namespace autoscale::forecast {

double normal_quantile(double p) {
  if (!(p > 0 && p < 1))
    throw InputError("", 0, "quantile", "a probability in (0, 1), got " + std::to_string(p));
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,  -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01, -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double lo = 0.02425;
  if (p < lo) {
    double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - lo) return -normal_quantile(1 - p);
  double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

void Model::push(double value) {
  if (!std::isfinite(value)) throw InputError("", 0, "value", "a finite number");
  if (ready()) {
    double e = value - point(1);
    sum_sq_ += e * e;
    ++errors_;
  }
  history_.push_back(value);
  ++n_;
  update(value);
  std::size_t k = std::max<std::size_t>({keep(), min_fit(), 1});
  if (history_.size() > 2 * k + 64) history_.erase(history_.begin(), history_.end() - static_cast<long>(k));
  if (!calibrated_ && min_fit() > 0 && history_.size() >= min_fit()) {
    std::vector<double> copy = history_;
    double first_t = have_t_ ? last_t_ - static_cast<double>(copy.size() - 1) * step_s_ : 0.0;
    fit(copy, step_s_, first_t);
  }
}

void Model::observe(double t_s, double value) {
  if (have_t_ && !(t_s > last_t_))
    throw InputError(
        "", 0, "t_s",
        "times in increasing order (" + std::to_string(t_s) + " after " + std::to_string(last_t_) + ")");
  if (have_t_ && step_s_ <= 0) step_s_ = t_s - last_t_;
  last_t_ = t_s;
  have_t_ = true;
  push(value);
}

void Model::fit(const std::vector<double>& values, double step_s, double t0_s) {
  if (!(step_s > 0)) throw InputError("", 0, "step_s", "a positive step");
  step_s_ = step_s;
  if (!values.empty()) {
    last_t_ = t0_s + static_cast<double>(values.size() - 1) * step_s;
    have_t_ = true;
  }
  history_.clear();
  n_ = 0;
  sum_sq_ = 0;
  errors_ = 0;
  reset();
  if (min_fit() > 0 && values.size() >= min_fit()) {
    calibrate(values);
    calibrated_ = true;
  }
  for (double v : values) push(v);
}

double Model::sigma() const {
  return errors_ ? std::sqrt(sum_sq_ / static_cast<double>(errors_)) : 0.0;
}

void Model::quantile_row(int h, const std::vector<double>& quantiles, std::vector<double>& out) const {
  double mu = point(h), s = sd(h);
  for (std::size_t i = 0; i < quantiles.size(); ++i) out[i] = mu + s * normal_quantile(quantiles[i]);
}

Forecast Model::predict(const std::vector<int>& horizons_steps, const std::vector<double>& quantiles) const {
  if (history_.empty()) throw InputError("", 0, "history", "at least one observation before a forecast");
  for (int h : horizons_steps)
    if (h < 1) throw InputError("", 0, "horizons_steps", "horizons of at least 1 step");
  for (double q : quantiles)
    if (!(q > 0 && q < 1)) throw InputError("", 0, "quantiles", "probabilities in (0, 1)");
  Forecast f{horizons_steps, quantiles, std::vector<std::vector<double>>(horizons_steps.size())};
  double fallback_sd = 0;
  if (!ready() && history_.size() >= 2) {
    double ss = 0;
    for (std::size_t i = 1; i < history_.size(); ++i) ss += std::pow(history_[i] - history_[i - 1], 2);
    fallback_sd = std::sqrt(ss / static_cast<double>(history_.size() - 1));
  }
  for (std::size_t i = 0; i < horizons_steps.size(); ++i) {
    std::vector<double>& row = f.values[i];
    row.resize(quantiles.size());
    int h = horizons_steps[i];
    if (ready()) {
      quantile_row(h, quantiles, row);
    } else {
      for (std::size_t j = 0; j < quantiles.size(); ++j)
        row[j] =
            history_.back() + fallback_sd * std::sqrt(static_cast<double>(h)) * normal_quantile(quantiles[j]);
    }
  }
  return f;
}

}  // namespace autoscale::forecast
