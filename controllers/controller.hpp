#pragma once
// The controller interface: a pure function of what monitoring shows (plus the controller's own memory).
#include <memory>
#include <string>

#include "controllers/decision.hpp"
#include "controllers/observation.hpp"

namespace autoscale {

class Controller {
 public:
  virtual ~Controller() = default;
  // Called every interval_s() of simulated time, first at t = interval_s().
  virtual Decision decide(const Observation& obs) = 0;
  virtual double interval_s() const = 0;
};

}  // namespace autoscale
