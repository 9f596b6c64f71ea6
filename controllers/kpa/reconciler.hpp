#pragma once
// What Knative's PodAutoscaler reconciler applies on top of the decider's desired scale
// (knative/serving pkg/reconciler/autoscaling/kpa/scaler.go and kpa.go): min/max scale (min ignored while the
// revision is unreachable), initial scale until the target first reaches it, and the scale-to-zero gate — an
// active PA scales to 1, not 0, until it has been active for a stable window; it then turns inactive, and the
// deployment goes to 0 once it has been inactive (or behind the activator) for the grace period. It also
// keeps the PA's Active condition and whether the activator is in the request path (SKS proxy mode: the
// revision wants no pods, or its excess burst capacity is negative).
//
// Upstream reconciles when the decider's recommendation changes and re-enqueues itself for the waits above;
// this model reconciles at every tick, so each wait ends at the first tick after it has elapsed.
#include <string>

namespace autoscale::kpa {

struct ReconcilerSpec {
  int min_scale = 0;
  int max_scale = 0;  // 0: unbounded
  int initial_scale = 1;
  bool reachable = true;
  double stable_window_s = 60;
  double scale_to_zero_grace_period_s = 30;
  double target_burst_capacity = 211;
};

// Upstream's activation timeout: the deployment's progress deadline (600 s) plus a 30 s buffer.
constexpr double kActivationTimeoutS = 600 + 30;

class Reconciler {
 public:
  explicit Reconciler(double created_at_s) : since_s_(created_at_s), proxy_since_s_(created_at_s) {}

  struct Result {
    int want = -1;       // the scale the reconciler arrives at (-1: unknown)
    bool apply = false;  // whether it patches the deployment with it
    std::string rule;    // what changed the decider's scale ("" when nothing did)
  };
  // One reconcile at `now_s`: `desired_scale` is the decider's latest valid recommendation (-1: none yet) and
  // `excess_burst_capacity` its latest; `ready_pods` the ready pods now.
  Result reconcile(const ReconcilerSpec& spec, double now_s, int desired_scale, int excess_burst_capacity,
                   int ready_pods);

  bool active() const { return status_ == Status::active; }
  bool activator_in_path() const { return proxy_; }

 private:
  // The PA's Active condition: Unknown (activating), True, False (inactive), with the time it last changed.
  enum class Status { activating, active, inactive };
  Result scale(const ReconcilerSpec& spec, double now_s, int desired_scale) const;
  Result scale_to_zero(const ReconcilerSpec& spec, double now_s, int desired_scale) const;
  void set_status(Status s, const std::string& reason, double now_s);
  void compute_status(const ReconcilerSpec& spec, double now_s, int want, int ready_pods);

  Status status_ = Status::activating;
  std::string reason_;
  double since_s_;
  bool initialized_ = false;  // the scale target has reached the initial scale once
  bool proxy_ = true;         // SKS mode: the activator is in the request path
  double proxy_since_s_;
};

}  // namespace autoscale::kpa
