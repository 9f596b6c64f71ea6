#pragma once
// `composite`: several controllers in one scenario, each for its own services and at its own cadence (an HPA
// for the web tier every 15 s, a KPA for the API every 2 s, ...). `[[controller.controllers]]` are controller
// sections of their own (`kind` and its keys, `services` naming what each scales; no service twice). The
// composite ticks at the greatest common divisor of their intervals and asks each child only at its own ticks
// (k x its interval).
#include <memory>
#include <vector>

#include "controllers/registry.hpp"

namespace autoscale::wrappers {

class CompositeController : public Controller {
 public:
  // Children with their intervals; `tick_s` divides every interval.
  CompositeController(std::vector<std::unique_ptr<Controller>> children, double tick_s);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return tick_s_; }
  std::vector<std::string> scale_to_zero_services() const override;
  std::map<std::string, MetricWindows> metric_windows() const override;
  bool wants_foresight() const override;
  void set_foresight(Foresight& foresight) override;  // to every child that wants it

 private:
  std::vector<std::unique_ptr<Controller>> children_;
  std::vector<long> every_;  // child i runs at ticks that are multiples of every_[i]
  double tick_s_;
};

long to_ms(double s);

}  // namespace autoscale::wrappers
