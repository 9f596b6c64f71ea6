// Empirical (conformal) intervals around any forecaster (conformal.hpp).
#include "forecasters/conformal.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "forecasters/factories.hpp"

namespace autoscale::forecast {

namespace {

constexpr std::size_t kMinErrors = 20;

// A window of the last W values, also kept sorted (for quantiles in O(1) at predict time).
class ErrorWindow {
 public:
  explicit ErrorWindow(std::size_t w) : w_(w) {}
  void push(double e) {
    if (ring_.size() == w_) {
      double old = ring_[next_];
      sorted_.erase(std::lower_bound(sorted_.begin(), sorted_.end(), old));
      ring_[next_] = e;
      next_ = (next_ + 1) % w_;
    } else {
      ring_.push_back(e);
    }
    sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), e), e);
  }
  void clear() {
    ring_.clear();
    sorted_.clear();
    next_ = 0;
  }
  std::size_t size() const { return sorted_.size(); }
  double quantile(double q) const {
    double pos = q * static_cast<double>(sorted_.size() - 1);
    std::size_t lo = static_cast<std::size_t>(pos), hi = std::min(lo + 1, sorted_.size() - 1);
    return sorted_[lo] + (pos - static_cast<double>(lo)) * (sorted_[hi] - sorted_[lo]);
  }

 private:
  std::size_t w_, next_ = 0;
  std::vector<double> ring_, sorted_;
};

class Conformal : public Forecaster {
 public:
  Conformal(std::unique_ptr<Forecaster> inner, std::size_t window, int horizon)
      : inner_(std::move(inner)),
        window_(window),
        h_(std::max(1, std::min(horizon, inner_->max_horizon_steps()))),
        errors_(static_cast<std::size_t>(h_), ErrorWindow(window)),
        paths_(static_cast<std::size_t>(h_) + 1) {
    for (int h = 1; h <= h_; ++h) horizons_.push_back(h);
  }

  void observe(double t_s, double value) override {
    inner_->observe(t_s, value);
    record(value);
  }

  using Forecaster::fit;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override {
    const std::size_t tail = std::min(window_ + static_cast<std::size_t>(h_), values.size() / 2);
    const std::size_t head = values.size() - tail;
    inner_->fit(std::vector<double>(values.begin(), values.begin() + static_cast<long>(head)), step_s, t0_s);
    for (auto& e : errors_) e.clear();
    for (auto& p : paths_) p.clear();
    seen_ = 0;
    if (head > 0) record_path();
    for (std::size_t i = head; i < values.size(); ++i)
      observe(t0_s + static_cast<double>(i) * step_s, values[i]);
    if (tail == 0) return;
    // The errors are out of sample; the model itself learns from every value.
    inner_->fit(values, step_s, t0_s);
    record_path();
  }

  Forecast predict(const std::vector<int>& horizons_steps,
                   const std::vector<double>& quantiles) const override {
    std::vector<double> asked = quantiles;
    asked.push_back(0.5);  // the median the errors are measured from
    Forecast f = inner_->predict(horizons_steps, asked);
    for (std::size_t i = 0; i < horizons_steps.size(); ++i) {
      std::vector<double>& row = f.values[i];
      const double median = row.back();
      row.pop_back();
      const int h = horizons_steps[i];
      const ErrorWindow& e = errors_[static_cast<std::size_t>(std::min(h, h_) - 1)];
      if (e.size() < std::min(kMinErrors, window_)) continue;
      const double scale = h > h_ ? std::sqrt(static_cast<double>(h) / h_) : 1.0;
      for (std::size_t j = 0; j < quantiles.size(); ++j) {
        const double q = quantiles[j], v = median + scale * e.quantile(q);
        row[j] = q < 0.5 ? std::min(v, median) : q > 0.5 ? std::max(v, median) : median;
      }
    }
    f.quantiles = quantiles;
    return f;
  }

  std::string kind() const override { return inner_->kind(); }
  int max_horizon_steps() const override { return inner_->max_horizon_steps(); }
  double trained_step_s() const override { return inner_->trained_step_s(); }

 private:
  // The new value closes the h-step forecasts made h steps ago; then the median path from here is kept.
  void record(double value) {
    ++seen_;
    for (int h = 1; h <= h_; ++h) {
      if (seen_ < static_cast<std::size_t>(h)) break;
      const std::vector<double>& path = paths_[(seen_ - static_cast<std::size_t>(h)) % paths_.size()];
      if (!path.empty())
        errors_[static_cast<std::size_t>(h - 1)].push(value - path[static_cast<std::size_t>(h - 1)]);
    }
    record_path();
  }
  void record_path() {
    static const std::vector<double> median{0.5};
    Forecast f = inner_->predict(horizons_, median);
    std::vector<double>& path = paths_[seen_ % paths_.size()];
    path.resize(static_cast<std::size_t>(h_));
    for (std::size_t k = 0; k < path.size(); ++k) path[k] = f.at(k, 0);
  }

  std::unique_ptr<Forecaster> inner_;
  std::size_t window_;
  int h_;
  std::vector<int> horizons_;
  std::vector<ErrorWindow> errors_;         // per horizon 1..h_
  std::vector<std::vector<double>> paths_;  // median paths of the last h_ + 1 origins, by origin count
  std::size_t seen_ = 0;                    // origins since fit (the fit's last value is origin 0)
};

}  // namespace

std::unique_ptr<Forecaster> make_conformal(std::unique_ptr<Forecaster> inner, int window_steps,
                                           int horizon_steps) {
  return std::make_unique<Conformal>(std::move(inner), static_cast<std::size_t>(window_steps), horizon_steps);
}

std::unique_ptr<Forecaster> with_intervals(std::unique_ptr<Forecaster> f, Params& settings) {
  if (settings.choice("intervals", "model", {"model", "empirical"}) == "model") return f;
  int window = static_cast<int>(read_int(settings, "calibration_window_steps", 500, 20, 100000));
  int horizon = static_cast<int>(read_int(settings, "calibration_horizon_steps", 32, 1, 1000));
  return make_conformal(std::move(f), window, horizon);
}

}  // namespace autoscale::forecast
