// naive, seasonal_naive, moving_average, ewma and holt_winters.
#include <cmath>
#include <limits>
#include <string>

#include "controllers/base/error.hpp"
#include "forecasters/factories.hpp"
#include "forecasters/models.hpp"

namespace autoscale::forecast {

long read_int(Params& s, const char* key, long fallback, long lo, long hi) {
  long v = s.integer(key, fallback);
  if (v < lo || v > hi) s.fail(key, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

double read_number(Params& s, const char* key, double fallback, double lo, double hi, bool lo_open) {
  double v = s.number(key, fallback);
  if (!std::isfinite(v) || v > hi || v < lo || (lo_open && v == lo))
    s.fail(key, std::string("a number in ") + (lo_open ? "(" : "[") + std::to_string(lo) + ", " +
                    std::to_string(hi) + "]");
  return v;
}

namespace {

class Naive : public Model {
 public:
  std::string kind() const override { return "naive"; }

 protected:
  bool ready() const override { return !history().empty(); }
  double point(int) const override { return history().back(); }
  double sd(int h) const override { return sigma() * std::sqrt(static_cast<double>(h)); }
};

class SeasonalNaive : public Model {
 public:
  explicit SeasonalNaive(std::size_t m) : m_(m) {}
  std::string kind() const override { return "seasonal_naive"; }

 protected:
  bool ready() const override { return history().size() >= m_; }
  double point(int h) const override {
    const auto& x = history();
    return x[x.size() - m_ + static_cast<std::size_t>(h - 1) % m_];
  }
  double sd(int h) const override {
    return sigma() * std::sqrt(static_cast<double>(static_cast<std::size_t>(h - 1) / m_ + 1));
  }
  std::size_t keep() const override { return m_; }

 private:
  std::size_t m_;
};

class MovingAverage : public Model {
 public:
  explicit MovingAverage(std::size_t w) : w_(w) {}
  std::string kind() const override { return "moving_average"; }

 protected:
  bool ready() const override { return !history().empty(); }
  double point(int) const override {
    const auto& x = history();
    std::size_t k = std::min(w_, x.size());
    double sum = 0;
    for (std::size_t i = x.size() - k; i < x.size(); ++i) sum += x[i];
    return sum / static_cast<double>(k);
  }
  double sd(int) const override { return sigma(); }
  std::size_t keep() const override { return w_; }

 private:
  std::size_t w_;
};

class Ewma : public Model {
 public:
  explicit Ewma(double alpha) : alpha_(alpha) {}
  std::string kind() const override { return "ewma"; }

 protected:
  void reset() override { level_ = std::numeric_limits<double>::quiet_NaN(); }
  void update(double v) override { level_ = std::isnan(level_) ? v : alpha_ * v + (1 - alpha_) * level_; }
  bool ready() const override { return !std::isnan(level_); }
  double point(int) const override { return level_; }
  double sd(int h) const override { return sigma() * std::sqrt(1 + (h - 1) * alpha_ * alpha_); }

 private:
  double alpha_;
  double level_ = std::numeric_limits<double>::quiet_NaN();
};

// Holt-Winters state: level, (damped) trend, one seasonal term per phase (index = global step mod period).
struct HwState {
  std::size_t m = 1;
  bool mult = false;
  double alpha = 0.2, beta = 0.05, gamma = 0.1, phi = 1;
  double level = 0, trend = 0;
  std::vector<double> season;
  bool init = false;

  // Starts from the first two periods of x[0..2m): level and season from the first, trend from the second.
  void start(const double* x) {
    double m1 = 0, m2 = 0;
    for (std::size_t i = 0; i < m; ++i) m1 += x[i], m2 += x[m + i];
    m1 /= static_cast<double>(m);
    m2 /= static_cast<double>(m);
    season.assign(m, mult ? 1.0 : 0.0);
    for (std::size_t i = 0; i < m; ++i) season[i] = mult ? x[i] / m1 : x[i] - m1;
    level = m1;
    trend = (m2 - m1) / static_cast<double>(m);
    // The level stands for the first period's middle; move it to just before index 0's update cycle.
    level -= trend * (static_cast<double>(m) - 1) / 2 + trend;
    init = true;
  }
  double forecast(std::size_t index, int h) const {
    double damp = 0, p = 1;
    for (int j = 1; j <= h; ++j) p *= phi, damp += p;
    double s = season[index % m];
    return mult ? (level + damp * trend) * s : level + damp * trend + s;
  }
  // Updates with y at global index `index`; returns the one-step error.
  double step(std::size_t index, double y) {
    double& s = season[index % m];
    double yhat = mult ? (level + phi * trend) * s : level + phi * trend + s;
    double prev = level;
    double base = level + phi * trend;
    if (mult) {
      level = alpha * y / (std::abs(s) > 1e-12 ? s : 1e-12) + (1 - alpha) * base;
      trend = beta * (level - prev) + (1 - beta) * phi * trend;
      s = gamma * y / (std::abs(level) > 1e-12 ? level : 1e-12) + (1 - gamma) * s;
    } else {
      level = alpha * (y - s) + (1 - alpha) * base;
      trend = beta * (level - prev) + (1 - beta) * phi * trend;
      s = gamma * (y - level) + (1 - gamma) * s;
    }
    return y - yhat;
  }
  // Sum of squared one-step errors over x[2m..) after starting on x[0..2m) and running through it.
  double sse(const std::vector<double>& x) {
    init = false;
    start(x.data());
    double sum = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      double e = step(i, x[i]);
      if (i >= 2 * m) sum += e * e;
    }
    return sum;
  }
};

class HoltWinters : public Model {
 public:
  HoltWinters(HwState s, bool fit_alpha, bool fit_beta, bool fit_gamma)
      : s_(std::move(s)), fit_alpha_(fit_alpha), fit_beta_(fit_beta), fit_gamma_(fit_gamma) {}
  std::string kind() const override { return "holt_winters"; }

 protected:
  std::size_t min_fit() const override { return 2 * s_.m; }
  std::size_t keep() const override { return 2 * s_.m; }
  void reset() override { s_.init = false; }
  // A deterministic grid over (alpha, beta, gamma) minimising the one-step squared error.
  void calibrate(const std::vector<double>& x) override {
    if (s_.mult)
      for (double v : x)
        if (!(v > 0))
          throw InputError("", 0, "seasonality", "positive values for multiplicative seasonality");
    static const std::vector<double> a_grid{0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
    static const std::vector<double> b_grid{0.0, 0.01, 0.03, 0.1, 0.2};
    static const std::vector<double> g_grid{0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.7};
    std::vector<double> as = fit_alpha_ ? a_grid : std::vector<double>{s_.alpha};
    std::vector<double> bs = fit_beta_ ? b_grid : std::vector<double>{s_.beta};
    std::vector<double> gs = fit_gamma_ ? g_grid : std::vector<double>{s_.gamma};
    HwState trial = s_, best = s_;
    double best_sse = std::numeric_limits<double>::infinity();
    for (double a : as)
      for (double b : bs)
        for (double g : gs) {
          trial.alpha = a, trial.beta = b, trial.gamma = g;
          double e = trial.sse(x);
          if (e < best_sse) best_sse = e, best = trial;
        }
    s_.alpha = best.alpha, s_.beta = best.beta, s_.gamma = best.gamma;
    s_.init = false;
  }
  void update(double v) override {
    if (!calibrated_) return;
    const auto& x = history();
    if (!s_.init) {
      if (x.size() < 2 * s_.m) return;
      std::size_t first = n() - 2 * s_.m;  // global index of x[x.size() - 2m]
      const double* p = x.data() + x.size() - 2 * s_.m;
      s_.start(p);
      // start() assumes the window begins at a phase-0 index; rotate the season to the global phase.
      std::vector<double> rotated(s_.m);
      for (std::size_t i = 0; i < s_.m; ++i) rotated[(first + i) % s_.m] = s_.season[i];
      s_.season = rotated;
      for (std::size_t i = 0; i < 2 * s_.m; ++i) s_.step(first + i, p[i]);
      return;
    }
    s_.step(n() - 1, v);
  }
  bool ready() const override { return calibrated_ && s_.init; }
  double point(int h) const override { return s_.forecast(n() + static_cast<std::size_t>(h) - 1, h); }
  double sd(int h) const override {
    double var = 1, p = 1, cum = 0;
    for (int j = 1; j < h; ++j) {
      p *= s_.phi;
      cum += p;  // phi + ... + phi^j
      double c = s_.alpha * (1 + s_.beta * cum) + (static_cast<std::size_t>(j) % s_.m == 0 ? s_.gamma : 0);
      var += c * c;
    }
    return sigma() * std::sqrt(var);
  }

 private:
  HwState s_;
  bool fit_alpha_, fit_beta_, fit_gamma_;
};

}  // namespace

std::unique_ptr<Forecaster> make_naive(Params&) {
  return std::make_unique<Naive>();
}

std::unique_ptr<Forecaster> make_seasonal_naive(Params& s) {
  return std::make_unique<SeasonalNaive>(
      static_cast<std::size_t>(read_int(s, "period_steps", 24, 1, 1000000)));
}

std::unique_ptr<Forecaster> make_moving_average(Params& s) {
  return std::make_unique<MovingAverage>(
      static_cast<std::size_t>(read_int(s, "window_steps", 12, 1, 1000000)));
}

std::unique_ptr<Forecaster> make_ewma(Params& s) {
  return std::make_unique<Ewma>(read_number(s, "alpha", 0.3, 0, 1, true));
}

std::unique_ptr<Forecaster> make_holt_winters(Params& s) {
  HwState st;
  st.m = static_cast<std::size_t>(read_int(s, "period_steps", 24, 1, 100000));
  std::string season = s.string("seasonality", std::string("additive"));
  if (season != "additive" && season != "multiplicative")
    s.fail("seasonality", "\"additive\" or \"multiplicative\"");
  st.mult = season == "multiplicative";
  bool damped = s.boolean("damped", false);
  st.phi = read_number(s, "phi", damped ? 0.98 : 1.0, 0, 1, true);
  bool fa = !s.has("alpha"), fb = !s.has("beta"), fg = !s.has("gamma");
  if (!fa) st.alpha = read_number(s, "alpha", 0.2, 0, 1, true);
  if (!fb) st.beta = read_number(s, "beta", 0.05, 0, 1, false);
  if (!fg) st.gamma = read_number(s, "gamma", 0.1, 0, 1, false);
  return std::make_unique<HoltWinters>(st, fa, fb, fg);
}

}  // namespace autoscale::forecast
