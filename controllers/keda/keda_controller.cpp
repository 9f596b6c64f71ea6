#include "controllers/keda/keda_controller.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <stdexcept>

#include "controllers/base/error.hpp"
#include "controllers/hpa/quantity.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

namespace autoscale {

namespace {

using keda::Read;
using keda::TargetType;
using keda::Trigger;

constexpr double kEps = 1e-9;

// The ready pods KEDA's fallback counts for a Value target (pod phase Running and Ready).
int ready_pods(const ServiceObservation& s) {
  int n = 0;
  for (const auto& p : s.instances)
    if (p.ready && p.phase == "Running") ++n;
  return n;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace

KedaController::KedaController(KedaConfig cfg, std::unique_ptr<Controller> hpa)
    : cfg_(std::move(cfg)), hpa_(std::move(hpa)) {
  const long long sync_ms = std::max(1LL, std::llround(cfg_.sync_period_s * 1000));
  const long long poll_ms = cfg_.polling_interval_s * 1000LL;
  tick_s_ = static_cast<double>(std::gcd(sync_ms, poll_ms)) / 1000;
}

std::vector<std::string> KedaController::scale_to_zero_services() const {
  if (cfg_.min_replica_count == 0 || cfg_.idle_replica_count == 0) return cfg_.services;
  return {};
}

// fallback.GetMetricsWithFallback: a good read clears the metric's failures; a failed one counts, and past
// failureThreshold returns the target times the fallback's replicas (divided by the ready pods for a Value
// target), which makes the read active.
Read KedaController::with_fallback(const Trigger& t, TriggerState& ts, Read raw, const ServiceObservation& s,
                                   int current) const {
  if (!cfg_.fallback) return raw;
  if (raw.error.empty()) {
    ts.failures = 0;
    return raw;
  }
  ++ts.failures;
  if (ts.failures <= cfg_.fallback->failure_threshold) return raw;
  double replicas = cfg_.fallback->replicas;
  switch (cfg_.fallback->behavior) {
    case KedaFallback::Behavior::fixed:
      break;
    case KedaFallback::Behavior::current_replicas:
      replicas = current;
      break;
    case KedaFallback::Behavior::current_replicas_if_higher:
      replicas = std::max<double>(current, replicas);
      break;
    case KedaFallback::Behavior::current_replicas_if_lower:
      replicas = std::min<double>(current, replicas);
      break;
  }
  if (t.target == TargetType::value) {
    const int ready = ready_pods(s);
    if (ready == 0)
      return Read{std::nullopt, false, false, "fallback: readyReplicas is zero, cannot do fallback"};
    replicas /= ready;
  }
  const double milli = std::trunc(t.target_value * 1000 * replicas);  // Go's int64() conversion
  return Read{milli / 1000, true, true, ""};
}

// One pass of KEDA's scale loop (checkScalers, then the executor's RequestScale) on a target at `current`
// replicas; returns the rule when it changed the count.
std::string KedaController::poll(const ServiceObservation& s, double now, State& st, int& current,
                                 Seen& seen) const {
  bool active = false, error = false, external = false;
  std::vector<std::string> active_names;
  for (size_t i = 0; i < cfg_.triggers.size(); ++i) {
    const Trigger& t = cfg_.triggers[i];
    if (t.kind == Trigger::Kind::cpu) continue;  // a Resource metric: the HPA's alone, never "active"
    external = true;
    Read r = with_fallback(t, st.triggers[i], keda::read_trigger(t, s, now), s, current);
    if (t.use_cached_metrics) st.triggers[i].cached = r;
    if (!r.error.empty()) {
      error = true;
      continue;
    }
    seen.values[t.metric_name] = *r.value;
    if (r.fallback) seen.fallback_metrics.push_back(t.metric_name);
    if (r.active) {
      active = true;
      active_names.push_back(t.metric_name);
    }
  }
  // Only cpu (memory) triggers: the target could never come back from zero, so the object is always active.
  if (!external && !error) active = true;
  st.active = active;
  st.active_triggers = join(active_names);

  const int min = cfg_.min_replica_count;
  const auto& idle = cfg_.idle_replica_count;
  if (active) {
    if ((idle && current < min) || current == 0) {
      current = std::max(min, 1);
      st.last_active_s = now;
      return "activation";
    }
    if (!error) st.last_active_s = now;
    return "";
  }
  if (error && (!cfg_.fallback || cfg_.fallback->replicas != 0)) return "";
  if ((idle && current > *idle) || (current > 0 && min == 0)) {
    // LastActiveTime is kept in whole seconds, so the poll exactly cooldownPeriod later already passes.
    const bool cooled = st.last_active_s ? *st.last_active_s + cfg_.cooldown_period_s <= now + kEps
                                         : *st.created_s + cfg_.initial_cooldown_period_s <= now + kEps;
    if (!cooled) return "";
    current = idle ? *idle : min;
    return "keda_cooldown";
  }
  if (!idle && current < min) {
    current = min;
    return "min_replica_count";
  }
  return "";
}

// What the HPA reads at a sync: the target at KEDA's count, and each trigger's External metric as KEDA's
// metrics server answers (a fresh read, or the last poll's with useCachedMetrics; absent when it fails).
ServiceObservation KedaController::hpa_view(const ServiceObservation& s, double now, State& st, int current,
                                            Seen& seen) const {
  ServiceObservation view = s;
  view.desired = current;
  view.named_metrics.clear();
  // The HPA reads no metric of a target it will not scale by them (at 0, or outside its bounds).
  const int hpa_min = std::max(cfg_.min_replica_count, 1);
  if (current < hpa_min || current > cfg_.max_replica_count) return view;
  for (size_t i = 0; i < cfg_.triggers.size(); ++i) {
    const Trigger& t = cfg_.triggers[i];
    if (t.kind == Trigger::Kind::cpu) continue;
    TriggerState& ts = st.triggers[i];
    Read raw = t.use_cached_metrics && ts.cached ? *ts.cached : keda::read_trigger(t, s, now);
    Read r = with_fallback(t, ts, raw, s, current);
    if (!r.error.empty()) {
      seen.values.erase(t.metric_name);
      continue;
    }
    view.named_metrics[t.metric_name] = *r.value;
    seen.values[t.metric_name] = *r.value;
    if (r.fallback && std::find(seen.fallback_metrics.begin(), seen.fallback_metrics.end(), t.metric_name) ==
                          seen.fallback_metrics.end())
      seen.fallback_metrics.push_back(t.metric_name);
  }
  return view;
}

Decision KedaController::decide(const Observation& obs) {
  const double now = obs.time_s;
  const bool poll_due = !last_poll_s_ || now - *last_poll_s_ >= cfg_.polling_interval_s - kEps;
  const bool sync_due = !last_sync_s_ || now - *last_sync_s_ >= cfg_.sync_period_s - kEps;
  Decision d;
  if (!poll_due && !sync_due) return d;
  if (poll_due) last_poll_s_ = now;
  if (sync_due) last_sync_s_ = now;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    st.triggers.resize(cfg_.triggers.size());
    if (!st.created_s) st.created_s = now;
    int current = s->desired;
    Seen seen;
    std::string keda_rule;
    if (poll_due) keda_rule = poll(*s, now, st, current, seen);
    if (!sync_due && keda_rule.empty()) continue;

    ServiceDecision sd{name, current, "", 0, keda_rule};
    if (sync_due) {
      Observation view;
      view.time_s = now;
      view.services.push_back(hpa_view(*s, now, st, current, seen));
      for (ServiceDecision& h : hpa_->decide(view).services)
        if (h.service == name) sd = std::move(h);
      bool by_fallback = false;
      for (const auto& m : seen.fallback_metrics) by_fallback |= sd.metric == "external metric " + m;
      if (!keda_rule.empty() || by_fallback) {
        sd.diagnostic_strings["hpa_rule"] = sd.rule;
        sd.rule = keda_rule.empty() ? "fallback" : keda_rule;
      }
    }
    sd.diagnostic_flags["keda_active"] = st.active;
    sd.diagnostic_flags["fallback"] = !seen.fallback_metrics.empty();
    sd.diagnostic_strings["active_triggers"] = st.active_triggers;
    for (const auto& [metric, v] : seen.values) sd.diagnostics[metric] = v;
    if (cfg_.fallback)
      for (size_t i = 0; i < cfg_.triggers.size(); ++i)
        if (cfg_.triggers[i].kind != Trigger::Kind::cpu)
          sd.diagnostics[cfg_.triggers[i].metric_name + "_failures"] = st.triggers[i].failures;
    if (st.last_active_s) sd.diagnostics["last_active_s"] = *st.last_active_s;
    const bool may_deactivate = (cfg_.idle_replica_count && sd.desired > *cfg_.idle_replica_count) ||
                                (sd.desired > 0 && cfg_.min_replica_count == 0);
    if (!st.active && may_deactivate && st.last_active_s)
      sd.diagnostics["cooldown_remaining_s"] = *st.last_active_s + cfg_.cooldown_period_s - now;
    d.services.push_back(std::move(sd));
  }
  return d;
}

// ---- configuration: the ScaledObject's spec, by KEDA's names ----

namespace {

// KEDA's trigger metadata is a map of strings.
std::string meta_string(Params& m, const std::string& key, std::optional<std::string> fallback) {
  try {
    return m.string(key, std::move(fallback));
  } catch (const InputError&) {
    if (!m.has(key)) throw;
    m.fail(key, "a string: KEDA's trigger metadata is a map of strings (quote numbers: \"60\")");
  }
}

// strconv.ParseFloat, finite values only.
double meta_number(Params& m, const std::string& key, std::optional<double> fallback) {
  if (!m.has(key) && fallback) {
    meta_string(m, key, "");  // marks it known
    return *fallback;
  }
  const std::string text = meta_string(m, key, std::nullopt);
  char* end = nullptr;
  const double v = text.empty() ? NAN : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !std::isfinite(v) || std::isspace(static_cast<unsigned char>(text[0])))
    m.fail(key, "got \"" + text + "\"; expected a number as a string (\"2.5\")");
  return v;
}

// strconv.ParseBool.
bool meta_bool(Params& m, const std::string& key, bool fallback) {
  const std::string text = meta_string(m, key, fallback ? "true" : "false");
  for (const char* t : {"1", "t", "T", "TRUE", "true", "True"})
    if (text == t) return true;
  for (const char* f : {"0", "f", "F", "FALSE", "false", "False"})
    if (text == f) return false;
  m.fail(key, "got \"" + text + "\"; expected \"true\" or \"false\"");
}

// strconv.ParseInt, 64-bit.
long meta_integer(Params& m, const std::string& key) {
  const std::string text = meta_string(m, key, std::nullopt);
  char* end = nullptr;
  errno = 0;
  const long v = text.empty() ? 0 : std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || errno == ERANGE || std::isspace(static_cast<unsigned char>(text[0])))
    m.fail(key, "got \"" + text + "\"; expected an integer as a string (\"10\")");
  return v;
}

// Metadata keys a trigger type has that change nothing here (how to reach the metric source).
void skip_keys(Params& m, std::initializer_list<const char*> keys) {
  for (const char* k : keys) meta_string(m, k, "");
}

// kedautil.NormalizeString.
std::string normalize(std::string s) {
  for (char& c : s)
    if (c == '/' || c == '.' || c == ':' || c == '%' || c == '(' || c == ')') c = '-';
  return s;
}

// url.QueryEscape.
std::string query_escape(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else if (c == ' ') {
      out += '+';
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// GetMetricTargetMili's quantity ("%.3f"): the target in thousandths, which the HPA takes only if positive.
void milli_target(Params& m, const std::string& key, Trigger& t, double value) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  t.target_quantity = buf;
  t.target_value = std::strtod(buf, nullptr);
  if (t.target_value <= 0) m.fail(key, "a positive target of at least 0.001 (the HPA's target)");
}

// GetMetricTargetType: AverageValue unless the trigger's metricType says Value.
TargetType external_target(Params& p, const std::string& metric_type) {
  if (metric_type == "Utilization")
    p.fail("metricType", "AverageValue or Value: Utilization is for cpu triggers only");
  return metric_type == "Value" ? TargetType::value : TargetType::average_value;
}

// cron_scaler.go's parseCronTimeFormat, for the metric's name.
std::string cron_name(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == ' ') continue;
    out += c == '*' ? "x" : c == '/' ? "Sl" : c == '?' ? "Qm" : c == ',' ? "Cm" : std::string(1, c);
  }
  return out;
}

