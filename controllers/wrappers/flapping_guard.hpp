#pragma once
// `flapping_guard`: Azure autoscale's flapping check around any reactive controller (`[controller.inner]`).
// Before a scale-in from `current` to `new` instances it projects the inner decision's metric onto the
// smaller fleet, metric × current / new, and refuses the part of the scale-in that would put it at or above
// `scaleOutThreshold` (the inner controller's scale-out threshold, in the units of its decisions' metric): it
// scales in only as far as the projection stays below, and not at all when one instance less would cross.
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale::wrappers {

class FlappingGuard : public Controller {
 public:
  FlappingGuard(std::unique_ptr<Controller> inner, std::vector<std::string> services,
                double scale_out_threshold)
      : inner_(std::move(inner)), services_(std::move(services)), threshold_(scale_out_threshold) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return inner_->interval_s(); }
  std::vector<std::string> scale_to_zero_services() const override {
    return inner_->scale_to_zero_services();
  }
  std::map<std::string, MetricWindows> metric_windows() const override { return inner_->metric_windows(); }
  bool wants_foresight() const override { return inner_->wants_foresight(); }
  void set_foresight(Foresight& foresight) override { inner_->set_foresight(foresight); }

 private:
  std::unique_ptr<Controller> inner_;
  std::vector<std::string> services_;
  double threshold_;
};

}  // namespace autoscale::wrappers
