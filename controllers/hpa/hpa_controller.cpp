#include "controllers/hpa/hpa_controller.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "controllers/base/error.hpp"
#include "controllers/hpa/quantity.hpp"
#include "controllers/registry.hpp"

namespace autoscale {

namespace {

using Select = HpaScalingRules::Select;
using PolicyType = HpaScalingPolicy::Type;

// Reasons the count was kept or limited, as the decisions table shows them.
constexpr const char* kStabilized = "stabilization_window";
constexpr const char* kScaleUpLimit = "scale_up_limit";
constexpr const char* kMinReplicas = "min_replicas";
constexpr const char* kMaxReplicas = "max_replicas";

int clamp_int(long long v) {
  return static_cast<int>(std::clamp<long long>(v, INT_MIN, INT_MAX));
}

// "scale_up policy Pods 4/15s": the policy whose limit applied (nullptr: selectPolicy Disabled).
std::string policy_label(const char* direction, const HpaScalingPolicy* p) {
  if (!p) return std::string(direction) + " selectPolicy Disabled";
  return std::string(direction) + " policy " + (p->type == PolicyType::pods ? "Pods " : "Percent ") +
         std::to_string(p->value) + "/" + std::to_string(p->period_s) + "s";
}

}  // namespace

HpaBehavior HpaBehavior::defaults() {
  HpaBehavior b;
  b.scale_up.stabilization_window_s = 0;
  b.scale_up.policies = {{PolicyType::pods, 4, 15}, {PolicyType::percent, 100, 15}};
  b.scale_down.policies = {{PolicyType::percent, 100, 15}};
  return b;
}

HpaController::HpaController(HpaConfig cfg) : cfg_(std::move(cfg)) {
  if (cfg_.metrics.empty()) {
    HpaMetricSpec cpu;
    cpu.label = "cpu resource utilization (percentage of request)";
    cfg_.metrics.push_back(cpu);
  }
}

hpa::Tolerances HpaController::tolerances() const {
  hpa::Tolerances t{cfg_.tolerance, cfg_.tolerance};
  if (cfg_.behavior) {
    if (cfg_.behavior->scale_down.tolerance) t.scale_down = *cfg_.behavior->scale_down.tolerance;
    if (cfg_.behavior->scale_up.tolerance) t.scale_up = *cfg_.behavior->scale_up.tolerance;
  }
  return t;
}

// stabilizeRecommendation (legacy) and stabilizeRecommendationWithBehaviors: the recommendation is bounded by
// the recent ones (highest within the scale-down window, lowest within the scale-up window); the unstabilized
// one is recorded, reusing the slot of one that has aged out of every window.
int HpaController::stabilize(State& st, int current, int desired, double now) const {
  auto& recs = *st.recommendations;
  int result;
  std::optional<size_t> old;
  if (!cfg_.behavior) {
    double cutoff = now - cfg_.downscale_stabilization_window_s;
    result = desired;
    for (size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].time_s < cutoff)
        old = i;
      else
        result = std::max(result, recs[i].replicas);
    }
  } else {
    const HpaBehavior& b = *cfg_.behavior;
    double up_cutoff = now - *b.scale_up.stabilization_window_s;
    double down_cutoff = now - b.scale_down.stabilization_window_s.value_or(
                                   static_cast<int>(cfg_.downscale_stabilization_window_s));
    int up = desired, down = desired;
    for (size_t i = 0; i < recs.size(); ++i) {
      if (recs[i].time_s > up_cutoff) up = std::min(up, recs[i].replicas);
      if (recs[i].time_s > down_cutoff) down = std::max(down, recs[i].replicas);
      if (recs[i].time_s < up_cutoff && recs[i].time_s < down_cutoff) old = i;
    }
    result = current;
    if (result < up) result = up;
    if (result > down) result = down;
  }
  if (old)
    recs[*old] = {desired, now};
  else
    recs.push_back({desired, now});
  return result;
}

