#pragma once
// `aws_step`: EC2 Auto Scaling step scaling. Each of `[[ScalingPolicies]]` is a step scaling policy with the
// CloudWatch alarm that invokes it (MetricName, Threshold, ComparisonOperator, EvaluationPeriods,
// DatapointsToAlarm; one datapoint per tick). While its alarm is in ALARM the policy runs at every tick: the
// step whose bounds (relative to Threshold) hold the aggregated metric gives the adjustment. There is no
// cooldown; instead a scale-out is computed from the capacity past warm-up and never lowers the desired count
// (launches in flight count toward it, so breaches within the same step make one scaling activity), and a
// scale-in waits until no instance is launching, warming or draining. When several alarms fire, the policy
// giving the largest capacity wins.
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "controllers/aws/cloudwatch.hpp"
#include "controllers/controller.hpp"

namespace autoscale::aws {

struct StepAdjustment {
  double lower = -std::numeric_limits<double>::infinity();  // MetricIntervalLowerBound (absent: -infinity)
  double upper = std::numeric_limits<double>::infinity();   // MetricIntervalUpperBound (absent: +infinity)
  int adjustment = 0;                                       // ScalingAdjustment
};

struct StepPolicy {
  std::string name;  // PolicyName, as the rule shows it
  MetricSpec metric;
  Comparison comparison = Comparison::greater_or_equal;
  double threshold = 0;
  int evaluation_periods = 1;
  int datapoints_to_alarm = 1;
  AdjustmentType adjustment_type = AdjustmentType::change_in_capacity;
  int min_adjustment_magnitude = 1;
  double warmup_s = 300;
  std::vector<StepAdjustment> steps;  // sorted by lower bound, contiguous
  // The step holding `value` (bounds relative to the threshold: above it the lower bound is inclusive, below
  // it the upper one); nullptr when none does.
  const StepAdjustment* step_for(double value) const;
};

struct StepScalingConfig {
  std::vector<std::string> services;
  std::vector<StepPolicy> policies;
  double interval_s = 60;
};

class StepScalingController : public Controller {
 public:
  explicit StepScalingController(StepScalingConfig cfg) : cfg_(std::move(cfg)) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }

 private:
  StepScalingConfig cfg_;
  std::map<std::string, std::vector<Alarm>> alarms_;  // per service, one per policy
};

}  // namespace autoscale::aws
