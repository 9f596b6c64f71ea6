#include "controllers/predictive/predictive_controller.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale {

int PredictiveConfig::lead_steps() const {
  return std::max(1, static_cast<int>(std::lround(lead_s / interval_s)));
}

PredictiveController::PredictiveController(
    PredictiveConfig cfg, std::map<std::string, std::unique_ptr<forecast::Forecaster>> models)
    : cfg_(std::move(cfg)) {
  for (auto& [name, model] : models) state_[name].model = std::move(model);
}

namespace {
// ceil with a little slack, so that 10.000000000001 instances (rounding in rate * (1 + buffer)) are 10.
std::string format_seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

int instances_for(double rps, double rps_per_instance) {
  return static_cast<int>(std::ceil(std::max(0.0, rps) / rps_per_instance - 1e-9));
}
}  // namespace

Decision PredictiveController::decide(const Observation& obs) {
  Decision d;
  const int lead = cfg_.lead_steps();
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    ServiceDecision out{name, s->desired, "arrival_rps_forecast", 0, "floor"};
    const int current = s->desired;

    // The reactive floor: a CPU threshold rule. It adds floor_step on a breach, once the instances it (or
    // anything) launched are up; while they start it holds the count.
    bool breached = s->metrics_valid && s->cpu_utilization > cfg_.floor_scale_out_above;
    bool busy = s->starting + s->pending > 0;
    int floor = breached ? (busy ? current : current + cfg_.floor_step) : s->min_instances;

    if (s->metrics_valid) {
      st.model->observe(obs.time_s, s->arrival_rps);
      st.history.push_back(s->arrival_rps);
      if (st.history.size() > kMaxHistory)
        st.history.erase(st.history.begin(),
                         st.history.begin() + static_cast<long>(st.history.size() - kMaxHistory));
      ++st.observed;
      // Refits every refit_intervals; an untrained LibTorch model trains once, when the warm-up ends (a
      // trained one only takes the history at a refit).
      bool train_now = st.observed == cfg_.warmup_intervals && forecast::is_neural_kind(st.model->kind());
      if (train_now || (cfg_.refit_intervals > 0 && st.observed >= cfg_.warmup_intervals &&
                        st.observed % cfg_.refit_intervals == 0))
        st.model->fit(st.history, cfg_.interval_s,
                      obs.time_s - static_cast<double>(st.history.size() - 1) * cfg_.interval_s);
    }
    if (cfg_.rps_per_instance <= 0 && s->metrics_valid && s->ready() > 0 && s->cpu_utilization >= 0.05 &&
        s->completed_rps > 0) {
      double sample = s->completed_rps / s->ready() * cfg_.target_utilization / s->cpu_utilization;
      st.capacity_rps =
          st.capacity_rps > 0 ? st.capacity_rps + cfg_.capacity_alpha * (sample - st.capacity_rps) : sample;
    }
    out.diagnostics["quantile"] = cfg_.quantile;
    out.diagnostics["lead_s"] = lead * cfg_.interval_s;
    out.diagnostics["floor_instances"] = floor;

    if (st.observed < cfg_.warmup_intervals) {
      // Not enough history for the model: the floor alone, which never scales in.
      int want = std::max(current, floor);
      out.desired = std::clamp(want, s->min_instances, s->max_instances);
      out.diagnostic_strings["warmup"] = "forecaster has " + std::to_string(st.observed) + " of " +
                                         std::to_string(cfg_.warmup_intervals) + " observations";
      d.services.push_back(out);
      continue;
    }

    // Capacity per instance: configured, or estimated from what the ready instances served per unit of CPU.
    double per_instance = cfg_.rps_per_instance;
    if (per_instance <= 0) {
      if (st.capacity_rps > 0)
        per_instance = st.capacity_rps;
      else {
        int want = std::max(current, floor);
        out.desired = std::clamp(want, s->min_instances, s->max_instances);
        out.diagnostic_strings["warmup"] = "no capacity estimate yet (needs a ready instance at >= 5 % CPU)";
        d.services.push_back(out);
        continue;
      }
    }
    out.diagnostics["rps_per_instance"] = per_instance;

    const bool spread = cfg_.buffer_spread > 0;
    forecast::Forecast f = spread ? st.model->predict({lead}, {cfg_.quantile, 0.1, 0.9})
                                  : st.model->predict({lead}, {cfg_.quantile});
    double q = std::max(0.0, f.at(0, 0));
    double width = spread ? std::max(0.0, f.at(0, 2) - f.at(0, 1)) : 0.0;
    int bare = instances_for(q, per_instance);
    int capacity = instances_for(q * (1 + cfg_.buffer_fraction) + cfg_.buffer_spread * width, per_instance) +
                   cfg_.buffer_instances;
    if (spread) out.diagnostics["interval_80_width"] = width;
    out.metric_value = q;
    out.diagnostics["forecast"] = q;
    out.diagnostics["buffer"] = capacity - bare;
    out.diagnostics["capacity_instances"] = capacity;

    bool forecast_wins = capacity >= floor;
    out.rule = forecast_wins ? "forecast" : "floor";
    int target = std::clamp(std::max(capacity, floor), s->min_instances, s->max_instances);
    if (target >= current) {
      st.below = 0;
      out.desired = target;
    } else {
      ++st.below;
      if (st.below < cfg_.scale_in_intervals) {
        out.desired = current;
        out.rule += "+hysteresis";
      } else {
        out.desired = std::max(target, current - cfg_.max_scale_in_step);
        if (out.desired > target) out.rule += "+hysteresis";
      }
    }
    d.services.push_back(out);
  }
  return d;
}

