// ar: ARIMA(p, d, 0) by least squares (Eigen), d = 0 or 1.
#include <Eigen/Dense>
#include <cmath>

#include "controllers/base/error.hpp"
#include "forecasters/factories.hpp"
#include "forecasters/models.hpp"

namespace autoscale::forecast {

std::size_t ArForecaster::min_fit() const {
  return static_cast<std::size_t>(std::max(3 * (p_ + 1) + d_, 2 * p_ + d_ + 10));
}

bool ArForecaster::ready() const {
  return calibrated_ && history().size() >= static_cast<std::size_t>(p_ + d_ + 1);
}

void ArForecaster::calibrate(const std::vector<double>& values) {
  std::vector<double> y(values);
  if (d_ == 1) {
    for (std::size_t i = 1; i < values.size(); ++i) y[i - 1] = values[i] - values[i - 1];
    y.pop_back();
  }
  const long p = p_, rows = static_cast<long>(y.size()) - p;
  Eigen::MatrixXd X(rows, p + 1);
  Eigen::VectorXd target(rows);
  for (long r = 0; r < rows; ++r) {
    long t = r + p;
    X(r, 0) = 1;
    for (long j = 1; j <= p; ++j) X(r, j) = y[static_cast<std::size_t>(t - j)];
    target(r) = y[static_cast<std::size_t>(t)];
  }
  Eigen::VectorXd beta = X.colPivHouseholderQr().solve(target);
  c_ = beta(0);
  phi_.assign(static_cast<std::size_t>(p), 0.0);
  for (long j = 1; j <= p; ++j) phi_[static_cast<std::size_t>(j - 1)] = beta(j);
  // (1 - sum phi_j B^j)(1 - B)^d = 1 - sum a_j B^j.
  level_poly_ = phi_;
  if (d_ == 1) {
    std::vector<double> a(static_cast<std::size_t>(p) + 1, 0.0);
    for (std::size_t j = 0; j < a.size(); ++j) {
      double phij = j < phi_.size() ? phi_[j] : 0.0;  // phi_{j+1}
      double phijm1 = j == 0 ? -1.0 : phi_[j - 1];    // phi_j, with phi_0 = -1
      a[j] = phij - phijm1;                           // a_{j+1} = phi_{j+1} - phi_j
    }
    level_poly_ = a;
  }
}

double ArForecaster::point(int h) const {
  const auto& x = history();
  const std::size_t p = static_cast<std::size_t>(p_);
  // The last p values of the (differenced) series, then h predicted ones.
  std::vector<double> y(p + static_cast<std::size_t>(h));
  for (std::size_t j = 0; j < p; ++j) {
    std::size_t i = x.size() - p + j;
    y[j] = d_ == 1 ? x[i] - x[i - 1] : x[i];
  }
  double level = x.back(), sum = 0;
  for (std::size_t t = p; t < y.size(); ++t) {
    double v = c_;
    for (std::size_t j = 1; j <= p; ++j) v += phi_[j - 1] * y[t - j];
    y[t] = v;
    sum += v;
  }
  return d_ == 1 ? level + sum : y.back();
}

double ArForecaster::sd(int h) const {
  // psi_0 = 1, psi_j = sum_i a_i psi_{j-i}; var(h) = sigma^2 sum_{j<h} psi_j^2.
  std::vector<double> psi(static_cast<std::size_t>(h), 0.0);
  psi[0] = 1;
  double var = 1;
  for (std::size_t j = 1; j < psi.size(); ++j) {
    double v = 0;
    for (std::size_t i = 1; i <= level_poly_.size() && i <= j; ++i) v += level_poly_[i - 1] * psi[j - i];
    psi[j] = v;
    var += v * v;
  }
  return sigma() * std::sqrt(var);
}

std::unique_ptr<Forecaster> make_ar(Params& s) {
  int p = static_cast<int>(read_int(s, "order", 2, 1, 64));
  int d = static_cast<int>(read_int(s, "differencing", 0, 0, 1));
  return std::make_unique<ArForecaster>(p, d);
}

}  // namespace autoscale::forecast
