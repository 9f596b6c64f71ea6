#include "controllers/aws/cloudwatch.hpp"

#include <algorithm>
#include <cmath>

namespace autoscale::aws {

Comparison read_comparison(Params& p, const std::string& key) {
  std::string v = p.string(key, std::nullopt);
  if (v == "GreaterThanOrEqualToThreshold") return Comparison::greater_or_equal;
  if (v == "GreaterThanThreshold") return Comparison::greater;
  if (v == "LessThanThreshold") return Comparison::less;
  if (v == "LessThanOrEqualToThreshold") return Comparison::less_or_equal;
  p.fail(key, "unknown ComparisonOperator \"" + v +
                  "\"; expected GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold or "
                  "LessThanOrEqualToThreshold");
}

bool breaches(Comparison c, double value, double threshold) {
  switch (c) {
    case Comparison::greater_or_equal:
      return value >= threshold;
    case Comparison::greater:
      return value > threshold;
    case Comparison::less:
      return value < threshold;
    case Comparison::less_or_equal:
      return value <= threshold;
  }
  return false;
}

void Alarm::add(bool breaching) {
  recent_.push_back(breaching);
  while (static_cast<int>(recent_.size()) > periods_) recent_.pop_front();
}

int Alarm::breaching() const {
  return static_cast<int>(std::count(recent_.begin(), recent_.end(), true));
}

MetricSpec observation_or_cpu(Params& p, const std::string& key, const std::string& name) {
  MetricSpec m;
  m.name = name;
  if (name == "CPUUtilization") return m;
  const auto& names = observation_metric_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string list;
    for (const auto& n : names) list += " " + n;
    p.fail(key, "unknown metric '" + name +
                    "'; expected CPUUtilization (per instance, percent) or one of:" + list);
  }
  m.source = MetricSpec::Source::observation;
  return m;
}

MetricSpec::Aggregation read_aggregation(Params& p, const std::string& key) {
  std::string v = p.string(key, "Average");
  if (v == "Average") return MetricSpec::Aggregation::average;
  if (v == "Minimum") return MetricSpec::Aggregation::minimum;
  if (v == "Maximum") return MetricSpec::Aggregation::maximum;
  p.fail(key, "unknown aggregation \"" + v + "\"; expected Average, Minimum or Maximum");
}

double read_group_warmup(Params& p) {
  return p.number("DefaultInstanceWarmup", 300.0);
}

double read_warmup(Params& p, double group_default_s) {
  return p.number("EstimatedInstanceWarmup", group_default_s);
}

bool warmed_up(const InstanceObservation& i, double now, double warmup_s) {
  if (!i.ready || i.deleting) return false;
  return i.ready_time_s <= 0 || i.ready_time_s + warmup_s <= now;
}

Datapoint datapoint(const MetricSpec& m, const ServiceObservation& s, double now, double warmup_s) {
  Datapoint d;
  if (!s.metrics_valid) return d;
  switch (m.source) {
    case MetricSpec::Source::observation:
      d.valid = observation_metric(s, m.name, d.value);
      return d;
    case MetricSpec::Source::alb_requests_per_target:
      if (s.ready() == 0) return d;
      d.valid = true;
      d.value = s.arrival_rps * 60.0 / s.ready();
      return d;
    case MetricSpec::Source::instance_cpu_percent:
      break;
  }
  if (s.instances.empty()) {
    // No instance list (a decide line without pods): the service-level utilization, nothing to exclude.
    if (s.ready() == 0) return d;
    d.valid = true;
    d.value = 100.0 * s.cpu_utilization;
    return d;
  }
  double sum = 0, lo = 0, hi = 0;
  for (const auto& i : s.instances) {
    if (!warmed_up(i, now, warmup_s) || !i.has_metrics || i.cpu_request_cores <= 0) continue;
    double v = 100.0 * i.cpu_usage_cores / i.cpu_request_cores;
    lo = d.instances == 0 ? v : std::min(lo, v);
    hi = d.instances == 0 ? v : std::max(hi, v);
    sum += v;
    ++d.instances;
  }
  if (d.instances == 0) return d;
  d.valid = true;
  switch (m.aggregation) {
    case MetricSpec::Aggregation::average:
      d.value = sum / d.instances;
      break;
    case MetricSpec::Aggregation::minimum:
      d.value = lo;
      break;
    case MetricSpec::Aggregation::maximum:
      d.value = hi;
      break;
  }
  return d;
}

Capacity capacity(const ServiceObservation& s, double now, double warmup_s) {
  Capacity c;
  c.desired = s.desired;
  if (s.instances.empty()) {
    c.counted = s.ready();
    c.in_flight = s.pending + s.starting;
    c.draining = s.draining;
    return c;
  }
  for (const auto& i : s.instances) {
    if (i.deleting)
      ++c.draining;
    else if (warmed_up(i, now, warmup_s))
      ++c.counted;
    else
      ++c.in_flight;
  }
  return c;
}

AdjustmentType read_adjustment_type(Params& p, const std::string& key) {
  std::string v = p.string(key, "ChangeInCapacity");
  if (v == "ChangeInCapacity") return AdjustmentType::change_in_capacity;
  if (v == "ExactCapacity") return AdjustmentType::exact_capacity;
  if (v == "PercentChangeInCapacity") return AdjustmentType::percent_change_in_capacity;
  p.fail(key, "unknown AdjustmentType \"" + v +
                  "\"; expected ChangeInCapacity, ExactCapacity or PercentChangeInCapacity");
}

int adjusted(AdjustmentType t, int base, int adjustment, int min_magnitude) {
  switch (t) {
    case AdjustmentType::change_in_capacity:
      return base + adjustment;
    case AdjustmentType::exact_capacity:
      return adjustment;
    case AdjustmentType::percent_change_in_capacity:
      break;
  }
  double raw = base * adjustment / 100.0;
  int n = 0;
  if (raw >= 1)
    n = static_cast<int>(std::floor(raw));
  else if (raw > 0)
    n = 1;
  else if (raw > -1)
    n = raw < 0 ? -1 : 0;
  else
    n = static_cast<int>(std::ceil(raw));
  if (n > 0) n = std::max(n, min_magnitude);
  if (n < 0) n = std::min(n, -min_magnitude);
  return base + n;
}

int clamp_to_group(int want, const ServiceObservation& s, std::string& rule) {
  int got = std::clamp(want, s.min_instances, std::max(s.min_instances, s.max_instances));
  if (got < want) rule += ",max_instances";
  if (got > want) rule += ",min_instances";
  return got;
}

}  // namespace autoscale::aws
