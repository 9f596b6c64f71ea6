#pragma once
// `kpa`: the Knative Pod Autoscaler. Every tick (2 s) the decider (decider.hpp, upstream's autoscaler) turns
// the revision-wide concurrency or rps, averaged over the stable and the panic window, into a desired pod
// count, and the reconciler (reconciler.hpp) applies it: min/max scale, initial scale, scale to zero after
// the grace period. Settings are upstream's, camelCase (../shared/design/decide-format.md); `reconciler =
// false` answers with the decider's own recommendation, as upstream's autoscaler_test.go checks it.
//
// The metric: ServiceObservation::stable_value / panic_value when the monitoring pipeline fills them. When it
// does not (NaN), the controller samples at each tick the revision-wide value — concurrency: (requests in
// service + queued) per ready instance × ready instances, as Knative's queue-proxy counts every request
// inside the pod, plus those waiting at the activator; rps: the service's arrival rate — and averages the
// samples of the last stable and panic window (the newest sample alone when the panic window is shorter than
// the tick).
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/kpa/decider.hpp"
#include "controllers/kpa/reconciler.hpp"

namespace autoscale {

// The settings as given; the decider's target and total value are derived from them as upstream's
// ResolveMetricTarget does.
struct KpaConfig {
  std::vector<std::string> services;
  std::string scaling_metric = "concurrency";
  std::optional<double> target;       // per pod, utilization applied
  std::optional<double> total_value;  // per pod capacity
  double target_utilization = 0.7;
  int container_concurrency = 0;  // 0: unlimited
  double target_burst_capacity = 211;
  double activator_capacity = 100;
  double panic_threshold_percentage = 200;
  double stable_window_s = 60;
  double panic_window_percentage = 10;
  double max_scale_up_rate = 1000;
  double max_scale_down_rate = 2;
  double scale_down_delay_s = 0;
  bool reachable = true;
  int activation_scale = 0;
  int min_scale = 0;
  int max_scale = 0;  // 0: unbounded
  double scale_to_zero_grace_period_s = 30;
  int initial_scale = 1;
  bool reconciler = true;
  double interval_s = 2;

  kpa::DeciderSpec decider_spec() const;
  kpa::ReconcilerSpec reconciler_spec() const;
  double panic_window_s() const { return stable_window_s * panic_window_percentage / 100; }
};

class KpaController : public Controller {
 public:
  explicit KpaController(KpaConfig cfg) : cfg_(std::move(cfg)) {}
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }
  void update(Params& changes) override;
  // Knative scales to zero through the activator: the engine buffers requests while no pod is ready.
  std::vector<std::string> scale_to_zero_services() const override {
    return cfg_.min_scale == 0 ? cfg_.services : std::vector<std::string>{};
  }
  // The revision-wide metric averaged over the stable and the panic window from 1-second samples, as
  // Knative's metric collector scrapes every pod each second.
  std::map<std::string, MetricWindows> metric_windows() const override {
    std::map<std::string, MetricWindows> out;
    for (const auto& s : cfg_.services)
      out[s] = MetricWindows{cfg_.scaling_metric, cfg_.stable_window_s, cfg_.panic_window_s()};
    return out;
  }

 private:
  struct ServiceState {
    std::optional<kpa::Decider> decider;
    std::optional<kpa::Reconciler> reconciler;
    int desired_scale = -1;  // the decider's latest valid recommendation
    int excess_burst_capacity = 0;
    std::deque<std::pair<double, double>> samples;  // (time, revision-wide value) when not observed
  };
  ServiceDecision decide_service(const Observation& obs, const ServiceObservation& s, ServiceState& st);
  std::pair<double, double> window_values(const ServiceObservation& s, double now_s, ServiceState& st) const;
  KpaConfig cfg_;
  std::map<std::string, ServiceState> state_;
};

// Reads (or, for an update, re-reads over `cfg`) every setting but `services`; checks them as upstream does.
void read_kpa_settings(Params& p, KpaConfig& cfg);

}  // namespace autoscale
