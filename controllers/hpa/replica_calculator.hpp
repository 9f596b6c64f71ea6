#pragma once
// The replica calculator of Kubernetes' HorizontalPodAutoscaler (pkg/controller/podautoscaler/
// replica_calculator.go and metrics/utilization.go), step by step: one proposal per metric from the pod list
// and the metric samples, with upstream's integer arithmetic on milli-values, its grouping of pods (ignored,
// unready, missing), the missing-pod and unready-pod adjustments and the tolerance re-check after them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controllers/observation.hpp"

namespace autoscale::hpa {

// The usage ratio band within which the current count is kept: [1 - scale_down, 1 + scale_up].
struct Tolerances {
  double scale_down = 0.1;
  double scale_up = 0.1;
  bool within(double usage_ratio) const {
    return 1.0 - scale_down <= usage_ratio && usage_ratio <= 1.0 + scale_up;
  }
};

// Controller-manager flags that decide which CPU samples count.
struct PodTiming {
  double cpu_initialization_period_s = 300;
  double initial_readiness_delay_s = 30;
};

// One metric's proposal (upstream: replicaCountProposal, or an error that makes the metric invalid).
struct Proposal {
  bool valid = false;
  std::string error;  // why the metric is invalid
  int replicas = 0;
  double usage_ratio = 0;  // the ratio the proposal came from (current / target)
  double current = 0;      // what upstream reports as the metric's current value: utilization in percent,
                           // or the (average) value in base units
  std::string held_by;     // "tolerance", "direction_flip" when the current count was kept; else ""
};

Proposal invalid_proposal(std::string error);

// Resource metric (cpu), target AverageUtilization in percent of the request (GetResourceReplicas).
Proposal resource_utilization(int current_replicas, int target_utilization,
                              const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                              const PodTiming& timing, double now_s);
// Resource metric (cpu), target AverageValue in millicores (GetRawResourceReplicas).
Proposal resource_average_value(int current_replicas, int64_t target_milli,
                                const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                                const PodTiming& timing, double now_s);
// Pods metric `name`, target AverageValue in milli-units (GetMetricReplicas).
Proposal pods_average_value(int current_replicas, int64_t target_milli, const std::string& name,
                            const std::vector<InstanceObservation>& pods, const Tolerances& tol,
                            const PodTiming& timing, double now_s);
// Object or External metric with a Value target: the total against the target, times the ready pods
// (GetObjectMetricReplicas, GetExternalMetricReplicas). `value`: the metric in base units; nullopt: the fetch
// failed.
Proposal total_value(int current_replicas, int64_t target_milli, std::optional<double> value,
                     const std::vector<InstanceObservation>& pods, const Tolerances& tol);
// Object or External metric with an AverageValue target: the total over the target per pod
// (GetObjectPerPodMetricReplicas, GetExternalPerPodMetricReplicas).
Proposal total_average_value(int status_replicas, int64_t target_milli, std::optional<double> value,
                             const Tolerances& tol);

}  // namespace autoscale::hpa