// A bare metric name (Prometheus' syntax): expressions are not evaluated.
bool metric_name_syntax(const std::string& q) {
  if (q.empty() || std::isdigit(static_cast<unsigned char>(q[0]))) return false;
  for (unsigned char c : q)
    if (!std::isalnum(c) && c != '_' && c != ':') return false;
  return true;
}

const std::vector<std::string> kTriggerTypes = {"cpu", "prometheus", "cron", "rabbitmq", "queue"};

Trigger read_trigger_spec(Params& p, size_t index, double epoch_s) {
  Trigger t;
  t.type = p.string("type", std::nullopt);
  t.name = p.string("name", "");
  const std::string metric_type = p.choice("metricType", "", {"", "AverageValue", "Value", "Utilization"});
  t.use_cached_metrics = p.boolean("useCachedMetrics", false);
  if (t.type == "memory")
    p.fail("type",
           "a trigger on an observed metric: memory is not observed (use cpu, prometheus, cron, rabbitmq "
           "or queue)");
  if (std::find(kTriggerTypes.begin(), kTriggerTypes.end(), t.type) == kTriggerTypes.end()) {
    std::string hint = closest_match(t.type, kTriggerTypes);
    p.fail("type",
           "unsupported trigger type \"" + t.type +
               "\"; expected cpu, prometheus (a query on an observation metric), cron, rabbitmq or queue" +
               (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  if (t.use_cached_metrics && (t.type == "cpu" || t.type == "cron"))
    p.fail("useCachedMetrics", "false: KEDA refuses useCachedMetrics for the \"" + t.type + "\" scaler");
  auto m = p.table("metadata");
  const std::string prefix = "s" + std::to_string(index) + "-";
  if (t.type == "cpu") {
    t.kind = Trigger::Kind::cpu;
    // metadata.type is the older spelling of metricType (removed in KEDA 2.18).
    const std::string older =
        m->has("type") ? m->choice("type", std::nullopt, {"Utilization", "AverageValue"}) : "";
    const std::string type = metric_type.empty() ? older : metric_type;
    if (type.empty() || type == "Value")
      p.fail("metricType",
             "Utilization or AverageValue for a cpu trigger (or its metadata.type, before KEDA 2.18)");
    meta_string(*m, "containerName", "");  // pods have one container here
    if (type == "Utilization") {
      t.target = TargetType::utilization;
      const long v = meta_integer(*m, "value");
      if (v <= 0 || v > 100000)
        m->fail("value", "a whole percentage of the CPU request in [1, 100000] (\"60\")");
      t.target_value = static_cast<double>(v);
      t.target_quantity = std::to_string(v);
    } else {
      t.target = TargetType::average_value;
      t.target_quantity = meta_string(*m, "value", std::nullopt);
      auto q = hpa::parse_quantity(t.target_quantity);
      if (!q || q->milli <= 0)
        m->fail("value",
                "got \"" + t.target_quantity + "\"; expected a positive quantity of cores (\"500m\")");
      t.target_value = q->value;
    }
  } else if (t.type == "prometheus") {
    t.kind = Trigger::Kind::prometheus;
    t.target = external_target(p, metric_type);
    t.query = meta_string(*m, "query", std::nullopt);
    if (!metric_name_syntax(t.query)) {
      const auto& names = observation_metric_names();
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      m->fail("query", "got \"" + t.query +
                           "\"; expected a metric's name (PromQL is not evaluated): one of " + list +
                           ", or a metric `autoscale decide` lines name");
    }
    milli_target(*m, "threshold", t, meta_number(*m, "threshold", std::nullopt));
    t.activation_threshold = meta_number(*m, "activationThreshold", 0.0);
    t.ignore_null_values = meta_bool(*m, "ignoreNullValues", true);
    skip_keys(*m, {"serverAddress", "namespace", "customHeaders", "queryParameters", "unsafeSsl", "timeout",
                   "awsRegion", "identityOwner", "authModes"});
    t.metric_name = prefix + normalize("prometheus");
  } else if (t.type == "cron") {
    t.kind = Trigger::Kind::cron;
    t.target = external_target(p, metric_type);
    const std::string tz = meta_string(*m, "timezone", std::nullopt);
    auto offset = wrappers::parse_time_zone(tz);
    if (!offset)
      m->fail("timezone",
              "UTC or a fixed offset (\"UTC+02:00\", \"-05:00\", \"Etc/GMT-2\"); zones with daylight "
              "saving time are not supported, got \"" +
                  tz + "\"");
    t.offset_s = *offset;
    const std::string start = meta_string(*m, "start", std::nullopt);
    const std::string end = meta_string(*m, "end", std::nullopt);
    auto schedule = [&](const char* key, const std::string& text, std::optional<wrappers::Cron>& into) {
      try {
        into.emplace(text);
      } catch (const std::invalid_argument& e) {
        m->fail(key,
                std::string("a cron schedule (minute hour day-of-month month day-of-week): ") + e.what());
      }
    };
    schedule("start", start, t.start);
    schedule("end", end, t.end);
    if (start == end)
      m->fail("end", "a schedule other than start's (KEDA: start and end can not be the same)");
    t.desired_replicas = meta_integer(*m, "desiredReplicas");
    if (t.desired_replicas <= 0 || t.desired_replicas > 10000)
      m->fail("desiredReplicas", "a replica count in [1, 10000] (\"10\")");
    t.epoch_s = epoch_s;
    t.target_quantity = "1";  // GetMetricTarget(metricType, 1): the HPA proposes desiredReplicas
    t.target_value = 1;
    t.metric_name = prefix + normalize("cron-" + tz + "-" + cron_name(start) + "-" + cron_name(end));
  } else {
    t.kind = Trigger::Kind::queue;
    t.target = external_target(p, metric_type);
    const bool rabbitmq = t.type == "rabbitmq";
    const std::string queue_name = rabbitmq ? meta_string(*m, "queueName", std::nullopt) : "";
    const bool has_mode = rabbitmq && m->has("mode");
    if (rabbitmq && m->choice("mode", "QueueLength", {"QueueLength", "MessageRate"}) != "QueueLength")
      m->fail("mode", "QueueLength: message rates are not observed");
    const double queue_length = meta_number(*m, "queueLength", 0.0);
    const double value = meta_number(*m, "value", 0.0);
    if (rabbitmq && queue_length != 0 && (has_mode || value != 0))
      m->fail("queueLength", "either queueLength (deprecated) or mode and value, not both");
    if (rabbitmq && queue_length == 0 && value != 0 && !has_mode)
      m->fail("mode", "QueueLength (KEDA: mode must be specified with value)");
    if (rabbitmq && has_mode && queue_length == 0 && value == 0)
      m->fail("value", "the messages per replica (KEDA: value must be specified with mode)");
    const double target = queue_length != 0 ? queue_length : value != 0 ? value : 20;  // KEDA's default: 20
    milli_target(*m, queue_length != 0 ? "queueLength" : "value", t, target);
    t.activation_value = meta_number(*m, "activationValue", 0.0);
    t.exclude_unacknowledged = meta_bool(*m, "excludeUnacknowledged", false);
    if (rabbitmq)
      skip_keys(*m, {"host", "hostFromEnv", "protocol", "vhostName", "useRegex", "pageSize", "operation",
                     "unsafeSsl", "timeout"});
    t.metric_name = rabbitmq ? prefix + normalize("rabbitmq-" + query_escape(queue_name)) : prefix + "queue";
  }
  m->finish();
  p.finish();
  return t;
}

using V = MapParams::Value;
using Map = std::map<std::string, V>;

MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}

// The HPA's MetricSpec for a trigger (controllers/keda/hpa.go, the scalers' GetMetricSpecForScaling).
MapParams::Table hpa_metric(const Trigger& t) {
  auto target = [&](const char* type) {
    const std::string key = t.target == TargetType::utilization ? "averageUtilization"
                            : t.target == TargetType::value     ? "value"
                                                                : "averageValue";
    if (t.target == TargetType::utilization)
      return table({{"type", std::string(type)}, {key, static_cast<long>(t.target_value)}});
    return table({{"type", std::string(type)}, {key, t.target_quantity}});
  };
  if (t.kind == Trigger::Kind::cpu)
    return table(
        {{"type", std::string("Resource")},
         {"resource", table({{"name", std::string("cpu")},
                             {"target", target(t.target == TargetType::utilization ? "Utilization"
                                                                                   : "AverageValue")}})}});
  return table(
      {{"type", std::string("External")},
       {"external", table({{"metric", table({{"name", t.metric_name}})},
                           {"target", target(t.target == TargetType::value ? "Value" : "AverageValue")}})}});
}

// The generated HPA's spec, with the ScaledObject's advanced.horizontalPodAutoscalerConfig.behavior read from
// the user's own section (so its errors name the user's file and line).
class GeneratedHpaSpec : public MapParams {
 public:
  GeneratedHpaSpec(Map values, std::unique_ptr<Params> behavior)
      : MapParams(std::move(values)), behavior_(std::move(behavior)) {}
  bool has(const std::string& k) const override {
    return k == "behavior" ? behavior_ != nullptr : MapParams::has(k);
  }
  std::unique_ptr<Params> table(const std::string& k) override {
    if (k == "behavior" && behavior_) return std::move(behavior_);
    return MapParams::table(k);
  }

 private:
  std::unique_ptr<Params> behavior_;
};

}  // namespace

std::unique_ptr<Controller> make_keda_controller(Params& p, const ControllerContext& ctx) {
  KedaConfig c;
  // One ScaledObject per listed service; by default the first service (its scaleTargetRef).
  c.services = controlled_services_or_first(p, ctx);
  c.polling_interval_s = static_cast<int>(p.integer("pollingInterval", c.polling_interval_s));
  c.cooldown_period_s = static_cast<int>(p.integer("cooldownPeriod", c.cooldown_period_s));
  c.initial_cooldown_period_s =
      static_cast<int>(p.integer("initialCooldownPeriod", c.initial_cooldown_period_s));
  c.min_replica_count = static_cast<int>(p.integer("minReplicaCount", c.min_replica_count));
  c.max_replica_count = static_cast<int>(p.integer("maxReplicaCount", c.max_replica_count));
  if (p.has("idleReplicaCount"))
    c.idle_replica_count = static_cast<int>(p.integer("idleReplicaCount", std::nullopt));
  if (c.min_replica_count > c.max_replica_count)
    p.fail("minReplicaCount", "at most maxReplicaCount (" + std::to_string(c.max_replica_count) + ")");
  if (c.idle_replica_count && *c.idle_replica_count >= c.min_replica_count)
    p.fail("idleReplicaCount", "less than minReplicaCount (" + std::to_string(c.min_replica_count) + ")");
  c.sync_period_s = p.number("interval_s", c.sync_period_s);
  const std::string start = p.string("startTime", "1970-01-01T00:00:00Z");
  const auto epoch = wrappers::parse_date_time(start, 0);
  if (!epoch) p.fail("startTime", "an ISO-8601 date-time such as \"2024-03-01T00:00:00Z\" (simulated t = 0)");

  if (p.has("fallback")) {
    auto f = p.table("fallback");
    KedaFallback fb;
    fb.failure_threshold = static_cast<int>(f->integer("failureThreshold", std::nullopt));
    fb.replicas = static_cast<int>(f->integer("replicas", std::nullopt));
    const std::string b =
        f->choice("behavior", "static",
                  {"static", "currentReplicas", "currentReplicasIfHigher", "currentReplicasIfLower"});
    fb.behavior = b == "static"                    ? KedaFallback::Behavior::fixed
                  : b == "currentReplicas"         ? KedaFallback::Behavior::current_replicas
                  : b == "currentReplicasIfHigher" ? KedaFallback::Behavior::current_replicas_if_higher
                                                   : KedaFallback::Behavior::current_replicas_if_lower;
    f->finish();
    c.fallback = fb;
  }

  auto triggers = p.tables("triggers");
  if (triggers.empty())
    p.fail("triggers", "at least one [[controller.triggers]] (KEDA: no triggers defined)");
  std::vector<std::string> names;
  for (size_t i = 0; i < triggers.size(); ++i) {
    c.triggers.push_back(read_trigger_spec(*triggers[i], i, *epoch));
    const std::string& n = c.triggers.back().name;
    if (!n.empty() && std::find(names.begin(), names.end(), n) != names.end())
      p.fail("triggers", "unique trigger names: \"" + n + "\" is defined more than once");
    names.push_back(n);
  }
  const bool only_cpu = std::all_of(c.triggers.begin(), c.triggers.end(),
                                    [](const Trigger& t) { return t.kind == Trigger::Kind::cpu; });
  if (only_cpu && c.min_replica_count == 0)
    p.fail("minReplicaCount",
           "at least 1 with only cpu triggers (KEDA: scale to zero doesn't work in this case)");
  if (only_cpu && c.fallback)
    p.fail("fallback", "a trigger other than cpu for the fallback to be enabled (KEDA's validation)");

  // The generated HPA: External metrics sort before Resource ones (hpa.go sorts the specs by type).
  std::vector<MapParams::Table> metrics;
  for (const auto& t : c.triggers)
    if (t.kind != Trigger::Kind::cpu) metrics.push_back(hpa_metric(t));
  for (const auto& t : c.triggers)
    if (t.kind == Trigger::Kind::cpu) metrics.push_back(hpa_metric(t));
  std::unique_ptr<Params> behavior;
  if (p.has("advanced")) {
    auto a = p.table("advanced");
    if (a->has("horizontalPodAutoscalerConfig")) {
      auto h = a->table("horizontalPodAutoscalerConfig");
      h->string("name", "");  // the HPA's name
      if (h->has("behavior")) behavior = h->table("behavior");
      h->finish();
    }
    a->finish();
  }
  GeneratedHpaSpec spec({{"services", c.services},
                         {"minReplicas", static_cast<long>(std::max(c.min_replica_count, 1))},
                         {"maxReplicas", static_cast<long>(c.max_replica_count)},
                         {"syncPeriodSeconds", c.sync_period_s},
                         {"metrics", metrics}},
                        std::move(behavior));
  auto hpa = make_controller("hpa", spec, ctx);
  return std::make_unique<KedaController>(std::move(c), std::move(hpa));
}

}  // namespace autoscale