// convertDesiredReplicasWithRules (legacy) and convertDesiredReplicasWithBehaviorRate.
HpaController::Limit HpaController::limit(const State& st, int current, int desired, double now) const {
  const int min = cfg_.min_replicas, max = cfg_.max_replicas;
  if (!cfg_.behavior) {
    // Scale-up is capped at max(2 x current, 4) per step, against bogus usage reports (kubernetes #32304).
    int up_limit = static_cast<int>(std::max(2.0 * current, 4.0));
    int highest = max > up_limit ? up_limit : max;
    const char* why = max > up_limit ? kScaleUpLimit : kMaxReplicas;
    if (desired < min) return {min, kMinReplicas};
    if (desired > highest) return {highest, why};
    return {desired, ""};
  }
  // The replicas added (removed) within the last `period_s`, from the recorded scale events.
  auto changed = [now](int period_s, const std::vector<ScaleEvent>& events) {
    long long n = 0;
    for (const auto& e : events)
      if (e.time_s > now - period_s) n += e.change;
    return n;
  };
  const HpaBehavior& b = *cfg_.behavior;
  if (desired > current) {
    // calculateScaleUpLimitWithScalingRules: each policy allows a count relative to the count at the start of
    // its period; Max takes the most permissive, Min the least.
    const HpaScalingRules& r = b.scale_up;
    const HpaScalingPolicy* chosen = nullptr;
    long long up_limit = current;
    if (r.select != Select::disabled) {
      bool take_max = r.select == Select::max;
      up_limit = take_max ? INT_MIN : INT_MAX;
      for (const auto& p : r.policies) {
        long long start = current - changed(p.period_s, st.up) + changed(p.period_s, st.down);
        long long proposed =
            p.type == PolicyType::pods
                ? start + p.value
                : static_cast<long long>(
                      std::ceil(static_cast<double>(start) * (1 + static_cast<double>(p.value) / 100)));
        if (take_max ? proposed > up_limit : proposed < up_limit) {
          up_limit = proposed;
          chosen = &p;
        }
      }
    }
    if (up_limit < current) up_limit = current;  // until the recent scale-ups leave the period
    if (max > up_limit) {
      if (desired > up_limit) return {clamp_int(up_limit), policy_label("scale_up", chosen)};
    } else if (desired > max) {
      return {max, kMaxReplicas};
    }
  } else if (desired < current) {
    const HpaScalingRules& r = b.scale_down;
    const HpaScalingPolicy* chosen = nullptr;
    long long down_limit = current;
    if (r.select != Select::disabled) {
      bool take_max = r.select == Select::max;  // the largest change: the lowest count
      down_limit = take_max ? INT_MAX : INT_MIN;
      for (const auto& p : r.policies) {
        long long start = current - changed(p.period_s, st.up) + changed(p.period_s, st.down);
        long long proposed = p.type == PolicyType::pods
                                 ? start - p.value
                                 : static_cast<long long>(static_cast<double>(start) *
                                                          (1 - static_cast<double>(p.value) / 100));
        if (take_max ? proposed < down_limit : proposed > down_limit) {
          down_limit = proposed;
          chosen = &p;
        }
      }
    }
    if (down_limit > current) down_limit = current;
    if (min < down_limit) {
      if (desired < down_limit) return {clamp_int(down_limit), policy_label("scale_down", chosen)};
    } else if (desired < min) {
      return {min, kMinReplicas};
    }
  }
  return {desired, ""};
}

// storeScaleEvent: with `behavior`, each rescale is remembered for the policies' periods; an event older
// than the direction's longest period is marked outdated and its slot reused.
void HpaController::store_event(State& st, int before, int after, double now) const {
  if (!cfg_.behavior) return;
  bool up = after > before;
  const HpaScalingRules& r = up ? cfg_.behavior->scale_up : cfg_.behavior->scale_down;
  std::vector<ScaleEvent>& events = up ? st.up : st.down;
  int longest = 0;
  for (const auto& p : r.policies) longest = std::max(longest, p.period_s);
  std::optional<size_t> old;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].time_s < now - longest) events[i].outdated = true;
    if (events[i].outdated) old = i;
  }
  ScaleEvent e{up ? after - before : before - after, now, false};
  if (old)
    events[*old] = e;
  else
    events.push_back(e);
}

