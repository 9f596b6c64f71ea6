// ensemble: members' forecasts averaged with weights 1 / (recent mean absolute one-step error).
#include <algorithm>
#include <cmath>
#include <limits>

#include "controllers/base/error.hpp"
#include "forecasters/factories.hpp"
#include "forecasters/models.hpp"

namespace autoscale::forecast {

EnsembleForecaster::EnsembleForecaster(std::vector<std::unique_ptr<Forecaster>> members, int window_steps)
    : members_(std::move(members)),
      window_(static_cast<std::size_t>(window_steps)),
      errors_(members_.size(), std::vector<double>(window_, 0.0)) {}

void EnsembleForecaster::observe(double t_s, double value) {
  if (observed_) {
    static const std::vector<int> one{1};
    static const std::vector<double> median{0.5};
    for (std::size_t i = 0; i < members_.size(); ++i)
      errors_[i][next_] = std::abs(value - members_[i]->predict(one, median).at(0, 0));
    next_ = (next_ + 1) % window_;
    filled_ = std::min(filled_ + 1, window_);
  }
  for (auto& m : members_) m->observe(t_s, value);
  observed_ = true;
}

void EnsembleForecaster::fit(const std::vector<double>& values, double step_s, double t0_s) {
  // Members fit on all but the last window, which is replayed to measure their recent errors.
  std::size_t head = values.size() > 2 * window_ ? values.size() - window_ : values.size();
  std::vector<double> prefix(values.begin(), values.begin() + static_cast<long>(head));
  for (auto& m : members_) m->fit(prefix, step_s, t0_s);
  for (auto& e : errors_) std::fill(e.begin(), e.end(), 0.0);
  next_ = filled_ = 0;
  observed_ = !prefix.empty();
  for (std::size_t i = head; i < values.size(); ++i)
    observe(t0_s + static_cast<double>(i) * step_s, values[i]);
}

int EnsembleForecaster::max_horizon_steps() const {
  int h = std::numeric_limits<int>::max();
  for (const auto& m : members_) h = std::min(h, m->max_horizon_steps());
  return h;
}

double EnsembleForecaster::trained_step_s() const {
  for (const auto& m : members_)
    if (m->trained_step_s() > 0) return m->trained_step_s();
  return 0;
}

std::vector<double> EnsembleForecaster::weights() const {
  std::vector<double> w(members_.size(), 1.0 / static_cast<double>(members_.size()));
  if (filled_ == 0) return w;
  double total = 0;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    double mae = 0;
    for (std::size_t j = 0; j < filled_; ++j) mae += errors_[i][j];
    mae /= static_cast<double>(filled_);
    w[i] = 1.0 / (mae + 1e-9);
    total += w[i];
  }
  for (double& v : w) v /= total;
  return w;
}

Forecast EnsembleForecaster::predict(const std::vector<int>& horizons_steps,
                                     const std::vector<double>& quantiles) const {
  std::vector<double> w = weights();
  Forecast out;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    Forecast f = members_[i]->predict(horizons_steps, quantiles);
    if (i == 0) {
      out = f;
      for (auto& row : out.values)
        for (double& v : row) v = 0;
    }
    for (std::size_t h = 0; h < f.values.size(); ++h)
      for (std::size_t q = 0; q < f.values[h].size(); ++q) out.values[h][q] += w[i] * f.values[h][q];
  }
  return out;
}

std::unique_ptr<Forecaster> make_ensemble(Params& s) {
  int window = static_cast<int>(read_int(s, "window_steps", 24, 1, 1000000));
  std::vector<std::unique_ptr<Forecaster>> members;
  for (auto& m : s.tables("members")) {
    std::string kind = m->string("kind", std::nullopt);
    if (kind == "ensemble") m->fail("kind", "a member that is not itself an ensemble");
    members.push_back(make_forecaster(kind, *m));
  }
  if (members.empty()) s.fail("members", "at least one member ([[members]] with a kind each)");
  return std::make_unique<EnsembleForecaster>(std::move(members), window);
}

}  // namespace autoscale::forecast
