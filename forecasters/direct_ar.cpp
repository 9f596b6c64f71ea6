// direct_ar: one least-squares head per horizon, seasonal and level terms, log scale (direct_ar.hpp).
#include "forecasters/direct_ar.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

#include "controllers/base/error.hpp"
#include "forecasters/factories.hpp"

namespace autoscale::forecast {

namespace {
// The features of a head at index t of z (cum: its prefix sums): 1, the last p differences, per season what
// followed one season ago and the distance from it, per level window the distance from its mean.
void head_features(const std::vector<double>& z, const std::vector<double>& cum, std::size_t t, int p, int h,
                   const std::vector<std::size_t>& seasons, const std::vector<std::size_t>& levels,
                   std::vector<double>& out) {
  out.assign(1, 1.0);
  for (std::size_t j = 0; j < static_cast<std::size_t>(p); ++j) out.push_back(z[t - j] - z[t - j - 1]);
  for (std::size_t m : seasons) {
    out.push_back(z[t + static_cast<std::size_t>(h) - m] - z[t - m]);
    out.push_back(z[t] - z[t - m]);
  }
  for (std::size_t l : levels) out.push_back(z[t] - (cum[t + 1] - cum[t + 1 - l]) / static_cast<double>(l));
}

std::size_t longest(const std::vector<std::size_t>& seasons, const std::vector<std::size_t>& levels) {
  return std::max(seasons.empty() ? 0 : seasons.back(), levels.empty() ? 0 : levels.back());
}
}  // namespace

DirectArForecaster::DirectArForecaster(int order, std::size_t period_steps, bool weekly, bool log)
    : p_(order),
      m_(period_steps),
      weekly_(weekly),
      log_(log),
      refit_every_(std::max<std::size_t>(period_steps, 100)),
      cap_(std::max<std::size_t>(20000, 4 * (weekly ? 7 : 1) * period_steps)) {}

double DirectArForecaster::z(double y) const {
  if (log_ && y < 0) throw InputError("", 0, "value", "a non-negative value (transform = \"log\")");
  return log_ ? std::log(y + k_) : y;
}

double DirectArForecaster::back(double v) const {
  return log_ ? std::max(0.0, std::exp(v) - k_) : v;
}

void DirectArForecaster::calibrate(const std::vector<double>& values) {
  double mean = 0;
  for (double v : values) {
    if (log_ && v < 0) throw InputError("", 0, "transform", "non-negative values for transform = \"log\"");
    mean += v;
  }
  mean /= static_cast<double>(values.size());
  k_ = log_ ? (mean > 0 ? 0.1 * mean : 1.0) : 0.0;
  for (double v : values) append(z(v));
  replay_ = values.size();
  since_refit_ = 0;
  configure();
}

void DirectArForecaster::reset() {
  z_.clear();
  cum_.assign(1, 0.0);
  seasons_.clear();
  levels_.clear();
  heads_.clear();
  replay_ = since_refit_ = 0;
}

void DirectArForecaster::append(double zv) {
  z_.push_back(zv);
  cum_.push_back(cum_.back() + zv);
}

void DirectArForecaster::configure() {
  if (z_.size() > cap_) {
    z_.erase(z_.begin(), z_.end() - static_cast<long>(cap_));
    cum_.assign(1, 0.0);
    for (double v : z_) cum_.push_back(cum_.back() + v);
  }
  seasons_.clear();
  levels_.clear();
  for (std::size_t m : {m_, weekly_ ? 7 * m_ : 0})
    if (m > 0 && z_.size() >= 2 * m) seasons_.push_back(m);
  for (std::size_t l : {std::max<std::size_t>(2, (m_ + 12) / 24), m_})
    if (z_.size() >= 2 * l && (levels_.empty() || l > levels_.back())) levels_.push_back(l);
  heads_.clear();
}

// The values fit() replays are in z_ already; later ones are added, and every refit_every_ of them the heads
// are fitted again.
void DirectArForecaster::update(double value) {
  if (!calibrated_) return;  // before the first fit: Model keeps the values and fits on them at min_fit()
  if (replay_ > 0) {
    --replay_;
    return;
  }
  append(z(value));
  if (++since_refit_ >= refit_every_) {
    since_refit_ = 0;
    configure();
  }
}

bool DirectArForecaster::ready() const {
  return calibrated_ && replay_ == 0 &&
         z_.size() >= static_cast<std::size_t>(p_) + 2 + longest(seasons_, levels_);
}

const DirectArForecaster::Head& DirectArForecaster::head(int h) const {
  auto it = heads_.find(h);
  if (it != heads_.end()) return it->second;
  const std::size_t n = z_.size(), p = static_cast<std::size_t>(p_), hs = static_cast<std::size_t>(h);
  Head hd;
  for (std::size_t m : seasons_)
    if (m >= hs) hd.seasons.push_back(m);
  const std::size_t start = std::max(p, longest(hd.seasons, levels_));
  const std::size_t features = 1 + p + 2 * hd.seasons.size() + levels_.size();
  const long rows = n > start + hs ? static_cast<long>(n - hs - start) : 0;
  // configure() keeps the seasons and levels to what the data holds, so rows are few only after a short fit:
  // naive on z then.
  if (rows < static_cast<long>(features) + 10) {
    hd.seasons.clear();
    hd.beta.assign(1 + p + levels_.size(), 0.0);
    return heads_.emplace(h, hd).first->second;
  }
  Eigen::MatrixXd X(rows, static_cast<long>(features));
  Eigen::VectorXd y(rows);
  std::vector<double> f;
  for (long r = 0; r < rows; ++r) {
    const std::size_t t = start + static_cast<std::size_t>(r);
    head_features(z_, cum_, t, p_, h, hd.seasons, levels_, f);
    for (std::size_t c = 0; c < features; ++c) X(r, static_cast<long>(c)) = f[c];
    y(r) = z_[t + hs] - z_[t];
  }
  // Normal equations with a tiny ridge: a head is refitted often, and collinear terms (a perfectly periodic
  // series) still get a solution.
  Eigen::MatrixXd A = X.transpose() * X;
  const double ridge = 1e-10 * (A.trace() / static_cast<double>(features) + 1e-300);
  A.diagonal().array() += ridge;
  Eigen::VectorXd beta = A.ldlt().solve(X.transpose() * y);
  hd.beta.assign(beta.data(), beta.data() + beta.size());
  hd.sd = std::sqrt((y - X * beta).squaredNorm() /
                    static_cast<double>(std::max<long>(1, rows - static_cast<long>(features))));
  return heads_.emplace(h, hd).first->second;
}

double DirectArForecaster::z_forecast(int h) const {
  const Head& hd = head(h);
  std::vector<double> f;
  head_features(z_, cum_, z_.size() - 1, p_, h, hd.seasons, levels_, f);
  double v = z_.back();
  for (std::size_t c = 0; c < f.size(); ++c) v += hd.beta[c] * f[c];
  return v;
}

double DirectArForecaster::point(int h) const {
  return back(z_forecast(h));
}

double DirectArForecaster::sd(int h) const {
  return head(h).sd;
}

void DirectArForecaster::quantile_row(int h, const std::vector<double>& quantiles,
                                      std::vector<double>& out) const {
  const double v = z_forecast(h), s = head(h).sd;
  for (std::size_t i = 0; i < quantiles.size(); ++i) out[i] = back(v + s * normal_quantile(quantiles[i]));
}

std::unique_ptr<Forecaster> make_direct_ar(Params& s) {
  int p = static_cast<int>(read_int(s, "order", 12, 1, 64));
  auto m = static_cast<std::size_t>(read_int(s, "period_steps", 24, 1, 1000000));
  bool weekly = s.boolean("weekly", true);
  bool log = s.choice("transform", "log", {"log", "none"}) == "log";
  return std::make_unique<DirectArForecaster>(p, m, weekly, log);
}

}  // namespace autoscale::forecast
