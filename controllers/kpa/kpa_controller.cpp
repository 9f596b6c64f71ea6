#include "controllers/kpa/kpa_controller.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "controllers/registry.hpp"

namespace autoscale {

namespace {
constexpr double kTargetMin = 0.01;          // upstream's autoscaling.TargetMin
constexpr double kRpsTargetDefault = 200;    // requests-per-second-target-default
constexpr double kConcurrencyDefault = 100;  // container-concurrency-target-default
const double kNaN = std::numeric_limits<double>::quiet_NaN();

double window_mean(const std::deque<std::pair<double, double>>& samples, double now_s, double window_s) {
  double sum = 0;
  int n = 0;
  for (auto it = samples.rbegin(); it != samples.rend() && it->first > now_s - window_s; ++it) {
    sum += it->second;
    ++n;
  }
  if (n == 0) return samples.empty() ? kNaN : samples.back().second;
  return sum / n;
}
}  // namespace

kpa::DeciderSpec KpaConfig::decider_spec() const {
  kpa::DeciderSpec d;
  d.scaling_metric = scaling_metric;
  double total = scaling_metric == "rps"     ? kRpsTargetDefault
                 : container_concurrency > 0 ? container_concurrency
                                             : kConcurrencyDefault;
  if (total_value)
    total = *total_value;
  else if (target)
    total = *target / target_utilization;
  d.target_value = target ? *target : std::max(kTargetMin, total * target_utilization);
  d.total_value = total;
  d.target_burst_capacity = target_burst_capacity;
  d.activator_capacity = activator_capacity;
  d.panic_threshold = panic_threshold_percentage / 100;
  d.stable_window_s = stable_window_s;
  d.scale_down_delay_s = scale_down_delay_s;
  d.max_scale_up_rate = max_scale_up_rate;
  d.max_scale_down_rate = max_scale_down_rate;
  d.reachable = reachable;
  d.activation_scale = activation_scale;
  return d;
}

kpa::ReconcilerSpec KpaConfig::reconciler_spec() const {
  kpa::ReconcilerSpec r;
  r.min_scale = min_scale;
  r.max_scale = max_scale;
  r.initial_scale = initial_scale;
  r.reachable = reachable;
  r.stable_window_s = stable_window_s;
  r.scale_to_zero_grace_period_s = scale_to_zero_grace_period_s;
  r.target_burst_capacity = target_burst_capacity;
  return r;
}

void read_kpa_settings(Params& p, KpaConfig& c) {
  c.scaling_metric = p.string("scalingMetric", c.scaling_metric);
  if (c.scaling_metric != "concurrency" && c.scaling_metric != "rps")
    p.fail("scalingMetric", "\"concurrency\" or \"rps\"");
  if (p.has("target")) c.target = p.number("target", std::nullopt);
  if (p.has("totalValue")) c.total_value = p.number("totalValue", std::nullopt);
  c.target_utilization = p.number("targetUtilization", c.target_utilization);
  c.container_concurrency = static_cast<int>(p.integer("containerConcurrency", c.container_concurrency));
  c.target_burst_capacity = p.number("targetBurstCapacity", c.target_burst_capacity);
  if (c.target_burst_capacity < 0 && c.target_burst_capacity != -1)
    p.fail("targetBurstCapacity",
           "0 (no burst capacity), -1 (unlimited: the activator always in the path) or > 0");
  c.activator_capacity = p.number("activatorCapacity", c.activator_capacity);
  c.panic_threshold_percentage = p.number("panicThresholdPercentage", c.panic_threshold_percentage);
  c.stable_window_s = p.number("stableWindow", c.stable_window_s);
  if (c.stable_window_s != std::round(c.stable_window_s)) p.fail("stableWindow", "a whole number of seconds");
  c.panic_window_percentage = p.number("panicWindowPercentage", c.panic_window_percentage);
  c.max_scale_up_rate = p.number("maxScaleUpRate", c.max_scale_up_rate);
  c.max_scale_down_rate = p.number("maxScaleDownRate", c.max_scale_down_rate);
  c.scale_down_delay_s = p.number("scaleDownDelay", c.scale_down_delay_s);
  if (c.scale_down_delay_s != std::round(c.scale_down_delay_s))
    p.fail("scaleDownDelay", "a whole number of seconds");
  c.reachable = p.boolean("reachable", c.reachable);
  c.min_scale = static_cast<int>(p.integer("minScale", c.min_scale));
  c.max_scale = static_cast<int>(p.integer("maxScale", c.max_scale));
  if (c.max_scale != 0 && c.min_scale > c.max_scale) p.fail("minScale", "at most maxScale (0: unbounded)");
  c.activation_scale = static_cast<int>(p.integer("activationScale", c.activation_scale));
  if (c.activation_scale == 1) p.fail("activationScale", "0 (unset) or at least 2");
  if (c.activation_scale != 0 && c.activation_scale < c.min_scale)
    p.fail("activationScale", "at least minScale");
  if (c.activation_scale != 0 && c.max_scale != 0 && c.activation_scale > c.max_scale)
    p.fail("activationScale", "at most maxScale");
  c.scale_to_zero_grace_period_s = p.number("scaleToZeroGracePeriod", c.scale_to_zero_grace_period_s);
  c.initial_scale = static_cast<int>(p.integer("initialScale", c.initial_scale));
  c.reconciler = p.boolean("reconciler", c.reconciler);
}

std::pair<double, double> KpaController::window_values(const ServiceObservation& s, double now_s,
                                                       ServiceState& st) const {
  if (!std::isnan(s.stable_value) || !std::isnan(s.panic_value)) return {s.stable_value, s.panic_value};
  if (s.metrics_valid && !s.metrics_error) {
    // Requests waiting at the activator count too (Knative's activator reports them): what scales from zero.
    double v = cfg_.scaling_metric == "rps" ? s.arrival_rps
                                            : (s.concurrency + s.queue_depth) * s.ready() + s.activator_queue;
    st.samples.emplace_back(now_s, v);
  }
  while (!st.samples.empty() && st.samples.front().first <= now_s - cfg_.stable_window_s)
    st.samples.pop_front();
  if (!s.metrics_valid || s.metrics_error) return {kNaN, kNaN};
  return {window_mean(st.samples, now_s, cfg_.stable_window_s),
          window_mean(st.samples, now_s, cfg_.panic_window_s())};
}

ServiceDecision KpaController::decide_service(const Observation& obs, const ServiceObservation& s,
                                              ServiceState& st) {
  const double now = obs.time_s;
  const kpa::DeciderSpec spec = cfg_.decider_spec();
  const int ready = s.ready_pods_error ? 0 : s.ready();
  if (s.history && s.history->created_at_s)
    st.decider.emplace(spec, *s.history->created_at_s, s.history->ready_pods_at_creation);
  else if (!st.decider)
    st.decider.emplace(spec, now, ready);
  if (s.history && s.history->panic_time_s)
    st.decider->set_panic_state(*s.history->panic_time_s, s.history->max_panic_pods);
  if (!st.reconciler) {
    st.reconciler.emplace(now);
    // The multiscaler's initial excess burst capacity: the initial scale's spare capacity.
    st.excess_burst_capacity =
        spec.target_burst_capacity == 0 || spec.target_burst_capacity == -1
            ? static_cast<int>(spec.target_burst_capacity)
            : static_cast<int>(cfg_.initial_scale * spec.total_value - spec.target_burst_capacity);
  }

  const auto [stable, panic] = window_values(s, now, st);
  kpa::ScaleInput in;
  in.now_s = now;
  in.ready_pods = ready;
  in.ready_pods_error = s.ready_pods_error;
  in.stable_value = stable;
  in.panic_value = panic;
  in.metrics_error = s.metrics_error;
  const kpa::ScaleResult sr = st.decider->scale(in);
  if (sr.scale_valid) {
    st.desired_scale = sr.desired_pod_count;
    st.excess_burst_capacity = sr.excess_burst_capacity;
  }

  ServiceDecision out{s.name, s.desired, cfg_.scaling_metric, 0, sr.rule};
  const double shown = st.decider->panicking() ? panic : stable;
  out.metric_value = std::isnan(shown) ? 0 : shown;
  if (!cfg_.reconciler) {
    if (sr.scale_valid) out.desired = sr.desired_pod_count;
  } else {
    const kpa::Reconciler::Result rr = st.reconciler->reconcile(cfg_.reconciler_spec(), now, st.desired_scale,
                                                                st.excess_burst_capacity, ready);
    if (rr.apply) out.desired = rr.want;
    if (!rr.rule.empty()) out.rule = rr.rule;
    out.diagnostic_flags["activator_in_path"] = st.reconciler->activator_in_path();
    out.activator_in_path = st.reconciler->activator_in_path();
  }
  out.diagnostics["excess_burst_capacity"] = sr.excess_burst_capacity;
  out.diagnostic_flags["scale_valid"] = sr.scale_valid;
  out.diagnostic_flags["panic"] = st.decider->panicking();
  if (sr.scale_valid) out.diagnostics["desired_pod_count"] = sr.desired_pod_count;
  if (!std::isnan(stable)) out.diagnostics["observed_stable_value"] = stable;
  if (!std::isnan(panic)) out.diagnostics["observed_panic_value"] = panic;
  return out;
}

Decision KpaController::decide(const Observation& obs) {
  Decision d;
  for (const auto& name : cfg_.services)
    if (const ServiceObservation* s = obs.find(name))
      d.services.push_back(decide_service(obs, *s, state_[name]));
  return d;
}

void KpaController::update(Params& changes) {
  if (changes.has("interval_s")) changes.fail("interval_s", "no change of the tick interval by an update");
  read_kpa_settings(changes, cfg_);
  for (auto& [name, st] : state_)
    if (st.decider) st.decider->update(cfg_.decider_spec());
}

std::unique_ptr<Controller> make_kpa_controller(Params& p, const ControllerContext& ctx) {
  KpaConfig c;
  c.services = controlled_services(p, ctx);
  read_kpa_settings(p, c);
  c.interval_s = p.number("interval_s", c.interval_s);
  return std::make_unique<KpaController>(std::move(c));
}

}  // namespace autoscale
