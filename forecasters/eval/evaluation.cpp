// Rolling origin, the metrics, and the whole evaluation (evaluation.hpp).
#include "forecasters/eval/evaluation.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include "controllers/base/error.hpp"

namespace autoscale::forecast::eval {

std::vector<HorizonForecasts> rolling_origin(Forecaster& f, const Series& s, const RollingOptions& o,
                                             const std::function<void(double)>& progress) {
  const std::size_t n = s.values.size();
  if (o.train_size < 1 || o.train_size > n)
    throw InputError("", 0, "train_size", "a training part of 1 to " + std::to_string(n) + " values");
  if (o.horizons_steps.empty()) throw InputError("", 0, "horizons_steps", "at least one horizon");
  if (o.stride_steps < 1) throw InputError("", 0, "stride_steps", "a stride of at least 1 step");
  const int shortest = *std::min_element(o.horizons_steps.begin(), o.horizons_steps.end());
  if (shortest < 1) throw InputError("", 0, "horizons_steps", "horizons of at least 1 step");

  std::vector<HorizonForecasts> out(o.horizons_steps.size());
  for (std::size_t k = 0; k < out.size(); ++k) out[k].horizon_steps = o.horizons_steps[k];
  f.fit(std::vector<double>(s.values.begin(), s.values.begin() + static_cast<long>(o.train_size)), s.step_s,
        s.t0_s);
  const std::size_t first = o.train_size - 1, stride = static_cast<std::size_t>(o.stride_steps);
  if (first + static_cast<std::size_t>(shortest) >= n) return out;
  const std::size_t last = n - 1 - static_cast<std::size_t>(shortest);
  const std::size_t origins = (last - first) / stride + 1;
  std::size_t seen = first, report_every = std::max<std::size_t>(1, origins / 100);
  const std::vector<double>& quantiles = default_quantiles();  // 0.1, 0.5, 0.9
  for (std::size_t i = 0, origin = first; i < origins; ++i, origin += stride) {
    while (seen < origin) {
      ++seen;
      f.observe(s.time(seen), s.values[seen]);
    }
    Forecast fc = f.predict(o.horizons_steps, quantiles);
    for (std::size_t k = 0; k < out.size(); ++k) {
      std::size_t target = origin + static_cast<std::size_t>(o.horizons_steps[k]);
      if (target >= n) continue;
      // A model whose quantiles cross is read in ascending order (rearrangement).
      double q[3] = {fc.at(k, 0), fc.at(k, 1), fc.at(k, 2)};
      std::sort(q, q + 3);
      HorizonForecasts& h = out[k];
      h.target.push_back(target);
      h.actual.push_back(s.values[target]);
      h.p10.push_back(q[0]);
      h.p50.push_back(q[1]);
      h.p90.push_back(q[2]);
    }
    if (progress && (i + 1) % report_every == 0)
      progress(static_cast<double>(i + 1) / static_cast<double>(origins));
  }
  return out;
}

namespace {
template <class Term>
double mean_of(std::size_t n, Term term) {
  if (n == 0) return kNaN;
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum += term(i);
  return sum / static_cast<double>(n);
}
}  // namespace

double mae(const std::vector<double>& y, const std::vector<double>& f) {
  return mean_of(y.size(), [&](std::size_t i) { return std::abs(y[i] - f[i]); });
}

double rmse(const std::vector<double>& y, const std::vector<double>& f) {
  return std::sqrt(mean_of(y.size(), [&](std::size_t i) { return (y[i] - f[i]) * (y[i] - f[i]); }));
}

double smape(const std::vector<double>& y, const std::vector<double>& f) {
  return mean_of(y.size(), [&](std::size_t i) {
    double d = std::abs(y[i]) + std::abs(f[i]);
    return d > 0 ? 200 * std::abs(y[i] - f[i]) / d : 0.0;
  });
}

double pinball(const std::vector<double>& y, const std::vector<double>& f_q, double q) {
  return mean_of(y.size(), [&](std::size_t i) {
    double e = y[i] - f_q[i];
    return std::max(q * e, (q - 1) * e);
  });
}

double coverage(const std::vector<double>& y, const std::vector<double>& lo, const std::vector<double>& hi) {
  return mean_of(y.size(), [&](std::size_t i) { return lo[i] <= y[i] && y[i] <= hi[i] ? 1.0 : 0.0; });
}

double mase_scale(const std::vector<double>& x, int season) {
  if (x.size() < 2) return kNaN;
  std::size_t m =
      season >= 1 && x.size() > static_cast<std::size_t>(season) ? static_cast<std::size_t>(season) : 1;
  return mean_of(x.size() - m, [&](std::size_t i) { return std::abs(x[i + m] - x[i]); });
}

Metrics compute_metrics(const HorizonForecasts& f, double scale, const std::vector<bool>& burst) {
  Metrics m;
  m.n = f.actual.size();
  if (m.n == 0) return m;
  const auto& y = f.actual;
  m.mae = mae(y, f.p50);
  m.rmse = rmse(y, f.p50);
  m.smape = smape(y, f.p50);
  m.mase = scale > 0 ? m.mae / scale : kNaN;
  m.pinball = (pinball(y, f.p10, 0.1) + pinball(y, f.p50, 0.5) + pinball(y, f.p90, 0.9)) / 3;
  m.coverage_80 = coverage(y, f.p10, f.p90);
  m.width_80 = mean_of(m.n, [&](std::size_t i) { return f.p90[i] - f.p10[i]; });
  m.bias = mean_of(m.n, [&](std::size_t i) { return f.p50[i] - y[i]; });
  std::size_t under = 0, over = 0, in_burst = 0;
  double under_sum = 0, over_sum = 0, burst_sum = 0, calm_sum = 0;
  for (std::size_t i = 0; i < m.n; ++i) {
    double e = y[i] - f.p50[i];
    if (e > 0) ++under, under_sum += e;
    if (e < 0) ++over, over_sum -= e;
    if (!burst.empty()) {
      if (burst.at(f.target[i]))
        ++in_burst, burst_sum += std::abs(e);
      else
        calm_sum += std::abs(e);
    }
  }
  const double n = static_cast<double>(m.n);
  m.under_forecast_fraction = static_cast<double>(under) / n;
  m.over_forecast_fraction = static_cast<double>(over) / n;
  m.under_forecast_mae = under ? under_sum / static_cast<double>(under) : kNaN;
  m.over_forecast_mae = over ? over_sum / static_cast<double>(over) : kNaN;
  if (!burst.empty()) {
    m.burst_fraction = static_cast<double>(in_burst) / n;
    m.mae_burst = in_burst ? burst_sum / static_cast<double>(in_burst) : kNaN;
    m.mae_calm = in_burst < m.n ? calm_sum / static_cast<double>(m.n - in_burst) : kNaN;
  }
  return m;
}

namespace {

// The lowest-MAE forecaster among `names` (all when empty) at horizon k; ties: the earlier one. -1: none.
long lowest_mae(const std::vector<ForecasterResult>& r, std::size_t k,
                const std::vector<std::string>& names) {
  long best = -1;
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (!names.empty() && std::find(names.begin(), names.end(), r[i].name) == names.end()) continue;
    double v = r[i].horizons[k].metrics.mae;
    if (std::isnan(v)) continue;
    if (best < 0 || v < r[static_cast<std::size_t>(best)].horizons[k].metrics.mae)
      best = static_cast<long>(i);
  }
  return best;
}

}  // namespace

