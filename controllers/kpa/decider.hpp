#pragma once
// Knative's autoscaler proper (knative/serving pkg/autoscaler/scaling/autoscaler.go, Scale()): from the
// revision-wide metric averaged over the stable and the panic window and the ready pod count, the desired pod
// count within the max scale up/down rates, panic mode (entered when the panic-window demand reaches the
// threshold, never scaling down while in it, left after a stable window below it), activation scale, the
// scale-down delay window and the excess burst capacity. What the reconciler then applies (min/max scale,
// initial scale, scale to zero) is reconciler.hpp.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace autoscale::kpa {

// Upstream's DeciderSpec, times in seconds.
struct DeciderSpec {
  std::string scaling_metric = "concurrency";  // or "rps"
  double target_value = 70;                    // per pod, utilization applied
  double total_value = 100;                    // per pod capacity (excess burst capacity)
  double target_burst_capacity = 211;          // 0: none, -1: unlimited (activator always in the path)
  double activator_capacity = 100;
  double panic_threshold = 2;  // a fraction: panic when panic-window demand / ready pods >= this
  double stable_window_s = 60;
  double scale_down_delay_s = 0;
  double max_scale_up_rate = 1000;
  double max_scale_down_rate = 2;
  bool reachable = true;
  int activation_scale = 0;  // 0 (unset) or >= 2
};

struct ScaleInput {
  double now_s = 0;
  int ready_pods = 0;
  bool ready_pods_error = false;
  double stable_value = 0;  // revision-wide, averaged over the stable window
  double panic_value = 0;   // over the panic window
  bool metrics_error = false;
};

struct ScaleResult {
  int desired_pod_count = 0;
  int excess_burst_capacity = 0;
  bool scale_valid = false;
  std::string rule;  // what produced or limited desired_pod_count (or why the scale is not valid)
};

// Upstream's max.TimeWindow: the maximum of the values recorded over the last `duration`, in buckets of
// `granularity` whole seconds indexed by Unix second / granularity (Go's truncating division).
class MaxTimeWindow {
 public:
  MaxTimeWindow(double duration_s, int granularity_s);
  void record(double now_s, int value);
  int current() const { return maxima_[first_].value; }

 private:
  struct Entry {
    int value;
    int64_t index;
  };
  std::vector<Entry> maxima_;  // a ring buffer of descending maxima
  size_t first_ = 0, length_ = 0;
  int granularity_s_;
};

class Decider {
 public:
  // Created as upstream's newAutoscaler: in panic mode from `created_at_s` when more than one pod is ready.
  // The scale-down delay window exists only if the delay is positive at creation (updates do not add it).
  Decider(DeciderSpec spec, double created_at_s, int ready_pods_at_creation);
  void update(DeciderSpec spec) { spec_ = std::move(spec); }
  // Replaces the panic state (`autoscale decide`'s history): nullopt panic time = not panicking.
  void set_panic_state(std::optional<double> panic_time_s, int max_panic_pods);
  ScaleResult scale(const ScaleInput& in);
  bool panicking() const { return panic_time_s_.has_value(); }
  const DeciderSpec& spec() const { return spec_; }

 private:
  DeciderSpec spec_;
  std::optional<double> panic_time_s_;  // Go's zero time.Time: not panicking
  int max_panic_pods_;
  std::optional<MaxTimeWindow> delay_window_;
};

}  // namespace autoscale::kpa
