// fft: a linear trend plus the top-k harmonics of the detrended history's discrete Fourier transform
// (Scryer-style).
#include <algorithm>
#include <cmath>

#include "forecasters/factories.hpp"
#include "forecasters/models.hpp"

namespace autoscale::forecast {

void FftForecaster::calibrate(const std::vector<double>& x) {
  const std::size_t n = x.size();
  const double nd = static_cast<double>(n);
  // Least-squares line over the index t = 0..n-1.
  double tm = (nd - 1) / 2, ym = 0;
  for (double v : x) ym += v;
  ym /= nd;
  double sxy = 0, sxx = 0;
  for (std::size_t t = 0; t < n; ++t) {
    double dt = static_cast<double>(t) - tm;
    sxy += dt * (x[t] - ym);
    sxx += dt * dt;
  }
  slope_ = sxx > 0 ? sxy / sxx : 0;
  intercept_ = ym - slope_ * tm;
  std::vector<double> r(n);
  for (std::size_t t = 0; t < n; ++t) r[t] = x[t] - intercept_ - slope_ * static_cast<double>(t);
  // DFT bins 1..n/2, the twiddles by rotation (double precision is ample for the lengths a history has).
  const double pi = std::acos(-1.0);
  struct Bin {
    std::size_t k;
    double amp, phase;
  };
  std::vector<Bin> bins;
  for (std::size_t k = 1; k <= n / 2; ++k) {
    double w = 2 * pi * static_cast<double>(k) / nd;
    double cw = std::cos(w), sw = std::sin(w), c = 1, s = 0, re = 0, im = 0;
    for (std::size_t t = 0; t < n; ++t) {
      re += r[t] * c;
      im -= r[t] * s;
      double c2 = c * cw - s * sw;
      s = s * cw + c * sw;
      c = c2;
    }
    double scale = (2 * k == n) ? 1.0 / nd : 2.0 / nd;
    bins.push_back({k, scale * std::hypot(re, im), std::atan2(im, re)});
  }
  std::stable_sort(bins.begin(), bins.end(), [](const Bin& a, const Bin& b) { return a.amp > b.amp; });
  harmonics_.clear();
  for (std::size_t i = 0; i < bins.size() && static_cast<int>(i) < k_; ++i)
    harmonics_.push_back({nd / static_cast<double>(bins[i].k), bins[i].amp, bins[i].phase});
  residuals_.resize(n);
  for (std::size_t t = 0; t < n; ++t) residuals_[t] = x[t] - curve(static_cast<double>(t));
  std::sort(residuals_.begin(), residuals_.end());
}

double FftForecaster::curve(double t) const {
  const double pi = std::acos(-1.0);
  double v = intercept_ + slope_ * t;
  for (const Harmonic& h : harmonics_) v += h.amplitude * std::cos(2 * pi * t / h.period_steps + h.phase);
  return v;
}

double FftForecaster::point(int h) const {
  return curve(static_cast<double>(n() - 1 + static_cast<std::size_t>(h)));
}

double FftForecaster::sd(int) const {
  return sigma();
}

void FftForecaster::quantile_row(int h, const std::vector<double>& quantiles,
                                 std::vector<double>& out) const {
  double mu = point(h);
  for (std::size_t i = 0; i < quantiles.size(); ++i) {
    double e = 0;
    if (!residuals_.empty()) {
      double pos = quantiles[i] * static_cast<double>(residuals_.size() - 1);
      std::size_t lo = static_cast<std::size_t>(pos);
      std::size_t hi = std::min(lo + 1, residuals_.size() - 1);
      e = residuals_[lo] + (pos - static_cast<double>(lo)) * (residuals_[hi] - residuals_[lo]);
    }
    out[i] = mu + e;
  }
}

std::unique_ptr<Forecaster> make_fft(Params& s) {
  return std::make_unique<FftForecaster>(static_cast<int>(read_int(s, "harmonics", 3, 1, 100)));
}

}  // namespace autoscale::forecast