ServiceDecision HpaController::reconcile(const ServiceObservation& s, double now, State& st) const {
  ServiceDecision out{s.name, s.desired, "", 0, ""};
  const int current = s.desired;  // scale.spec.replicas
  const int status = s.status_replicas < 0 ? current : s.status_replicas;
  if (!st.recommendations) st.recommendations = std::vector<Recommendation>{{current, now}};

  int desired;
  if (current == 0 && cfg_.min_replicas != 0) {
    out.rule = "scaling_disabled";  // a target scaled to zero by hand is left alone
    out.diagnostic_strings["limited_by"] = out.rule;
    return out;
  } else if (current > cfg_.max_replicas) {
    desired = cfg_.max_replicas;
    out.rule = kMaxReplicas;
  } else if (current < cfg_.min_replicas) {
    desired = cfg_.min_replicas;
    out.rule = kMinReplicas;
  } else {
    // computeReplicasForMetrics: the largest valid proposal wins.
    const hpa::Tolerances tol = tolerances();
    const hpa::PodTiming timing{cfg_.cpu_initialization_period_s, cfg_.initial_readiness_delay_s};
    int replicas = 0;
    size_t invalid = 0;
    std::string first_error;
    std::optional<hpa::Proposal> best;
    const HpaMetricSpec* best_spec = nullptr;
    for (const HpaMetricSpec& m : cfg_.metrics) {
      hpa::Proposal p;
      switch (m.source) {
        case HpaMetricSpec::Source::resource:
        case HpaMetricSpec::Source::container_resource:
          p = m.target == HpaMetricSpec::Target::utilization
                  ? hpa::resource_utilization(current, m.average_utilization, s.instances, tol, timing, now)
                  : hpa::resource_average_value(current, m.target_milli, s.instances, tol, timing, now);
          break;
        case HpaMetricSpec::Source::pods:
          p = hpa::pods_average_value(current, m.target_milli, m.name, s.instances, tol, timing, now);
          break;
        case HpaMetricSpec::Source::object:
        case HpaMetricSpec::Source::external: {
          auto it = s.named_metrics.find(m.name);
          std::optional<double> value;
          if (it != s.named_metrics.end()) value = it->second;
          p = m.target == HpaMetricSpec::Target::value
                  ? hpa::total_value(current, m.target_milli, value, s.instances, tol)
                  : hpa::total_average_value(status, m.target_milli, value, tol);
          break;
        }
      }
      if (!p.valid) {
        if (invalid++ == 0) first_error = m.label + ": " + p.error;
        continue;
      }
      if (replicas == 0 || p.replicas > replicas) {
        replicas = p.replicas;
        best = p;
        best_spec = &m;
      }
    }
    out.diagnostics["invalid_metrics"] = static_cast<double>(invalid);
    if (invalid > 0) out.diagnostic_strings["metric_error"] = first_error;
    if (invalid >= cfg_.metrics.size() || (invalid > 0 && replicas < current)) {
      // No scaling on invalid metrics, nor a scale-down while some metric cannot be read.
      out.rule = "invalid_metrics";
      out.diagnostic_strings["limited_by"] = out.rule;
      return out;
    }
    out.metric = best_spec->label;
    out.metric_value = best->usage_ratio;
    out.diagnostics["usage_ratio"] = best->usage_ratio;
    out.diagnostics["current_value"] = best->current;
    out.diagnostics["raw_recommendation"] = replicas;

    int stabilized = stabilize(st, current, replicas, now);
    out.diagnostics["stabilized_recommendation"] = stabilized;
    Limit l = limit(st, current, stabilized, now);
    desired = l.replicas;
    if (!l.rule.empty())
      out.rule = l.rule;
    else if (stabilized != replicas)
      out.rule = kStabilized;
    else if (desired == current && !best->held_by.empty())
      out.rule = best->held_by;
    else
      out.rule = desired > current ? "above_target" : desired < current ? "below_target" : "no_change";
  }
  if (desired != current) store_event(st, current, desired, now);
  out.desired = desired;
  out.diagnostic_strings["limited_by"] = out.rule;
  return out;
}

Decision HpaController::decide(const Observation& obs) {
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    if (s->history) {
      // `autoscale decide`: upstream's tests start from a given memory.
      st.recommendations.reset();
      if (s->history->recommendations) {
        st.recommendations.emplace();
        for (const auto& r : *s->history->recommendations)
          st.recommendations->push_back({r.replicas, r.time_s});
      }
      st.up.clear();
      st.down.clear();
      for (const auto& e : s->history->scale_events) {
        if (e.replicas_after > e.replicas_before)
          st.up.push_back({e.replicas_after - e.replicas_before, e.time_s, false});
        else if (e.replicas_after < e.replicas_before)
          st.down.push_back({e.replicas_before - e.replicas_after, e.time_s, false});
      }
    }
    d.services.push_back(reconcile(*s, obs.time_s, st));
  }
  return d;
}

// ---- configuration: upstream's field names ----

