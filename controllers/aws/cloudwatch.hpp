#pragma once
// What AWS EC2 Auto Scaling's dynamic policies share: CloudWatch metric alarms on one datapoint per
// controller tick (a one-minute Period by default), the group's metric aggregated over instances past their
// warm-up, the capacity that counts (warming instances do not, in-flight launches count toward the new
// desired), and the adjustment types of step and simple scaling.
#include <deque>
#include <string>

#include "controllers/observation.hpp"
#include "controllers/params.hpp"

namespace autoscale::aws {

// CloudWatch's ComparisonOperator.
enum class Comparison { greater_or_equal, greater, less, less_or_equal };
Comparison read_comparison(Params& p, const std::string& key);
bool breaches(Comparison c, double value, double threshold);
inline bool is_upper(Comparison c) {
  return c == Comparison::greater || c == Comparison::greater_or_equal;
}

// A metric alarm: ALARM while at least `datapoints_to_alarm` of the last `evaluation_periods` datapoints
// breach ("M out of N"). A tick without a datapoint adds none (TreatMissingData = missing: the alarm keeps
// its state and looks at the datapoints it has).
class Alarm {
 public:
  Alarm(int evaluation_periods, int datapoints_to_alarm)
      : periods_(evaluation_periods), to_alarm_(datapoints_to_alarm) {}
  void add(bool breaching);
  bool in_alarm() const { return breaching() >= to_alarm_; }
  int breaching() const;
  // "3/3": breaching datapoints among the last evaluation_periods, as the rule shows it.
  std::string text() const { return std::to_string(breaching()) + "/" + std::to_string(periods_); }

 private:
  int periods_;
  int to_alarm_;
  std::deque<bool> recent_;
};

// The metric a policy or its alarm watches.
struct MetricSpec {
  enum class Source {
    instance_cpu_percent,     // per-instance CPU utilization in percent (EC2's CPUUtilization), aggregated
    alb_requests_per_target,  // requests per ready target per minute (ALBRequestCountPerTarget)
    observation,              // a service-level observation metric, as monitoring shows it
  } source = Source::instance_cpu_percent;
  std::string name = "CPUUtilization";  // as decisions name it
  enum class Aggregation { average, minimum, maximum } aggregation = Aggregation::average;
};
// `name`: "CPUUtilization" or an observation metric name; fails on `key` otherwise.
MetricSpec observation_or_cpu(Params& p, const std::string& key, const std::string& name);
MetricSpec::Aggregation read_aggregation(Params& p, const std::string& key);

// Instance warm-up: the policy's EstimatedInstanceWarmup, else the group's DefaultInstanceWarmup, else 300 s
// (the default cooldown, as AWS falls back to).
double read_warmup(Params& p, double group_default_s);
double read_group_warmup(Params& p);

// Whether an instance is past its warm-up at `now`: ready, not draining, and ready for at least `warmup_s`.
// Instances ready at time 0 or before (the fleet the run starts with, or a decide line without times) are
// not warming: warm-up applies to instances that scaling launched.
bool warmed_up(const InstanceObservation& i, double now, double warmup_s);

struct Datapoint {
  bool valid = false;  // false: no instance past its warm-up reports (INSUFFICIENT_DATA)
  double value = 0;
  int instances = 0;  // instances whose values were aggregated (0 for service-level metrics)
};
Datapoint datapoint(const MetricSpec& m, const ServiceObservation& s, double now, double warmup_s);

// The group's capacity as AWS counts it for a scaling decision.
struct Capacity {
  int desired = 0;    // the group's desired capacity
  int counted = 0;    // in service and past warm-up: the "current capacity" scale-outs are computed from
  int in_flight = 0;  // launching, starting or warming: counts toward a scale-out, blocks a scale-in
  int draining = 0;   // a scale-in still in progress
};
Capacity capacity(const ServiceObservation& s, double now, double warmup_s);

// Step and simple scaling's AdjustmentType.
enum class AdjustmentType { change_in_capacity, exact_capacity, percent_change_in_capacity };
AdjustmentType read_adjustment_type(Params& p, const std::string& key);
// The capacity an adjustment asks for from `base`: PercentChangeInCapacity rounds as AWS does (above 1 down,
// between 0 and 1 to 1, between -1 and 0 to -1, below -1 up) and changes by at least `min_magnitude`.
int adjusted(AdjustmentType t, int base, int adjustment, int min_magnitude);

// "high_alarm 3/3" plus ",max_instances" / ",min_instances" when the group's bounds cut the change.
int clamp_to_group(int want, const ServiceObservation& s, std::string& rule);

}  // namespace autoscale::aws
