#include "controllers/aws/step_scaling.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/registry.hpp"

namespace autoscale::aws {

const StepAdjustment* StepPolicy::step_for(double value) const {
  double diff = value - threshold;
  bool above = is_upper(comparison) ? diff >= 0 : diff > 0;
  for (const auto& s : steps)
    if (above ? (s.lower <= diff && diff < s.upper) : (s.lower < diff && diff <= s.upper)) return &s;
  return nullptr;
}

Decision StepScalingController::decide(const Observation& obs) {
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    auto& alarms = alarms_[name];
    if (alarms.empty())
      for (const auto& p : cfg_.policies) alarms.emplace_back(p.evaluation_periods, p.datapoints_to_alarm);
    ServiceDecision out{name, s->desired, cfg_.policies.front().metric.name, 0, ""};
    bool fired = false, any_datapoint = false;
    std::string quiet;  // the alarms' states when none fires
    for (size_t k = 0; k < cfg_.policies.size(); ++k) {
      const StepPolicy& p = cfg_.policies[k];
      Alarm& alarm = alarms[k];
      Datapoint dp = datapoint(p.metric, *s, obs.time_s, p.warmup_s);
      if (!dp.valid) {
        quiet += (quiet.empty() ? "" : " ") + p.name + " no_data";
        continue;
      }
      if (!any_datapoint) out.metric_value = dp.value;
      any_datapoint = true;
      alarm.add(breaches(p.comparison, dp.value, p.threshold));
      if (!alarm.in_alarm()) {
        quiet += (quiet.empty() ? "" : " ") + p.name + " " + alarm.text();
        continue;
      }
      ServiceDecision cand{name, s->desired, p.metric.name, dp.value, p.name + " " + alarm.text()};
      const StepAdjustment* step = p.step_for(dp.value);
      if (!step) {
        cand.rule += ",no_step";
      } else {
        Capacity cap = capacity(*s, obs.time_s, p.warmup_s);
        cand.diagnostics["capacity_counted"] = cap.counted;
        cand.diagnostics["in_flight"] = cap.in_flight;
        cand.diagnostics["scaling_adjustment"] = step->adjustment;
        int scale_out_target =
            adjusted(p.adjustment_type, cap.counted, step->adjustment, p.min_adjustment_magnitude);
        bool out_step = p.adjustment_type == AdjustmentType::exact_capacity ? step->adjustment > s->desired
                                                                            : step->adjustment > 0;
        if (out_step) {
          cand.desired = std::max(s->desired, scale_out_target);
          if (cand.desired == s->desired) cand.rule += ",in_flight";
        } else if (p.adjustment_type == AdjustmentType::exact_capacity ? step->adjustment < s->desired
                                                                       : step->adjustment < 0) {
          if (cap.in_flight > 0 || cap.draining > 0)
            cand.rule += ",scaling_in_progress";
          else
            cand.desired =
                adjusted(p.adjustment_type, s->desired, step->adjustment, p.min_adjustment_magnitude);
        }
      }
      // Several alarms in ALARM: the policy giving the largest capacity wins (ties: the first listed).
      if (!fired || cand.desired > out.desired) out = cand;
      fired = true;
    }
    if (!fired) out.rule = any_datapoint ? "ok " + quiet : "insufficient_data " + quiet;
    out.desired = clamp_to_group(out.desired, *s, out.rule);
    d.services.push_back(out);
  }
  return d;
}

}  // namespace autoscale::aws