namespace {
// Observations the model needs before its forecast is its own (forecaster.hpp: before that it answers as
// naive does); two for the one-value models, so that sigma has one error behind it.
long default_warmup(const std::string& kind, Params& f) {
  if (kind == "seasonal_naive") return f.integer("period_steps", 24) + 1;
  if (kind == "holt_winters") return 2 * f.integer("period_steps", 24);
  if (kind == "ar") {
    long p = f.integer("order", 2), dd = f.integer("differencing", 0);
    return std::max(3 * (p + 1) + dd, 2 * p + dd + 10);
  }
  if (kind == "fft") return 32;
  // an inline LibTorch model trains on what the controller has seen when it has this much (its windows
  // plus a validation split): four windows' worth
  if (forecast::is_neural_kind(kind))
    return 4 * (f.integer("input_steps", forecast::NeuralConfig{}.input_steps) +
                f.integer("max_horizon_steps", forecast::NeuralConfig{}.max_horizon_steps));
  return 2;
}
}  // namespace

std::unique_ptr<Controller> make_predictive_controller(Params& p, const ControllerContext& ctx) {
  PredictiveConfig c;
  c.services = controlled_services(p, ctx);
  c.interval_s = p.number("interval_s", 60.0);
  c.rps_per_instance = p.has("rps_per_instance") ? p.number("rps_per_instance", std::nullopt) : 0.0;
  if (p.has("rps_per_instance") && !(c.rps_per_instance > 0))
    p.fail("rps_per_instance", "a positive rate in requests per second (leave it out to estimate it online)");
  c.target_utilization = p.number("target_utilization", 0.6);
  if (!(c.target_utilization > 0)) p.fail("target_utilization", "a positive CPU utilization");
  c.capacity_alpha = p.number("capacity_alpha", 0.2);
  if (!(c.capacity_alpha > 0 && c.capacity_alpha <= 1)) p.fail("capacity_alpha", "a weight in (0, 1]");
  c.buffer_spread = p.number("buffer_spread", 0.0);
  if (c.buffer_spread < 0) p.fail("buffer_spread", "a non-negative multiple");
  c.quantile = p.number("quantile", 0.9);
  if (!(c.quantile > 0 && c.quantile < 1)) p.fail("quantile", "a probability in (0, 1)");
  c.lead_s = p.number("lead_s", 300.0);
  if (c.lead_s < 0) p.fail("lead_s", "a non-negative duration in seconds");
  c.buffer_fraction = p.number("buffer_fraction", 0.1);
  if (c.buffer_fraction < 0) p.fail("buffer_fraction", "a non-negative fraction");
  c.buffer_instances = static_cast<int>(p.integer("buffer_instances", 0));
  if (c.buffer_instances < 0) p.fail("buffer_instances", "a non-negative number of instances");
  c.scale_in_intervals = static_cast<int>(p.integer("scale_in_intervals", 5));
  if (c.scale_in_intervals < 1) p.fail("scale_in_intervals", "an integer >= 1");
  c.max_scale_in_step = static_cast<int>(p.integer("max_scale_in_step", 1));
  if (c.max_scale_in_step < 1) p.fail("max_scale_in_step", "an integer >= 1");
  c.floor_scale_out_above = p.number("floor_scale_out_above", 0.8);
  c.floor_step = static_cast<int>(p.integer("floor_step", 1));
  if (c.floor_step < 1) p.fail("floor_step", "an integer >= 1");
  c.refit_intervals = static_cast<int>(p.integer("refit_intervals", 60));
  if (c.refit_intervals < 0) p.fail("refit_intervals", "an integer >= 0 (0: never)");

  std::unique_ptr<Params> fp;
  std::map<std::string, std::unique_ptr<forecast::Forecaster>> models;
  std::string kind = "naive";
  if (p.has("forecaster")) {
    fp = p.table("forecaster");
    // a registry model (`model = "name@version"`) has its kind in its model.json
    kind = fp->has("model") ? "model" : fp->string("kind", std::string("naive"));
  }
  long warmup = fp ? default_warmup(kind, *fp) : 2;
  c.warmup_intervals = static_cast<int>(p.integer("warmup_intervals", warmup));
  if (c.warmup_intervals < 1) p.fail("warmup_intervals", "an integer >= 1");
  for (const auto& name : c.services) {
    if (fp && (fp->has("model") || fp->has("kind"))) {
      models[name] = forecast::forecaster_from_section(*fp, forecast::default_models_dir(), ctx.base_dir);
    } else if (fp) {
      models[name] = forecast::make_forecaster(kind, *fp);
    } else {
      MapParams none;
      models[name] = forecast::make_forecaster(kind, none);
    }
    const forecast::Forecaster& m = *models[name];
    if (m.trained_step_s() > 0 && std::abs(m.trained_step_s() - c.interval_s) > 1e-9 * c.interval_s)
      p.fail("interval_s", "the forecaster's step: the model was trained on " +
                               format_seconds(m.trained_step_s()) +
                               "-s steps and is fed one value per interval");
    if (c.lead_steps() > m.max_horizon_steps())
      p.fail("lead_s", "a lead within the model's horizon (" + std::to_string(m.max_horizon_steps()) +
                           " intervals), got " + std::to_string(c.lead_steps()) + " intervals");
  }
  return std::make_unique<PredictiveController>(std::move(c), std::move(models));
}

}  // namespace autoscale
