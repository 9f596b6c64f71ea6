#include "controllers/aws/target_tracking.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/registry.hpp"

namespace autoscale::aws {

Decision TargetTrackingController::decide(const Observation& obs) {
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    auto it = alarms_.find(name);
    if (it == alarms_.end())
      it = alarms_
               .emplace(name, Alarms{Alarm(cfg_.scale_out_datapoints, cfg_.scale_out_datapoints),
                                     Alarm(cfg_.scale_in_datapoints, cfg_.scale_in_datapoints)})
               .first;
    Alarms& a = it->second;
    ServiceDecision out{name, s->desired, cfg_.metric.name, 0, ""};
    const double low_threshold = kScaleInThresholdFraction * cfg_.target_value;
    out.diagnostics["target_value"] = cfg_.target_value;
    out.diagnostics["alarm_low_threshold"] = low_threshold;
    Datapoint dp = datapoint(cfg_.metric, *s, obs.time_s, cfg_.warmup_s);
    Capacity cap = capacity(*s, obs.time_s, cfg_.warmup_s);
    out.diagnostics["capacity_counted"] = cap.counted;
    out.diagnostics["in_flight"] = cap.in_flight;
    if (!dp.valid) {
      out.rule = "insufficient_data";
      d.services.push_back(out);
      continue;
    }
    out.metric_value = dp.value;
    a.high.add(dp.value > cfg_.target_value);
    if (!cfg_.disable_scale_in) a.low.add(dp.value < low_threshold);
    out.diagnostics["datapoints_high"] = a.high.breaching();
    out.diagnostics["datapoints_low"] = a.low.breaching();
    if (a.high.in_alarm()) {
      out.rule = "high_alarm " + a.high.text();
      // As the scale-in branch: a ratio a rounding error above an integer (a saturated 100 % over a 60 %
      // target on 3 instances) asks for that integer.
      int want = static_cast<int>(std::ceil(std::max(cap.counted, 1) * dp.value / cfg_.target_value - 1e-9));
      if (want <= s->desired) {
        out.rule += ",in_flight";  // what is launching or warming already covers it
        want = s->desired;
      }
      out.desired = clamp_to_group(want, *s, out.rule);
    } else if (!cfg_.disable_scale_in && a.low.in_alarm()) {
      out.rule = "low_alarm " + a.low.text();
      if (cap.in_flight > 0 || cap.draining > 0) {
        out.rule += ",scaling_in_progress";  // scale-in waits until launches warm up and drains finish
      } else {
        int want = static_cast<int>(std::ceil(s->desired * dp.value / cfg_.target_value - 1e-9));
        want = std::min(want, s->desired);
        out.desired = clamp_to_group(want, *s, out.rule);
      }
    } else {
      out.rule = "ok high " + a.high.text() + (cfg_.disable_scale_in ? "" : " low " + a.low.text());
    }
    d.services.push_back(out);
  }
  return d;
}

}  // namespace autoscale::aws

namespace autoscale {

std::unique_ptr<Controller> make_aws_target_tracking_controller(Params& p, const ControllerContext& ctx) {
  aws::TargetTrackingConfig c;
  c.services = controlled_services(p, ctx);
  double group_warmup = aws::read_group_warmup(p);
  c.warmup_s = aws::read_warmup(p, group_warmup);
  auto tt = p.table("TargetTrackingConfiguration");
  c.target_value = tt->number("TargetValue", std::nullopt);
  c.disable_scale_in = tt->boolean("DisableScaleIn", false);
  bool predefined = tt->has("PredefinedMetricSpecification");
  bool customized = tt->has("CustomizedMetricSpecification");
  if (predefined && customized)
    tt->fail("CustomizedMetricSpecification",
             "either PredefinedMetricSpecification or CustomizedMetricSpecification");
  if (customized) {
    auto m = tt->table("CustomizedMetricSpecification");
    c.metric = aws::observation_or_cpu(*m, "MetricName", m->string("MetricName", std::nullopt));
    c.metric.aggregation = aws::read_aggregation(*m, "Statistic");
    m->string("Namespace", "");  // CloudWatch's bookkeeping: accepted so that a policy can be pasted
    m->string("Unit", "");
    m->tables("Dimensions");
    m->finish();
  } else {
    c.metric.name = "ASGAverageCPUUtilization";
    if (predefined) {
      auto m = tt->table("PredefinedMetricSpecification");
      std::string type = m->string("PredefinedMetricType", std::nullopt);
      if (type == "ALBRequestCountPerTarget")
        c.metric.source = aws::MetricSpec::Source::alb_requests_per_target;
      else if (type != "ASGAverageCPUUtilization")
        m->fail("PredefinedMetricType", "\"ASGAverageCPUUtilization\" or \"ALBRequestCountPerTarget\"");
      c.metric.name = type;
      m->string("ResourceLabel", "");
      m->finish();
    }
  }
  tt->finish();
  c.scale_out_datapoints = static_cast<int>(p.integer("scaleOutDatapoints", 3));
  c.scale_in_datapoints = static_cast<int>(p.integer("scaleInDatapoints", 15));
  c.interval_s = p.number("interval_s", 60.0);
  if (c.target_value <= 0) p.fail("TargetValue", "a positive target");
  if (c.scale_out_datapoints < 1) p.fail("scaleOutDatapoints", "an integer >= 1");
  if (c.scale_in_datapoints < 1) p.fail("scaleInDatapoints", "an integer >= 1");
  if (c.interval_s <= 0) p.fail("interval_s", "a positive interval in seconds");
  return std::make_unique<aws::TargetTrackingController>(std::move(c));
}

}  // namespace autoscale