namespace {

// A Kubernetes quantity, written as a string ("500m", "2Mi") or a plain number.
hpa::Quantity read_quantity(Params& p, const std::string& key) {
  std::optional<std::string> text;
  try {
    text = p.string(key, std::nullopt);
  } catch (const InputError&) {
    if (!p.has(key)) throw;
  }
  hpa::Quantity q;
  if (text) {
    auto parsed = hpa::parse_quantity(*text);
    if (!parsed)
      p.fail(key, "got \"" + *text +
                      "\"; expected a Kubernetes quantity such as \"500m\", \"15\", \"1.5k\" or \"2Mi\"");
    q = *parsed;
  } else {
    double v = p.number(key, std::nullopt);
    q = {hpa::to_milli(v), v};
  }
  return q;
}

int64_t positive_quantity(Params& p, const std::string& key) {
  hpa::Quantity q = read_quantity(p, key);
  if (q.milli <= 0) p.fail(key, "a positive quantity");
  return q.milli;
}

// A MetricIdentifier: `name`, and a `selector` our metric sources do not filter by (read, not checked).
std::string metric_name(Params& source) {
  auto m = source.table("metric");
  std::string name = m->string("name", std::nullopt);
  if (m->has("selector")) m->table("selector");
  m->finish();
  return name;
}

// A MetricTarget restricted to the types upstream's validation allows for the source.
void read_target(Params& source, HpaMetricSpec& spec, const std::vector<std::string>& types) {
  auto t = source.table("target");
  std::string type = t->choice("type", std::nullopt, types);
  // A misspelt value key is reported as such (with a hint), not as a missing one.
  const char* key = type == "Utilization"    ? "averageUtilization"
                    : type == "AverageValue" ? "averageValue"
                                             : "value";
  if (!t->has(key)) {
    t->string(key, std::string());  // absent: marks it known, so that finish() can suggest it
    t->finish();
  }
  if (type == "Utilization") {
    spec.target = HpaMetricSpec::Target::utilization;
    spec.average_utilization = static_cast<int>(t->integer("averageUtilization", std::nullopt));
    if (spec.average_utilization <= 0) t->fail("averageUtilization", "a positive percentage");
  } else if (type == "AverageValue") {
    spec.target = HpaMetricSpec::Target::average_value;
    spec.target_milli = positive_quantity(*t, "averageValue");
  } else {
    spec.target = HpaMetricSpec::Target::value;
    spec.target_milli = positive_quantity(*t, "value");
  }
  t->finish();
}

HpaMetricSpec read_metric(Params& m) {
  HpaMetricSpec spec;
  std::string type =
      m.choice("type", std::nullopt, {"Resource", "ContainerResource", "Pods", "Object", "External"});
  if (type == "Resource" || type == "ContainerResource") {
    bool container = type == "ContainerResource";
    auto r = m.table(container ? "containerResource" : "resource");
    spec.source = container ? HpaMetricSpec::Source::container_resource : HpaMetricSpec::Source::resource;
    spec.name = r->string("name", std::nullopt);
    // Pods have one container here, so a container's CPU is its pod's.
    if (container) r->string("container", std::nullopt);
    if (spec.name != "cpu")
      r->fail("name", "unknown resource \"" + spec.name + "\"; only \"cpu\" is observed (no memory metrics)");
    read_target(*r, spec, {"Utilization", "AverageValue"});
    // Upstream's names: a container's average value is named as the pod's.
    spec.label = spec.target != HpaMetricSpec::Target::utilization ? "cpu resource"
                 : container ? "cpu container resource utilization (percentage of request)"
                             : "cpu resource utilization (percentage of request)";
    r->finish();
  } else if (type == "Pods") {
    auto pods = m.table("pods");
    spec.source = HpaMetricSpec::Source::pods;
    spec.name = metric_name(*pods);
    read_target(*pods, spec, {"AverageValue"});
    spec.label = "pods metric " + spec.name;
    pods->finish();
  } else if (type == "Object") {
    auto o = m.table("object");
    spec.source = HpaMetricSpec::Source::object;
    auto described = o->table("describedObject");
    std::string kind = described->string("kind", std::nullopt);
    described->string("name", std::nullopt);
    described->string("apiVersion", "");
    described->finish();
    spec.name = metric_name(*o);
    read_target(*o, spec, {"Value", "AverageValue"});
    spec.label = kind + " metric " + spec.name;
    o->finish();
  } else {
    auto e = m.table("external");
    spec.source = HpaMetricSpec::Source::external;
    spec.name = metric_name(*e);
    read_target(*e, spec, {"Value", "AverageValue"});
    spec.label = "external metric " + spec.name;
    e->finish();
  }
  m.finish();
  return spec;
}

// One direction of `behavior`: the fields given replace upstream's defaults.
void read_rules(Params& b, const std::string& key, HpaScalingRules& rules) {
  if (!b.has(key)) return;
  auto r = b.table(key);
  if (r->has("stabilizationWindowSeconds"))
    rules.stabilization_window_s = static_cast<int>(r->integer("stabilizationWindowSeconds", std::nullopt));
  if (rules.stabilization_window_s &&
      (*rules.stabilization_window_s < 0 || *rules.stabilization_window_s > 3600))
    r->fail("stabilizationWindowSeconds", "an integer in [0, 3600] (seconds)");
  std::string select = r->choice("selectPolicy", "Max", {"Max", "Min", "Disabled"});
  rules.select = select == "Max" ? Select::max : select == "Min" ? Select::min : Select::disabled;
  if (r->has("tolerance")) {
    rules.tolerance = read_quantity(*r, "tolerance").value;
    if (*rules.tolerance < 0) r->fail("tolerance", "a non-negative tolerance");
  }
  if (r->has("policies")) {
    rules.policies.clear();
    for (auto& p : r->tables("policies")) {
      HpaScalingPolicy policy;
      policy.type = p->choice("type", std::nullopt, {"Pods", "Percent"}) == "Pods" ? PolicyType::pods
                                                                                   : PolicyType::percent;
      policy.value = static_cast<int>(p->integer("value", std::nullopt));
      if (policy.value <= 0) p->fail("value", "a positive integer");
      policy.period_s = static_cast<int>(p->integer("periodSeconds", std::nullopt));
      if (policy.period_s <= 0 || policy.period_s > 1800) p->fail("periodSeconds", "an integer in [1, 1800]");
      p->finish();
      rules.policies.push_back(policy);
    }
    if (rules.policies.empty())
      r->fail("policies", "at least one policy ([[...policies]] with type, value, periodSeconds)");
  }
  r->finish();
}

}  // namespace

