#pragma once
// `scheduled`: AWS scheduled actions around any other controller (`[controller.inner]`), as AWS stacks them
// with dynamic scaling. Each action fires at a one-off `StartTime` or at every match of its cron `Recurrence`
// (in its `TimeZone`, between `StartTime` and `EndTime`), and sets the group's `MinSize`, `MaxSize` and/or
// `DesiredCapacity`. The inner controller sees the schedule's bounds as the group's and its decisions are
// clamped to them. A DesiredCapacity holds for the tick its action fires (the inner controller's answer that
// tick is discarded, its memory still advances); from the next tick the inner controller moves the count
// within the bounds, as AWS's dynamic policies do. Simulated t = 0 is `startTime`; actions fire at the first
// tick at or after their time; occurrences before t = 0 are not replayed (the group starts with the
// services' own bounds).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/wrappers/schedule_time.hpp"

namespace autoscale::wrappers {

struct ScheduledAction {
  std::string name;
  std::optional<Cron> recurrence;
  long offset_s = 0;              // TimeZone, east of UTC
  std::optional<double> start_s;  // simulated seconds (StartTime)
  std::optional<double> end_s;    // EndTime
  std::optional<int> min_size, max_size, desired_capacity;
};

class ScheduledController : public Controller {
 public:
  ScheduledController(std::unique_ptr<Controller> inner, std::vector<std::string> services,
                      std::vector<ScheduledAction> actions, double epoch_s);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return inner_->interval_s(); }
  std::vector<std::string> scale_to_zero_services() const override {
    return inner_->scale_to_zero_services();
  }
  std::map<std::string, MetricWindows> metric_windows() const override { return inner_->metric_windows(); }
  bool wants_foresight() const override { return inner_->wants_foresight(); }
  void set_foresight(Foresight& foresight) override { inner_->set_foresight(foresight); }

 private:
  // The next time (simulated seconds) action k fires at or after `t`; nullopt: never again.
  std::optional<double> next_fire(size_t k, double t) const;
  std::unique_ptr<Controller> inner_;
  std::vector<std::string> services_;
  std::vector<ScheduledAction> actions_;
  double epoch_s_;
  std::vector<std::optional<double>> next_;  // per action
  std::optional<int> min_, max_;             // the group's bounds as the schedule last set them
};

}  // namespace autoscale::wrappers
