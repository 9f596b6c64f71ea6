#include "controllers/forecast_feed/forecast_feed.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "controllers/map_params.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale {

void ForecastFeed::observe(double time_s, double rps) {
  model_->observe(time_s, rps);
  history_.push_back(rps);
  if (history_.size() > kMaxHistory)
    history_.erase(history_.begin(), history_.begin() + static_cast<long>(history_.size() - kMaxHistory));
  ++observed_;
}

void ForecastFeed::refit(double time_s, const FeedSettings& f) {
  model_->fit(history_, f.interval_s, time_s - static_cast<double>(history_.size() - 1) * f.interval_s);
}

void ForecastFeed::feed(const ServiceObservation& s, double time_s, const FeedSettings& f) {
  if (!s.metrics_valid) return;
  observe(time_s, s.arrival_rps);
  bool train_now = observed_ == f.warmup_intervals && forecast::is_neural_kind(model_->kind());
  if (train_now ||
      (f.refit_intervals > 0 && observed_ >= f.warmup_intervals && observed_ % f.refit_intervals == 0))
    refit(time_s, f);
  if (s.ready() > 0 && s.cpu_utilization >= 0.05 && s.completed_rps > 0) {
    double sample = s.completed_rps / s.ready() * f.target_utilization / s.cpu_utilization;
    capacity_rps_ = capacity_rps_ > 0 ? capacity_rps_ + f.capacity_alpha * (sample - capacity_rps_) : sample;
  }
}

std::vector<double> rebin_history(const std::vector<double>& values, double step_s, double interval_s) {
  std::vector<double> out;
  if (values.empty() || step_s <= 0 || interval_s <= 0) return out;
  double span = static_cast<double>(values.size()) * step_s;
  auto m = static_cast<long>(std::floor(span / interval_s + 1e-9));
  out.reserve(static_cast<size_t>(m));
  for (long j = 0; j < m; ++j) {
    // the interval [a, b) measured from the history's start (time -span)
    double a = span - static_cast<double>(m - j) * interval_s, b = a + interval_s, sum = 0;
    auto i = static_cast<long>(std::floor(a / step_s + 1e-9));
    for (; i < static_cast<long>(values.size()); ++i) {
      double lo = std::max(a, static_cast<double>(i) * step_s);
      double hi = std::min(b, static_cast<double>(i + 1) * step_s);
      if (hi <= lo) {
        if (static_cast<double>(i) * step_s >= b) break;
        continue;
      }
      sum += values[static_cast<size_t>(i)] * (hi - lo);
    }
    out.push_back(sum / interval_s);
  }
  return out;
}

void ForecastFeed::preload(const std::vector<double>& rps, double step_s, const FeedSettings& f) {
  std::vector<double> v = rebin_history(rps, step_s, f.interval_s);
  if (v.size() > kMaxHistory) v.erase(v.begin(), v.begin() + static_cast<long>(v.size() - kMaxHistory));
  for (size_t j = 0; j < v.size(); ++j) observe(-static_cast<double>(v.size() - 1 - j) * f.interval_s, v[j]);
  if (!v.empty() && observed_ >= f.warmup_intervals) refit(0, f);
}

void preload_feeds(std::map<std::string, ForecastFeed>& feeds, const ControllerContext& ctx,
                   const FeedSettings& f) {
  if (ctx.history_step_s <= 0) return;
  for (auto& [name, feed] : feeds) {
    auto h = ctx.history_arrival_rps.find(name);
    if (h != ctx.history_arrival_rps.end()) feed.preload(h->second, ctx.history_step_s, f);
  }
}

namespace {

// Observations a kind needs before its forecast is its own (forecaster.hpp: before that it answers as naive
// does); two for the one-value models, so that sigma has one error behind it.
long warmup_for(const std::string& kind, Params& f) {
  if (kind == "seasonal_naive") return f.integer("period_steps", 24) + 1;
  if (kind == "holt_winters") return 2 * f.integer("period_steps", 24);
  if (kind == "ar") {
    long p = f.integer("order", 2), dd = f.integer("differencing", 0);
    return std::max(3 * (p + 1) + dd, 2 * p + dd + 10);
  }
  if (kind == "fft") return 32;
  // an inline LibTorch model trains on what the controller has seen when it has four windows' worth
  if (forecast::is_neural_kind(kind))
    return 4 * (f.integer("input_steps", forecast::NeuralConfig{}.input_steps) +
                f.integer("max_horizon_steps", forecast::NeuralConfig{}.max_horizon_steps));
  return 2;
}

std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

std::map<std::string, ForecastFeed> make_feeds(Params& p, const ControllerContext& ctx,
                                               const std::vector<std::string>& services, double interval_s,
                                               int horizon_steps, const std::string& horizon_key,
                                               long* default_warmup) {
  std::unique_ptr<Params> fp;
  std::string kind = "naive";
  if (p.has("forecaster")) {
    fp = p.table("forecaster");
    // a registry model (`model = "name@version"`) has its kind in its model.json
    kind = fp->has("model") ? "model" : fp->string("kind", std::string("naive"));
  }
  *default_warmup = fp ? warmup_for(kind, *fp) : 2;
  std::map<std::string, ForecastFeed> feeds;
  for (const auto& name : services) {
    std::unique_ptr<forecast::Forecaster> m;
    if (fp && (fp->has("model") || fp->has("kind"))) {
      m = forecast::forecaster_from_section(*fp, forecast::default_models_dir(), ctx.base_dir);
    } else if (fp) {
      m = forecast::make_forecaster(kind, *fp);
    } else {
      MapParams none;
      m = forecast::make_forecaster(kind, none);
    }
    if (m->trained_step_s() > 0 && std::abs(m->trained_step_s() - interval_s) > 1e-9 * interval_s)
      p.fail("interval_s", "the forecaster's step: the model was trained on " +
                               format_seconds(m->trained_step_s()) +
                               "-s steps and is fed one value per interval");
    if (horizon_steps > m->max_horizon_steps())
      p.fail(horizon_key, "a horizon within the model's (" + std::to_string(m->max_horizon_steps()) +
                              " intervals), got " + std::to_string(horizon_steps) + " intervals");
    feeds.emplace(name, ForecastFeed(std::move(m)));
  }
  return feeds;
}

}  // namespace autoscale