std::unique_ptr<Controller> make_hpa_controller(Params& p, const ControllerContext& ctx) {
  HpaConfig c;
  // One HPA per listed service (each keeps its own memory); by default the first service.
  c.services = controlled_services_or_first(p, ctx);
  c.min_replicas = static_cast<int>(p.integer("minReplicas", 1));
  c.max_replicas = static_cast<int>(p.integer("maxReplicas", std::nullopt));
  if (c.min_replicas < 0) p.fail("minReplicas", "a non-negative replica count");
  if (c.max_replicas < 1) p.fail("maxReplicas", "a replica count of at least 1");
  if (c.min_replicas > c.max_replicas) p.fail("minReplicas", "a value at most maxReplicas");
  for (auto& m : p.tables("metrics")) c.metrics.push_back(read_metric(*m));
  c.tolerance = p.number("tolerance", c.tolerance);
  c.cpu_initialization_period_s = p.number("cpuInitializationPeriodSeconds", c.cpu_initialization_period_s);
  c.initial_readiness_delay_s = p.number("initialReadinessDelaySeconds", c.initial_readiness_delay_s);
  c.downscale_stabilization_window_s =
      p.number("downscaleStabilizationWindowSeconds", c.downscale_stabilization_window_s);
  if (c.tolerance < 0) p.fail("tolerance", "a non-negative tolerance");
  if (p.has("syncPeriodSeconds") && p.has("interval_s"))
    p.fail("interval_s", "either syncPeriodSeconds or interval_s (the same setting), not both");
  const char* interval_key = p.has("interval_s") ? "interval_s" : "syncPeriodSeconds";
  c.sync_period_s = p.number(interval_key, c.sync_period_s);
  if (c.sync_period_s <= 0) p.fail(interval_key, "a positive interval in seconds");
  if (p.has("behavior")) {
    auto b = p.table("behavior");
    c.behavior = HpaBehavior::defaults();
    read_rules(*b, "scaleUp", c.behavior->scale_up);
    read_rules(*b, "scaleDown", c.behavior->scale_down);
    b->finish();
  }
  return std::make_unique<HpaController>(std::move(c));
}

}  // namespace autoscale
