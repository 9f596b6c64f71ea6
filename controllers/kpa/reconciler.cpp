#include "controllers/kpa/reconciler.hpp"

#include <algorithm>

namespace autoscale::kpa {

Reconciler::Result Reconciler::reconcile(const ReconcilerSpec& spec, double now_s, int desired_scale,
                                         int excess_burst_capacity, int ready_pods) {
  Result r = scale(spec, now_s, desired_scale);
  // The activator leaves the path only when the revision wants pods and has burst capacity to spare.
  const bool serve = r.want > 0 && excess_burst_capacity >= 0;
  if (!serve && !proxy_) proxy_since_s_ = now_s;
  proxy_ = !serve;
  compute_status(spec, now_s, r.want, ready_pods);
  return r;
}

Reconciler::Result Reconciler::scale(const ReconcilerSpec& spec, double now_s, int desired_scale) const {
  if (desired_scale < 0 && status_ != Status::activating) return {desired_scale, false, "no_decision"};
  const int min_scale = spec.reachable ? spec.min_scale : 0;
  int lower = min_scale;
  // Until the target has reached the initial scale once (a revision nobody routes to may go down at once).
  if (spec.initial_scale > 1 && !initialized_ && spec.reachable)
    lower = std::max(spec.initial_scale, min_scale);
  int x = desired_scale;
  std::string rule;
  if (x < lower) {
    x = lower;
    if (desired_scale >= 0) rule = lower > min_scale ? "initial_scale" : "min_scale";
  } else if (spec.max_scale != 0 && x > spec.max_scale) {
    x = spec.max_scale;
    rule = "max_scale";
  }
  Result r = scale_to_zero(spec, now_s, x);
  if (r.rule.empty()) r.rule = rule;
  return r;
}

Reconciler::Result Reconciler::scale_to_zero(const ReconcilerSpec& spec, double now_s, int x) const {
  if (x != 0) return {x, true, ""};
  const double in_status_s = now_s - since_s_;
  switch (status_) {
    case Status::activating:
      // Stuck activating past the deadline: give up and go to zero.
      if (in_status_s > kActivationTimeoutS) return {0, true, "activation_timeout"};
      return {-1, false, "activating"};
    case Status::active:
      // Deactivate (without scaling) only after a stable window active; until then hold one pod.
      if (in_status_s >= spec.stable_window_s) return {0, false, "scale_to_zero_grace"};
      return {1, true, "scale_to_zero_grace"};
    case Status::inactive:
      break;
  }
  // Inactive: zero once the revision has been inactive, or behind the activator, for the grace period. With
  // an unlimited burst capacity the activator is always in the path; otherwise upstream probes for it.
  const bool behind_activator = spec.target_burst_capacity == -1 || proxy_;
  if (!behind_activator) return {0, false, "scale_to_zero_grace"};
  if (in_status_s >= spec.scale_to_zero_grace_period_s) return {0, true, "scale_to_zero"};
  const double proxy_for_s = proxy_ ? now_s - proxy_since_s_ : 0;
  if (spec.scale_to_zero_grace_period_s - proxy_for_s <= 0) return {0, true, "scale_to_zero"};
  return {0, false, "scale_to_zero_grace"};
}

void Reconciler::set_status(Status s, const std::string& reason, double now_s) {
  if (s == status_ && reason == reason_) return;
  status_ = s;
  reason_ = reason;
  since_s_ = now_s;
}

void Reconciler::compute_status(const ReconcilerSpec& spec, double now_s, int want, int ready_pods) {
  const int min_scale = spec.reachable ? spec.min_scale : 0;
  const int min_ready = initialized_ ? std::max(min_scale, 1) : std::max(min_scale, spec.initial_scale);
  if (ready_pods >= min_ready) initialized_ = true;
  if (want == 0 || min_ready == 0) {
    set_status(Status::inactive, status_ == Status::activating && min_ready > 0 ? "TimedOut" : "NoTraffic",
               now_s);
  } else if (ready_pods < min_ready) {
    if (want > 0 || status_ != Status::inactive)
      set_status(Status::activating, "Queued", now_s);
    else
      set_status(Status::inactive, "NoTraffic", now_s);
  } else if (want > 0 || status_ != Status::inactive) {
    set_status(Status::active, "", now_s);
  }
}

}  // namespace autoscale::kpa
