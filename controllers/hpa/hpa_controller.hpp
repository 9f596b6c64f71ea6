#pragma once
// `hpa`: Kubernetes' HorizontalPodAutoscaler (autoscaling/v2) as the controller-manager runs it
// (pkg/controller/podautoscaler/horizontal.go): every sync period, one proposal per metric (the largest wins;
// invalid metrics as upstream handles them), then either the legacy normalization (downscale stabilization
// window, scale-up limit max(2 x current, 4)) or, with `behavior`, the per-direction stabilization windows
// and rate policies, then minReplicas / maxReplicas. Configured with upstream's field names; it keeps its own
// recommendations and scale events between calls, as upstream keeps them in memory.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/hpa/replica_calculator.hpp"

namespace autoscale {

struct HpaMetricSpec {
  enum class Source { resource, container_resource, pods, object, external };
  enum class Target { utilization, average_value, value };
  Source source = Source::resource;
  Target target = Target::utilization;
  std::string name = "cpu";      // the resource name (cpu), or the metric's name
  int average_utilization = 80;  // percent of the request (Target::utilization)
  int64_t target_milli = 0;      // the quantity's milli-value (Target::average_value, Target::value)
  std::string label;             // how decisions name it, as upstream's status does
};

struct HpaScalingPolicy {
  enum class Type { pods, percent };
  Type type = Type::pods;
  int value = 1;
  int period_s = 15;
};

// One direction of `behavior`. Absent fields take upstream's defaults (HPAScalingRules).
struct HpaScalingRules {
  std::optional<int> stabilization_window_s;  // scaleDown: nullopt = downscaleStabilizationWindowSeconds
  enum class Select { max, min, disabled };
  Select select = Select::max;
  std::vector<HpaScalingPolicy> policies;
  std::optional<double> tolerance;  // KEP-4951; nullopt = the controller-manager's tolerance
};

struct HpaBehavior {
  HpaScalingRules scale_up;
  HpaScalingRules scale_down;
  // Upstream's defaults: scaleUp {0 s, Max, Pods 4 / 15 s, Percent 100 / 15 s}, scaleDown {flag, Max,
  // Percent 100 / 15 s}.
  static HpaBehavior defaults();
};

struct HpaConfig {
  std::vector<std::string> services;
  int min_replicas = 1;
  int max_replicas = 10;
  std::vector<HpaMetricSpec> metrics;   // empty: upstream's default, cpu at 80 % of the request
  std::optional<HpaBehavior> behavior;  // nullopt: the legacy normalization
  // kube-controller-manager flags (--horizontal-pod-autoscaler-*).
  double tolerance = 0.1;
  double cpu_initialization_period_s = 300;
  double initial_readiness_delay_s = 30;
  double downscale_stabilization_window_s = 300;
  double sync_period_s = 15;
};

class HpaController : public Controller {
 public:
  explicit HpaController(HpaConfig cfg);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.sync_period_s; }

 private:
  struct Recommendation {
    int replicas;
    double time_s;
  };
  struct ScaleEvent {
    int change;  // replicas added (up) or removed (down), non-negative
    double time_s;
    bool outdated;
  };
  struct State {
    std::optional<std::vector<Recommendation>> recommendations;  // nullopt: never initialised
    std::vector<ScaleEvent> up, down;
  };
  struct Limit {
    int replicas;
    std::string rule;  // "" when the count is within every limit
  };
  ServiceDecision reconcile(const ServiceObservation& s, double now, State& st) const;
  hpa::Tolerances tolerances() const;
  int stabilize(State& st, int current, int desired, double now) const;
  Limit limit(const State& st, int current, int desired, double now) const;
  void store_event(State& st, int before, int after, double now) const;

  HpaConfig cfg_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale
