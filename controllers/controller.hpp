#pragma once
// The controller interface: a pure function of what monitoring shows (plus the controller's own memory).
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/decision.hpp"
#include "controllers/observation.hpp"
#include "controllers/params.hpp"

namespace autoscale {

// A service-wide metric a controller averages over its own windows from 1-second samples (Knative's
// autoscaler): the engine then fills ServiceObservation::stable_value and panic_value with those averages.
struct MetricWindows {
  std::string metric = "concurrency";  // or "rps"
  double stable_s = 60;
  double panic_s = 6;
};

class Controller {
 public:
  virtual ~Controller() = default;
  // Called every interval_s() of simulated time, first at t = interval_s().
  virtual Decision decide(const Observation& obs) = 0;
  virtual double interval_s() const = 0;
  // Services it may scale to zero: the engine puts an activator in front of them (requests wait for a cold
  // start instead of failing), as Knative does.
  virtual std::vector<std::string> scale_to_zero_services() const { return {}; }
  // By service name: the services whose metric it averages over its own windows.
  virtual std::map<std::string, MetricWindows> metric_windows() const { return {}; }
  // Some of its settings change from now on (`autoscale decide`'s spec_update, as when a user edits the
  // object): the controller keeps its memory. Controllers that take no updates refuse them.
  virtual void update(Params& changes) {
    changes.fail("spec_update", "no spec_update: this controller kind takes none");
  }
};

}  // namespace autoscale
