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

PredictiveController::PredictiveController(PredictiveConfig cfg, std::map<std::string, ForecastFeed> feeds)
    : cfg_(std::move(cfg)) {
  for (auto& [name, feed] : feeds) state_[name].feed = std::move(feed);
}

namespace {
// ceil with a little slack, so that 10.000000000001 instances (rounding in rate * (1 + buffer)) are 10.
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

    st.feed.feed(*s, obs.time_s, cfg_.feed);
    out.diagnostics["quantile"] = cfg_.quantile;
    out.diagnostics["lead_s"] = lead * cfg_.interval_s;
    out.diagnostics["floor_instances"] = floor;

    if (!st.feed.warm(cfg_.feed)) {
      // Not enough history for the model: the floor alone, which never scales in.
      int want = std::max(current, floor);
      out.desired = std::clamp(want, s->min_instances, s->max_instances);
      out.diagnostic_strings["warmup"] = "forecaster has " + std::to_string(st.feed.observed()) + " of " +
                                         std::to_string(cfg_.feed.warmup_intervals) + " observations";
      d.services.push_back(out);
      continue;
    }

    // Capacity per instance: configured, or estimated from what the ready instances served per unit of CPU.
    double per_instance = cfg_.rps_per_instance;
    if (per_instance <= 0) {
      if (st.feed.capacity_rps() > 0)
        per_instance = st.feed.capacity_rps();
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
    forecast::Forecast f = spread ? st.feed.model().predict({lead}, {cfg_.quantile, 0.1, 0.9})
                                  : st.feed.model().predict({lead}, {cfg_.quantile});
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

  long warmup = 2;
  std::map<std::string, ForecastFeed> feeds =
      make_feeds(p, ctx, c.services, c.interval_s, c.lead_steps(), "lead_s", &warmup);
  c.feed.interval_s = c.interval_s;
  c.feed.refit_intervals = c.refit_intervals;
  c.feed.target_utilization = c.target_utilization;
  c.feed.capacity_alpha = c.capacity_alpha;
  c.feed.warmup_intervals = static_cast<int>(p.integer("warmup_intervals", warmup));
  if (c.feed.warmup_intervals < 1) p.fail("warmup_intervals", "an integer >= 1");
  preload_feeds(feeds, ctx, c.feed);  // monitoring's history before the run, if any
  return std::make_unique<PredictiveController>(std::move(c), std::move(feeds));
}

}  // namespace autoscale
