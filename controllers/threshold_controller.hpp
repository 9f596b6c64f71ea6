#pragma once
// `threshold`: AWS EC2 Auto Scaling *simple scaling*. An alarm fires when the metric is above
// `scale_out_above` (below `scale_in_below`) for `evaluation_periods` consecutive evaluations; the policy
// then changes the desired count by one adjustment and waits until the scaling activity has completed (no
// instance still starting for a scale-out, none draining for a scale-in) and `cooldown_s` (default 300 s,
// AWS's default cooldown) has passed since the adjustment before it responds to another alarm.
#include <map>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale {

struct ThresholdConfig {
  std::vector<std::string> services;
  std::string metric = "cpu_utilization";
  double scale_out_above = 0.7;
  double scale_in_below = 0.3;
  enum class Adjustment {
    change_in_capacity,
    percent_change_in_capacity
  } adjustment = Adjustment::change_in_capacity;
  double scale_out_adjustment = 1;  // instances, or percent of the current count
  double scale_in_adjustment = 1;
  int min_adjustment_magnitude = 1;  // percent adjustments change the count by at least this much
  double cooldown_s = 300;
  int evaluation_periods = 1;
  double interval_s = 60;
};

class ThresholdController : public Controller {
 public:
  explicit ThresholdController(ThresholdConfig cfg) : cfg_(std::move(cfg)) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }

 private:
  struct State {
    int above = 0;  // consecutive evaluations above the scale-out bound
    int below = 0;
    double last_action_s = -1e300;
  };
  int step(int current, double adjustment) const;
  ThresholdConfig cfg_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale
