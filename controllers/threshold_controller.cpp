#include "controllers/threshold_controller.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "controllers/registry.hpp"

namespace autoscale {

int ThresholdController::step(int current, double adjustment) const {
  if (cfg_.adjustment == ThresholdConfig::Adjustment::change_in_capacity) return static_cast<int>(adjustment);
  // AWS: PercentChangeInCapacity rounds toward zero, then applies MinAdjustmentMagnitude.
  int n = static_cast<int>(std::trunc(current * adjustment / 100.0));
  return std::max(n, cfg_.min_adjustment_magnitude);
}

Decision ThresholdController::decide(const Observation& obs) {
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    ServiceDecision out{name, s->desired, cfg_.metric, 0, "within_bounds"};
    if (!s->metrics_valid) {
      out.rule = "no_metrics";
      d.services.push_back(out);
      continue;
    }
    double v = 0;
    observation_metric(*s, cfg_.metric, v);
    out.metric_value = v;
    st.above = v > cfg_.scale_out_above ? st.above + 1 : 0;
    st.below = v < cfg_.scale_in_below ? st.below + 1 : 0;
    bool out_alarm = st.above >= cfg_.evaluation_periods;
    bool in_alarm = st.below >= cfg_.evaluation_periods;
    if (out_alarm || in_alarm) {
      bool busy = out_alarm ? (s->starting + s->pending > 0) : (s->draining > 0);
      if (obs.time_s < st.last_action_s + cfg_.cooldown_s) {
        out.rule = "cooldown";
      } else if (busy) {
        out.rule = "activity_in_progress";
      } else {
        int want = out_alarm ? s->desired + step(s->desired, cfg_.scale_out_adjustment)
                             : s->desired - step(s->desired, cfg_.scale_in_adjustment);
        int clamped = std::clamp(want, s->min_instances, s->max_instances);
        out.rule = out_alarm ? "scale_out_above" : "scale_in_below";
        if (clamped != want) out.rule = out_alarm ? "max_instances" : "min_instances";
        if (clamped != s->desired) st.last_action_s = obs.time_s;
        out.desired = clamped;
      }
    }
    d.services.push_back(out);
  }
  return d;
}

std::unique_ptr<Controller> make_threshold_controller(Params& p, const ControllerContext& ctx) {
  ThresholdConfig c;
  c.services = controlled_services(p, ctx);
  c.metric = p.string("metric", c.metric);
  const auto& names = observation_metric_names();
  if (std::find(names.begin(), names.end(), c.metric) == names.end()) {
    std::string list;
    for (const auto& n : names) list += " " + n;
    p.fail("metric", "unknown metric '" + c.metric + "'; expected one of:" + list);
  }
  c.scale_out_above = p.number("scale_out_above", std::nullopt);
  c.scale_in_below = p.number("scale_in_below", std::nullopt);
  if (c.scale_in_below >= c.scale_out_above) p.fail("scale_in_below", "a value below scale_out_above");
  std::string adj = p.string("adjustment_type", "change_in_capacity");
  if (adj == "percent_change_in_capacity")
    c.adjustment = ThresholdConfig::Adjustment::percent_change_in_capacity;
  else if (adj != "change_in_capacity")
    p.fail("adjustment_type", "\"change_in_capacity\" or \"percent_change_in_capacity\"");
  // An adjustment that rounds to zero instances would never change the count.
  auto adjustment = [&](const char* key) {
    double a = p.number(key, 1.0);
    if (a <= 0) p.fail(key, "a positive adjustment");
    if (c.adjustment == ThresholdConfig::Adjustment::change_in_capacity && a != std::trunc(a)) {
      std::ostringstream what;
      what << "expected a whole number of instances for change_in_capacity (" << a
           << " would change the count by " << static_cast<int>(a) << ")";
      p.fail(key, what.str());
    }
    return a;
  };
  c.scale_out_adjustment = adjustment("scale_out_adjustment");
  c.scale_in_adjustment = adjustment("scale_in_adjustment");
  c.min_adjustment_magnitude = static_cast<int>(p.integer("min_adjustment_magnitude", 1));
  if (c.min_adjustment_magnitude < 1)
    p.fail("min_adjustment_magnitude",
           "expected an integer >= 1 (a percent adjustment that rounds to 0 would never change the count)");
  c.cooldown_s = p.number("cooldown_s", 300.0);
  if (c.cooldown_s < 0) p.fail("cooldown_s", "a non-negative duration in seconds");
  c.evaluation_periods = static_cast<int>(p.integer("evaluation_periods", 1));
  if (c.evaluation_periods < 1) p.fail("evaluation_periods", "an integer >= 1");
  c.interval_s = p.number("interval_s", 60.0);
  if (c.interval_s <= 0) p.fail("interval_s", "a positive interval in seconds");
  return std::make_unique<ThresholdController>(std::move(c));
}

}  // namespace autoscale
