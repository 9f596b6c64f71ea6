#pragma once
// Offered load: rate(t) = (sum of additive components) x (product of shape components), and a non-homogeneous
// Poisson arrival process on that rate. The rate is held constant over steps of `resolution_s` (trace bins
// that are multiples of it are reproduced exactly); inside a step, arrivals are exponential with the step's
// rate.
#include <memory>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/core/scenario.hpp"
#include "sim/core/trace.hpp"

namespace autoscale {

class RateFunction {
 public:
  // Loads traces (throws InputError for bad trace files). Random components (MMPP, diurnal noise) draw from
  // streams derived from `seed` and the component's name.
  RateFunction(const TrafficSpec& spec, uint64_t seed);
  ~RateFunction();
  RateFunction(RateFunction&&) noexcept;
  // Offered rate at simulated time t, for non-decreasing t (random components advance their state forward).
  double rate(double t_s);

 private:
  struct Component;
  std::vector<std::unique_ptr<Component>> components_;
};

// Monitoring's history before the run: the mean offered rate over each of floor(history_s / step_s) steps
// ending at t = 0, oldest first (a trace source reads the trace before its start_s, a looping one wraps; the
// rate is sampled at the midpoints of sub-steps no longer than resolution_s). Random components draw from
// their own copies of the run's streams, which therefore do not move.
std::vector<double> rate_history(const TrafficSpec& spec, uint64_t seed, double history_s, double step_s);

class ArrivalProcess {
 public:
  ArrivalProcess(const TrafficSpec& spec, uint64_t seed);
  // The next arrival time, strictly increasing; +inf when the rate stays zero forever is not detected: the
  // caller bounds the horizon with `until_s`, past which it returns +inf.
  double next(double until_s);

 private:
  RateFunction rate_;
  Rng rng_;
  double resolution_s_;
  double step_start_ = 0;
  double step_rate_ = 0;
  double t_ = 0;     // time of the last arrival (or start of the current step)
  double mass_ = 0;  // remaining unit-exponential mass until the next arrival
  bool started_ = false;
};

}  // namespace autoscale
