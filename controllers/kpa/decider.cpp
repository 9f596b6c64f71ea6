#include "controllers/kpa/decider.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

namespace autoscale::kpa {

namespace {
// Go's int32(float64) for the values Scale() produces, saturated instead of overflowing.
int to_int(double v) {
  if (v >= static_cast<double>(INT_MAX)) return INT_MAX;
  if (v <= static_cast<double>(INT_MIN)) return INT_MIN;
  return static_cast<int>(v);
}
}  // namespace

MaxTimeWindow::MaxTimeWindow(double duration_s, int granularity_s)
    : maxima_(static_cast<size_t>(std::max(1.0, std::ceil(duration_s / granularity_s))), Entry{0, 0}),
      granularity_s_(granularity_s) {}

void MaxTimeWindow::record(double now_s, int value) {
  // C++ integer division truncates toward zero, as Go's does: the same bucket for times before 1970.
  const int64_t index = static_cast<int64_t>(std::floor(now_s)) / granularity_s_;
  const size_t n = maxima_.size();
  auto at = [&](size_t i) -> Entry& { return maxima_[(first_ + i) % n]; };
  // A value no larger than a newer one can never be the maximum again.
  while (length_ > 0 && value >= at(length_ - 1).value) --length_;
  while (length_ > 0 && index - maxima_[first_].index >= static_cast<int64_t>(n)) {
    --length_;
    first_ = (first_ + 1) % n;
  }
  // Two records in one bucket: the larger stands.
  if (length_ > 0 && at(length_ - 1).index == index) {
    value = std::max(value, at(length_ - 1).value);
    --length_;
  }
  at(length_) = Entry{value, index};
  ++length_;
}

Decider::Decider(DeciderSpec spec, double created_at_s, int ready_pods_at_creation)
    : spec_(std::move(spec)), max_panic_pods_(ready_pods_at_creation) {
  // After an autoscaler restart the metric history is gone: hold the current scale (by starting in panic
  // mode) until the windows fill again. Go's zero time (-infinity here) is "not panicking".
  if (ready_pods_at_creation > 1 && std::isfinite(created_at_s)) panic_time_s_ = created_at_s;
  if (spec_.scale_down_delay_s > 0) delay_window_.emplace(spec_.scale_down_delay_s, 2);
}

void Decider::set_panic_state(std::optional<double> panic_time_s, int max_panic_pods) {
  panic_time_s_ = panic_time_s && std::isfinite(*panic_time_s) ? panic_time_s : std::nullopt;
  max_panic_pods_ = max_panic_pods;
}

ScaleResult Decider::scale(const ScaleInput& in) {
  ScaleResult r;
  if (in.ready_pods_error) {
    r.rule = "no_ready_pod_count";
    return r;
  }
  if (in.metrics_error || std::isnan(in.stable_value) || std::isnan(in.panic_value)) {
    r.rule = "no_metrics";
    return r;
  }
  const double ready = std::max(1.0, static_cast<double>(in.ready_pods));
  // Ceil and floor let a conservative rate still move by one pod.
  const double max_up = std::ceil(spec_.max_scale_up_rate * ready);
  const double max_down = spec_.reachable ? std::floor(ready / spec_.max_scale_down_rate) : 0.0;
  const double dspc = std::ceil(in.stable_value / spec_.target_value);
  const double dppc = std::ceil(in.panic_value / spec_.target_value);

  auto within_rates = [&](double want, std::string& rule) {
    rule = want > max_up ? "max_scale_up_rate" : want < max_down ? "max_scale_down_rate" : "";
    return to_int(std::min(std::max(want, max_down), max_up));
  };
  std::string stable_rule, panic_rule;
  int stable_count = within_rates(dspc, stable_rule);
  int panic_count = within_rates(dppc, panic_rule);
  if (spec_.activation_scale > 1) {
    if (dspc > 0 && spec_.activation_scale > stable_count) {
      stable_count = spec_.activation_scale;
      stable_rule = "activation_scale";
    }
    if (dppc > 0 && spec_.activation_scale > panic_count) {
      panic_count = spec_.activation_scale;
      panic_rule = "activation_scale";
    }
  }

  const bool over_threshold = dppc / ready >= spec_.panic_threshold;
  if (over_threshold) {
    panic_time_s_ = in.now_s;  // enters panic, or extends it
  } else if (panic_time_s_ && *panic_time_s_ + spec_.stable_window_s < in.now_s) {
    panic_time_s_.reset();  // the surge has made its way into the stable window
    max_panic_pods_ = 0;
  }

  int desired = stable_count;
  std::string rule = stable_rule.empty() ? "stable" : stable_rule;
  if (panic_time_s_) {
    // Provision for the larger of the two windows, and never scale down while panicking.
    rule = stable_rule.empty() ? "panic" : stable_rule;
    if (panic_count > desired) {
      desired = panic_count;
      rule = panic_rule.empty() ? "panic" : panic_rule;
    }
    if (desired > max_panic_pods_) {
      max_panic_pods_ = desired;
    } else if (desired < max_panic_pods_) {
      rule = "panic_hold";
    }
    desired = max_panic_pods_;
  }

  if (spec_.reachable && delay_window_) {
    delay_window_->record(in.now_s, desired);
    const int delayed = delay_window_->current();
    if (delayed != desired) {
      desired = delayed;
      rule = "scale_down_delay";
    }
  }

  // Capacity left for a burst, from the panic window: negative puts the activator in the request path.
  double ebc = -1;
  if (spec_.target_burst_capacity == 0) {
    ebc = 0;
  } else if (spec_.target_burst_capacity > 0) {
    ebc = std::floor(in.ready_pods * spec_.total_value - spec_.target_burst_capacity - in.panic_value);
  }
  r.desired_pod_count = desired;
  r.excess_burst_capacity = to_int(ebc);
  r.scale_valid = true;
  r.rule = rule;
  return r;
}

}  // namespace autoscale::kpa
