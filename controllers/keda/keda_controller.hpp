#pragma once
// `keda`: a KEDA ScaledObject (kedacore/keda) and the HorizontalPodAutoscaler KEDA generates for it, a real
// `hpa` (controllers/hpa) with one External metric per trigger (a Resource metric for `cpu`), AverageValue
// targets unless the trigger's metricType says Value, minReplicas = max(minReplicaCount, 1), maxReplicas =
// maxReplicaCount and advanced.horizontalPodAutoscalerConfig.behavior (controllers/keda/hpa.go). Two loops,
// as in a cluster:
// - KEDA's scale loop (pkg/scaling/scale_handler.go, executor/scale_scaledobjects.go) polls every trigger
// each
//   pollingInterval: with any trigger active it brings the target from 0 (or idleReplicaCount) to
//   max(minReplicaCount, 1) and stamps the last active time; with none active it brings it to
//   idleReplicaCount or minReplicaCount once cooldownPeriod has passed since that time.
// - The HPA syncs every sync period (15 s) and reads each External metric through KEDA's metrics server,
// which
//   queries the trigger again (or, with the trigger's useCachedMetrics, returns the last poll's reading).
// Both count failed reads per metric (pkg/fallback): past fallback.failureThreshold a read returns the target
// times fallback.replicas, so the HPA proposes fallback.replicas. At a time both loops run, the poll comes
// first and the HPA sees what it wrote.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/keda/scalers.hpp"

namespace autoscale {

struct KedaFallback {
  enum class Behavior { fixed, current_replicas, current_replicas_if_higher, current_replicas_if_lower };
  int failure_threshold = 3;
  int replicas = 0;
  Behavior behavior = Behavior::fixed;  // upstream's "static"
};

struct KedaConfig {
  std::vector<std::string> services;  // one ScaledObject (and HPA) per service, each with its own memory
  int polling_interval_s = 30;
  int cooldown_period_s = 300;
  int initial_cooldown_period_s = 0;
  int min_replica_count = 0;
  int max_replica_count = 100;
  std::optional<int> idle_replica_count;
  std::optional<KedaFallback> fallback;
  std::vector<keda::Trigger> triggers;
  double sync_period_s = 15;  // the HPA's
};

class KedaController : public Controller {
 public:
  // `hpa`: the HorizontalPodAutoscaler KEDA generated for `cfg` (an `hpa` controller for the same services).
  KedaController(KedaConfig cfg, std::unique_ptr<Controller> hpa);
  Decision decide(const Observation& obs) override;
  // The loops' common tick: the greatest common divisor of the sync period and the polling interval.
  double interval_s() const override { return tick_s_; }
  // minReplicaCount 0 (or idleReplicaCount 0): requests wait at the activator while the target is at zero.
  std::vector<std::string> scale_to_zero_services() const override;

 private:
  struct TriggerState {
    int failures = 0;                  // consecutive failed reads (only counted with a fallback)
    std::optional<keda::Read> cached;  // the last poll's reading (useCachedMetrics)
  };
  struct State {
    std::vector<TriggerState> triggers;
    std::optional<double> created_s;  // the first poll
    std::optional<double> last_active_s;
    bool active = false;  // at the last poll
    std::string active_triggers;
  };
  // What the tick read, for the decision's diagnostics.
  struct Seen {
    std::map<std::string, double> values;
    std::vector<std::string> fallback_metrics;
  };
  keda::Read with_fallback(const keda::Trigger& t, TriggerState& ts, keda::Read raw,
                           const ServiceObservation& s, int current) const;
  std::string poll(const ServiceObservation& s, double now, State& st, int& current, Seen& seen) const;
  ServiceObservation hpa_view(const ServiceObservation& s, double now, State& st, int current,
                              Seen& seen) const;

  KedaConfig cfg_;
  std::unique_ptr<Controller> hpa_;
  double tick_s_;
  std::optional<double> last_poll_s_, last_sync_s_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale
