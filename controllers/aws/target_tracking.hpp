#pragma once
// `aws_target_tracking`: EC2 Auto Scaling target tracking. The policy owns two CloudWatch alarms on one
// datapoint per tick (60 s: CloudWatch's one-minute datapoints): AlarmHigh, metric > target on 3 of 3
// datapoints, and AlarmLow, metric < 90 % of the target on 15 of 15. In AlarmHigh the desired capacity
// becomes max(desired, ceil(counted × metric / target)), where `counted` excludes instances in warm-up (so
// launches still in flight count toward the new capacity and repeated breaches do not stack). In AlarmLow it
// scales in to ceil(desired × metric / target) — never so far that the metric would rise above the target —
// only when no instance is launching, warming or draining; `DisableScaleIn` removes AlarmLow. The aggregated
// metric leaves out instances in warm-up.
#include <map>
#include <string>
#include <vector>

#include "controllers/aws/cloudwatch.hpp"
#include "controllers/controller.hpp"

namespace autoscale::aws {

// AlarmLow's threshold as a fraction of the target: AWS documents scale-in "at a threshold far enough below
// the target value (usually more than 10 % lower)".
constexpr double kScaleInThresholdFraction = 0.9;

struct TargetTrackingConfig {
  std::vector<std::string> services;
  MetricSpec metric;  // default: ASGAverageCPUUtilization
  double target_value = 50;
  bool disable_scale_in = false;
  double warmup_s = 300;
  int scale_out_datapoints = 3;  // AWS: 3 of 3 (fixed); settable to study the delay
  int scale_in_datapoints = 15;  // AWS: 15 of 15
  double interval_s = 60;
};

class TargetTrackingController : public Controller {
 public:
  explicit TargetTrackingController(TargetTrackingConfig cfg) : cfg_(std::move(cfg)) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }

 private:
  struct Alarms {
    Alarm high, low;
  };
  TargetTrackingConfig cfg_;
  std::map<std::string, Alarms> alarms_;
};

}  // namespace autoscale::aws