Report evaluate(std::vector<Candidate>& candidates, const Series& s, const EvalOptions& o,
                const std::function<void(double, const std::string&)>& progress) {
  Report r;
  r.burst = burst_mask(s.values, o.burst_window_steps, o.burst_z);
  r.mase_scale =
      mase_scale(std::vector<double>(s.values.begin(), s.values.begin() + static_cast<long>(o.train_size)),
                 o.season_steps);
  const std::size_t count = candidates.size();
  r.forecasters.resize(count);
  std::vector<std::exception_ptr> errors(count);
  std::vector<double> done(count, 0.0);
  std::mutex mu;
  std::atomic<std::size_t> next{0};
  RollingOptions ro{o.train_size, o.horizons_steps, o.stride_steps};

  auto work = [&] {
    for (std::size_t i; (i = next++) < count;) {
      Candidate& c = candidates[i];
      try {
        auto report = [&](double fraction) {
          if (!progress) return;
          std::lock_guard<std::mutex> lock(mu);
          done[i] = fraction;
          double total = 0;
          for (double d : done) total += d;
          progress(total / static_cast<double>(count), c.name);
        };
        ForecasterResult& fr = r.forecasters[i];
        fr.name = c.name;
        fr.kind = c.forecaster->kind();
        for (HorizonForecasts& h : rolling_origin(*c.forecaster, s, ro, report)) {
          HorizonResult hr;
          hr.metrics = compute_metrics(h, r.mase_scale, r.burst);
          hr.worst = worst_windows(h, o.worst_length_steps, o.worst_count);
          hr.forecasts = std::move(h);
          fr.horizons.push_back(std::move(hr));
        }
        report(1.0);
      } catch (const InputError& e) {
        errors[i] = std::make_exception_ptr(CandidateError(i, e));
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  const std::size_t jobs = std::min<std::size_t>(static_cast<std::size_t>(std::max(1, o.jobs)), count);
  for (std::size_t j = 1; j < jobs; ++j) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);

  for (std::size_t k = 0; k < o.horizons_steps.size(); ++k) {
    Best b;
    b.horizon_steps = o.horizons_steps[k];
    long best = lowest_mae(r.forecasters, k, {});
    long base = o.baselines.empty() ? -1 : lowest_mae(r.forecasters, k, o.baselines);
    if (best >= 0) {
      const Metrics& m = r.forecasters[static_cast<std::size_t>(best)].horizons[k].metrics;
      b.forecaster = r.forecasters[static_cast<std::size_t>(best)].name;
      b.mae = m.mae;
      b.coverage_80 = m.coverage_80;
    }
    if (base >= 0) {
      b.baseline = r.forecasters[static_cast<std::size_t>(base)].name;
      b.baseline_mae = r.forecasters[static_cast<std::size_t>(base)].horizons[k].metrics.mae;
      b.ratio = b.baseline_mae > 0 ? b.mae / b.baseline_mae : kNaN;
    }
    r.best.push_back(b);
  }

  AnomalyResult& a = r.anomaly;
  a.k = o.anomaly_k;
  a.forecaster =
      o.anomaly_forecaster.empty() && !r.best.empty() ? r.best[0].forecaster : o.anomaly_forecaster;
  for (const ForecasterResult& fr : r.forecasters) {
    if (fr.name != a.forecaster || fr.horizons.empty()) continue;
    // The shortest horizon: the freshest residuals.
    std::size_t k = static_cast<std::size_t>(
        std::min_element(o.horizons_steps.begin(), o.horizons_steps.end()) - o.horizons_steps.begin());
    const HorizonForecasts& h = fr.horizons[k].forecasts;
    a.horizon_steps = h.horizon_steps;
    a.alarms = residual_alarms(h, a.k);
    a.events = alarm_events(h, a.alarms);
    a.labelled = o.labelled;
    a.labels = o.labels;
    if (o.labelled && !h.target.empty())
      a.detection = score_detection(a.events, s, o.labels, s.time(h.target.front()),
                                    s.time(h.target.back()) + s.step_s);
  }
  return r;
}

}  // namespace autoscale::forecast::eval
