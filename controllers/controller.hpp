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

// The true future, for clairvoyant controllers (the `oracle`, a lower bound for the others): only the
// simulator has it, and hands it to a controller that wants_foresight() before its first decide.
class Foresight {
 public:
  virtual ~Foresight() = default;
  // The highest offered rate of `service` over [t0_s, t1_s): the traffic's rate function (expected arrivals
  // per second; the Poisson arrivals fluctuate around it), times the call graph's visits for a service behind
  // the entry. The future only: what lies before now is not kept.
  virtual double peak_rps(const std::string& service, double t0_s, double t1_s) = 0;
  // Launch request until ready of the k-th next instance `service` launches (k = 0: the next one): the very
  // startup samples the fleet will draw for it, with room for it at once and its init CPU uncontended.
  virtual double startup_s(const std::string& service, int k) = 0;
  // The requests per second (to `service` itself, not per end-user request) one fully busy, warm instance of
  // it serves: the cores it computes on at once, min(its cores, workers) (one request runs on one core; its
  // cores: the instance type's vCPU on a dedicated node, a pod's cpu_limit, else its cpu_request), times the
  // hosts' speed over reference_speed_gflops, over the mean CPU-seconds of its work_cpu_s at reference speed
  // (a truncated normal's true mean). Ignores contention for the host (overcommit, a pod bursting past its
  // request). 0 when it cannot tell: an unknown service, work of mean 0, a Foresight that does not know.
  virtual double capacity_rps(const std::string& /*service*/) { return 0; }
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
  // True: the engine calls set_foresight() before the first decide (a clairvoyant controller).
  virtual bool wants_foresight() const { return false; }
  // Outlives the controller's decisions (the engine owns it).
  virtual void set_foresight(Foresight& /*foresight*/) {}
  // Some of its settings change from now on (`autoscale decide`'s spec_update, as when a user edits the
  // object): the controller keeps its memory. Controllers that take no updates refuse them.
  virtual void update(Params& changes) {
    changes.fail("spec_update", "no spec_update: this controller kind takes none");
  }
};

}  // namespace autoscale