namespace autoscale {

namespace {
aws::StepPolicy read_policy(Params& p, double group_warmup, size_t index) {
  aws::StepPolicy sp;
  std::string type = p.string("PolicyType", "StepScaling");
  if (type != "StepScaling") p.fail("PolicyType", "\"StepScaling\" (other policy types are other kinds)");
  sp.comparison = aws::read_comparison(p, "ComparisonOperator");
  sp.name = p.string("PolicyName", aws::is_upper(sp.comparison) ? "high_alarm" : "low_alarm");
  if (sp.name.empty()) p.fail("PolicyName", "a non-empty name");
  sp.metric = aws::observation_or_cpu(p, "MetricName", p.string("MetricName", "CPUUtilization"));
  sp.metric.aggregation = aws::read_aggregation(p, "MetricAggregationType");
  sp.threshold = p.number("Threshold", std::nullopt);
  sp.evaluation_periods = static_cast<int>(p.integer("EvaluationPeriods", 1));
  sp.datapoints_to_alarm = static_cast<int>(p.integer("DatapointsToAlarm", sp.evaluation_periods));
  if (sp.datapoints_to_alarm > sp.evaluation_periods)
    p.fail("DatapointsToAlarm", "at most EvaluationPeriods (" + std::to_string(sp.evaluation_periods) + ")");
  sp.adjustment_type = aws::read_adjustment_type(p, "AdjustmentType");
  if (p.has("MinAdjustmentMagnitude") &&
      sp.adjustment_type != aws::AdjustmentType::percent_change_in_capacity)
    p.fail("MinAdjustmentMagnitude", "only with AdjustmentType = \"PercentChangeInCapacity\"");
  sp.min_adjustment_magnitude = static_cast<int>(p.integer("MinAdjustmentMagnitude", 1));
  sp.warmup_s = aws::read_warmup(p, group_warmup);
  for (auto& st : p.tables("StepAdjustments")) {
    aws::StepAdjustment a;
    if (st->has("MetricIntervalLowerBound")) a.lower = st->number("MetricIntervalLowerBound", std::nullopt);
    if (st->has("MetricIntervalUpperBound")) a.upper = st->number("MetricIntervalUpperBound", std::nullopt);
    a.adjustment = static_cast<int>(st->integer("ScalingAdjustment", std::nullopt));
    if (std::isinf(a.lower) && std::isinf(a.upper))
      st->fail("MetricIntervalLowerBound",
               "a lower or an upper bound (a step cannot be unbounded on both sides)");
    if (a.lower >= a.upper) st->fail("MetricIntervalUpperBound", "an upper bound above the lower bound");
    if (sp.adjustment_type == aws::AdjustmentType::exact_capacity && a.adjustment < 0)
      st->fail("ScalingAdjustment", "a capacity >= 0 for ExactCapacity");
    st->finish();
    sp.steps.push_back(a);
  }
  if (sp.steps.empty()) p.fail("StepAdjustments", "at least one [[...StepAdjustments]]");
  std::sort(sp.steps.begin(), sp.steps.end(), [](const auto& a, const auto& b) { return a.lower < b.lower; });
  for (size_t i = 1; i < sp.steps.size(); ++i)
    if (sp.steps[i].lower != sp.steps[i - 1].upper)
      p.fail("StepAdjustments", "steps whose ranges neither overlap nor leave a gap (policy " +
                                    std::to_string(index) + ": one step ends where the next begins)");
  return sp;
}
}  // namespace

std::unique_ptr<Controller> make_aws_step_controller(Params& p, const ControllerContext& ctx) {
  aws::StepScalingConfig c;
  c.services = controlled_services(p, ctx);
  double group_warmup = aws::read_group_warmup(p);
  auto policies = p.tables("ScalingPolicies");
  for (size_t k = 0; k < policies.size(); ++k) {
    c.policies.push_back(read_policy(*policies[k], group_warmup, k));
    policies[k]->finish();
  }
  if (c.policies.empty()) p.fail("ScalingPolicies", "at least one [[controller.ScalingPolicies]]");
  c.interval_s = p.number("interval_s", 60.0);
  if (c.interval_s <= 0) p.fail("interval_s", "a positive interval in seconds");
  return std::make_unique<aws::StepScalingController>(std::move(c));
}

}  // namespace autoscale
