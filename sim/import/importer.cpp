#include "sim/import/importer.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "controllers/base/error.hpp"

namespace autoscale {

namespace {

using Json = nlohmann::ordered_json;

constexpr long kInt32Max = 2147483647;

// yaml-cpp counts lines from 0; a node without a mark gives 0 (InputError then names no line).
int line_of(const YAML::Node& n) {
  return n.Mark().line + 1;
}

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return n.size() == 0 ? "an empty list" : "a list";
    case YAML::NodeType::Scalar:
      return n.Tag() == "!" ? "the string \"" + n.Scalar() + "\"" : "'" + n.Scalar() + "'";
    default:
      return "nothing";
  }
}

// Where messages about one manifest go: errors throw, warnings and notes are collected by line for stderr.
struct Source {
  std::string file;
  mutable std::vector<std::pair<int, std::string>> messages;  // (line, text)
  bool verbose;

  [[noreturn]] void fail(int line, const std::string& field, const std::string& message) const {
    throw InputError(file, line, field, message);
  }
  void warn(int line, const std::string& field, const std::string& message) const {
    messages.emplace_back(line, std::string("warning: ") + InputError(file, line, field, message).what());
  }
  void note(int line, const std::string& message) const {
    if (verbose)
      messages.emplace_back(line, std::string("note: ") + InputError(file, line, "", message).what());
  }
};

// A YAML mapping read key by key, as Params reads a TOML table: finish() warns about every key nobody took (a
// field the controller has no use for, or a typo), naming it and its line, with a "did you mean" hint.
class Mapping {
 public:
  // `line`: the line naming this mapping (its key in the parent), for "required" errors.
  Mapping(const Source& src, const YAML::Node& node, std::string path, int line)
      : src_(src), path_(std::move(path)), line_(line) {
    if (!node.IsMap())
      src_.fail(node.IsNull() ? line : line_of(node), path_, "expected a mapping, got " + describe(node));
    for (auto it = node.begin(); it != node.end(); ++it) {
      if (!it->first.IsScalar()) src_.fail(line_of(it->first), path_, "a key must be a string");
      const std::string key = it->first.Scalar();
      for (const auto& e : entries_)
        if (e.key == key)
          src_.fail(line_of(it->first), field(key),
                    "duplicate key (first on line " + std::to_string(e.line) + ")");
      entries_.push_back({key, line_of(it->first), it->second, false});
    }
  }

  // The value of `key`; nullptr when absent or null (Kubernetes treats a null field as unset).
  const YAML::Node* take(const std::string& key) {
    asked_.push_back(key);
    for (auto& e : entries_)
      if (e.key == key) {
        e.used = true;
        return e.value.IsNull() ? nullptr : &e.value;
      }
    return nullptr;
  }
  // Takes a key without using it: a field that means nothing to a simulated controller (a name, a reference).
  void skip(const std::string& key) { take(key); }
  // The line of `key`, or of this mapping when `key` is absent.
  int line(const std::string& key) const {
    for (const auto& e : entries_)
      if (e.key == key) return e.line;
    return line_;
  }
  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  [[noreturn]] void require(const std::string& key, const std::string& what) const {
    src_.fail(line_, field(key), "required: " + what);
  }

  void finish(const std::string& controller) {
    for (auto& e : entries_) {
      if (e.used) continue;
      e.used = true;
      std::string hint = closest_match(e.key, asked_);
      src_.warn(e.line, field(e.key),
                "not supported by kind \"" + controller + "\", left out" +
                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }

 private:
  struct Entry {
    std::string key;
    int line;
    YAML::Node value;
    bool used;
  };
  const Source& src_;
  std::string path_;
  int line_;
  std::vector<Entry> entries_;
  std::vector<std::string> asked_;
};

// --- typed values

std::optional<long> parse_integer(const std::string& s) {
  const char* b = s.data();
  const char* e = b + s.size();
  if (b != e && *b == '+') ++b;
  long v = 0;
  auto r = std::from_chars(b, e, v);
  if (b == e || r.ec != std::errc() || r.ptr != e) return std::nullopt;
  return v;
}

std::optional<double> parse_float(const std::string& s) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s[0]))) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || errno != 0 || !std::isfinite(v)) return std::nullopt;
  return v;
}

// A Go duration ("60s", "2m", "1m30s", "1.5h", "0"), in seconds.
std::optional<double> parse_go_duration(const std::string& s) {
  size_t i = 0;
  double sign = 1;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) sign = s[i++] == '-' ? -1 : 1;
  if (s.substr(i) == "0") return 0.0;
  if (i == s.size()) return std::nullopt;
  static const std::pair<const char*, double> units[] = {
      {"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
      {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600}};
  double total = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    auto v = parse_float(s.substr(start, i - start));
    if (!v || *v < 0) return std::nullopt;
    const std::pair<const char*, double>* unit = nullptr;
    for (const auto& u : units)
      if (s.compare(i, std::strlen(u.first), u.first) == 0) {
        unit = &u;
        break;
      }
    if (!unit) return std::nullopt;
    i += std::strlen(unit->first);
    total += *v * unit->second;
  }
  return sign * total;
}

// A Kubernetes quantity: "15", "500m", "1.5Gi", "2e3".
bool is_quantity(const std::string& s) {
  size_t i = 0, digits = 0, dots = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  for (; i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.'); ++i)
    (s[i] == '.' ? dots : digits)++;
  if (digits == 0 || dots > 1) return false;
  const std::string suffix = s.substr(i);
  for (const char* ok : {"", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"})
    if (suffix == ok) return true;
  if (suffix[0] != 'e' && suffix[0] != 'E') return false;
  size_t j = 1;
  if (j < suffix.size() && (suffix[j] == '+' || suffix[j] == '-')) ++j;
  return j < suffix.size() && suffix.find_first_not_of("0123456789", j) == std::string::npos;
}

long read_int(const Source& src, const YAML::Node& n, const std::string& field, long min,
              long max = kInt32Max) {
  // A quoted "20" is a string to Kubernetes, which rejects it where an integer belongs.
  std::optional<long> v;
  if (n.IsScalar() && n.Tag() != "!") v = parse_integer(n.Scalar());
  if (!v) src.fail(line_of(n), field, "expected an integer, got " + describe(n));
  if (*v < min || *v > max)
    src.fail(line_of(n), field,
             "expected an integer in [" + std::to_string(min) + ", " + std::to_string(max) + "], got " +
                 std::to_string(*v));
  return *v;
}

std::string read_string(const Source& src, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar()) src.fail(line_of(n), field, "expected a string, got " + describe(n));
  return n.Scalar();
}

std::string read_enum(const Source& src, const YAML::Node& n, const std::string& field,
                      const std::vector<std::string>& allowed) {
  std::string v = read_string(src, n, field);
  for (const auto& a : allowed)
    if (v == a) return v;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  std::string hint = closest_match(v, allowed);
  src.fail(line_of(n), field,
           "expected one of " + list + ", got '" + v + "'" +
               (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
}

std::string read_quantity(const Source& src, const YAML::Node& n, const std::string& field) {
  if (!n.IsScalar() || !is_quantity(n.Scalar()))
    src.fail(line_of(n), field,
             "expected a Kubernetes quantity (\"15\", \"500m\", \"2Gi\"), got " + describe(n));
  return n.Scalar();
}

// A map of strings (labels, KEDA trigger metadata), as Kubernetes' map[string]string.
Json read_string_map(const Source& src, const YAML::Node& n, const std::string& path, int line) {
  Mapping m(src, n, path, line);
  Json out = Json::object();
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    const YAML::Node* v = m.take(key);
    out[key] = v ? read_string(src, *v, m.field(key)) : "";
  }
  return out;
}

Json read_string_list(const Source& src, const YAML::Node& n, const std::string& field) {
  if (!n.IsSequence()) src.fail(line_of(n), field, "expected a list, got " + describe(n));
  Json out = Json::array();
  for (size_t i = 0; i < n.size(); ++i)
    out.push_back(read_string(src, n[i], field + "[" + std::to_string(i) + "]"));
  return out;
}

// --- HorizontalPodAutoscaler (autoscaling/v2, v2beta2, v1)

const char* const kHpa = "hpa";

Json label_selector(const Source& src, const YAML::Node& n, const std::string& path, int line) {
  Mapping m(src, n, path, line);
  Json out = Json::object();
  if (auto v = m.take("matchLabels"))
    out["matchLabels"] = read_string_map(src, *v, m.field("matchLabels"), m.line("matchLabels"));
  if (auto v = m.take("matchExpressions")) {
    const std::string f = m.field("matchExpressions");
    if (!v->IsSequence()) src.fail(line_of(*v), f, "expected a list, got " + describe(*v));
    out["matchExpressions"] = Json::array();
    for (size_t i = 0; i < v->size(); ++i) {
      Mapping e(src, (*v)[i], f + "[" + std::to_string(i) + "]", line_of((*v)[i]));
      Json expr = Json::object();
      auto key = e.take("key");
      if (!key) e.require("key", "the label key");
      expr["key"] = read_string(src, *key, e.field("key"));
      auto op = e.take("operator");
      if (!op) e.require("operator", "In, NotIn, Exists or DoesNotExist");
      expr["operator"] = read_enum(src, *op, e.field("operator"), {"In", "NotIn", "Exists", "DoesNotExist"});
      if (auto vals = e.take("values")) expr["values"] = read_string_list(src, *vals, e.field("values"));
      e.finish(kHpa);
      out["matchExpressions"].push_back(expr);
    }
  }
  m.finish(kHpa);
  return out;
}

Json metric_identifier(const Source& src, const YAML::Node& n, const std::string& path, int line) {
  Mapping m(src, n, path, line);
  Json out = Json::object();
  auto name = m.take("name");
  if (!name) m.require("name", "the metric's name");
  out["name"] = read_string(src, *name, m.field("name"));
  if (auto v = m.take("selector"))
    out["selector"] = label_selector(src, *v, m.field("selector"), m.line("selector"));
  m.finish(kHpa);
  return out;
}

Json metric_target(const Source& src, const YAML::Node& n, const std::string& path, int line) {
  Mapping m(src, n, path, line);
  auto type = m.take("type");
  if (!type) m.require("type", "Utilization, Value or AverageValue");
  const std::string t = read_enum(src, *type, m.field("type"), {"Utilization", "Value", "AverageValue"});
  Json out = {{"type", t}};
  if (auto v = m.take("averageUtilization"))
    out["averageUtilization"] = read_int(src, *v, m.field("averageUtilization"), 1);
  if (auto v = m.take("averageValue")) out["averageValue"] = read_quantity(src, *v, m.field("averageValue"));
  if (auto v = m.take("value")) out["value"] = read_quantity(src, *v, m.field("value"));
  const char* needed = t == "Utilization" ? "averageUtilization" : t == "Value" ? "value" : "averageValue";
  if (!out.contains(needed))
    src.fail(m.line("type"), m.field(needed), std::string("required when type is ") + t);
  m.finish(kHpa);
  return out;
}

// One entry of spec.metrics; nullopt for a metric type the hpa controller does not have (warned about).
std::optional<Json> hpa_metric(const Source& src, const YAML::Node& n, const std::string& path) {
  Mapping m(src, n, path, line_of(n));
  auto type = m.take("type");
  if (!type) m.require("type", "Resource, Pods, Object, External or ContainerResource");
  const std::string t =
      read_enum(src, *type, m.field("type"), {"Resource", "Pods", "Object", "External", "ContainerResource"});
  static const std::map<std::string, std::string> member = {{"Resource", "resource"},
                                                            {"Pods", "pods"},
                                                            {"Object", "object"},
                                                            {"External", "external"},
                                                            {"ContainerResource", "containerResource"}};
  for (const auto& [other_type, other] : member)
    if (other_type != t && m.take(other))
      src.fail(m.line(other), m.field(other), "set, but the metric's type is " + t);
  const std::string& key = member.at(t);
  auto body = m.take(key);
  if (!body) m.require(key, "the metric source of type " + t);
  Mapping b(src, *body, m.field(key), m.line(key));
  Json source = Json::object();
  if (t == "Resource" || t == "ContainerResource") {
    auto name = b.take("name");
    if (!name) b.require("name", "the resource's name (cpu, memory)");
    source["name"] = read_string(src, *name, b.field("name"));
    // The simulator measures CPU only: a memory (or other) resource metric has nothing to read.
    if (source["name"] != "cpu") {
      src.warn(b.line("name"), b.field("name"),
               "only cpu is simulated; a " + source["name"].get<std::string>() +
                   " resource metric is not supported by kind \"hpa\": this metric is left out");
      return std::nullopt;
    }
    if (t == "ContainerResource") {
      auto container = b.take("container");
      if (!container) b.require("container", "the container's name");
      source["container"] = read_string(src, *container, b.field("container"));
    }
  }
  if (t == "Object") {
    auto ref = b.take("describedObject");
    if (!ref) b.require("describedObject", "the object the metric describes");
    Mapping r(src, *ref, b.field("describedObject"), b.line("describedObject"));
    Json described = Json::object();
    if (auto v = r.take("apiVersion")) described["apiVersion"] = read_string(src, *v, r.field("apiVersion"));
    for (const char* k : {"kind", "name"}) {
      auto v = r.take(k);
      if (!v) r.require(k, "the described object's " + std::string(k));
      described[k] = read_string(src, *v, r.field(k));
    }
    r.finish(kHpa);
    source["describedObject"] = described;
  }
  if (t != "Resource" && t != "ContainerResource") {
    auto id = b.take("metric");
    if (!id) b.require("metric", "the metric's name (and selector)");
    source["metric"] = metric_identifier(src, *id, b.field("metric"), b.line("metric"));
  }
  auto target = b.take("target");
  if (!target) b.require("target", "the target value");
  source["target"] = metric_target(src, *target, b.field("target"), b.line("target"));
  b.finish(kHpa);
  m.finish(kHpa);
  return Json{{"type", t}, {key, source}};
}

// spec.behavior, also KEDA's advanced.horizontalPodAutoscalerConfig.behavior.
Json hpa_behavior(const Source& src, const YAML::Node& n, const std::string& path, int line,
                  const std::string& controller) {
  Mapping m(src, n, path, line);
  Json out = Json::object();
  for (const char* dir : {"scaleUp", "scaleDown"}) {
    auto rules_node = m.take(dir);
    if (!rules_node) continue;
    Mapping r(src, *rules_node, m.field(dir), m.line(dir));
    Json rules = Json::object();
    if (auto v = r.take("stabilizationWindowSeconds"))
      rules["stabilizationWindowSeconds"] = read_int(src, *v, r.field("stabilizationWindowSeconds"), 0, 3600);
    if (auto v = r.take("selectPolicy"))
      rules["selectPolicy"] = read_enum(src, *v, r.field("selectPolicy"), {"Max", "Min", "Disabled"});
    if (auto v = r.take("tolerance")) rules["tolerance"] = read_quantity(src, *v, r.field("tolerance"));
    if (auto v = r.take("policies")) {
      const std::string f = r.field("policies");
      if (!v->IsSequence()) src.fail(line_of(*v), f, "expected a list, got " + describe(*v));
      rules["policies"] = Json::array();
      for (size_t i = 0; i < v->size(); ++i) {
        Mapping p(src, (*v)[i], f + "[" + std::to_string(i) + "]", line_of((*v)[i]));
        Json policy = Json::object();
        auto type = p.take("type");
        if (!type) p.require("type", "Pods or Percent");
        policy["type"] = read_enum(src, *type, p.field("type"), {"Pods", "Percent"});
        auto value = p.take("value");
        if (!value) p.require("value", "the number of pods or the percentage");
        policy["value"] = read_int(src, *value, p.field("value"), 1);
        auto period = p.take("periodSeconds");
        if (!period) p.require("periodSeconds", "the policy's period, in (0, 1800]");
        policy["periodSeconds"] = read_int(src, *period, p.field("periodSeconds"), 1, 1800);
        p.finish(controller);
        rules["policies"].push_back(policy);
      }
    }
    r.finish(controller);
    out[dir] = rules;
  }
  m.finish(controller);
  return out;
}

// The CPU utilization metric upstream defaults to (v1's targetCPUUtilizationPercentage, and v2 without
// metrics).
Json cpu_utilization(long percent) {
  return Json{{"type", "Resource"},
              {"resource",
               {{"name", "cpu"}, {"target", {{"type", "Utilization"}, {"averageUtilization", percent}}}}}};
}

Json convert_hpa(const Source& src, Mapping& spec, const std::string& api_version) {
  Json out = {{"kind", kHpa}};
  long min_replicas = 1;
  if (auto v = spec.take("minReplicas"))
    out["minReplicas"] = min_replicas = read_int(src, *v, spec.field("minReplicas"), 0);
  auto max = spec.take("maxReplicas");
  if (!max) spec.require("maxReplicas", "the upper limit of the replica count");
  const long max_replicas = read_int(src, *max, spec.field("maxReplicas"), 1);
  if (max_replicas < min_replicas)
    src.fail(spec.line("maxReplicas"), spec.field("maxReplicas"),
             "must be at least minReplicas (" + std::to_string(min_replicas) + "), got " +
                 std::to_string(max_replicas));
  out["maxReplicas"] = max_replicas;
  if (api_version == "autoscaling/v1") {
    long percent = 80;  // upstream's default
    if (auto v = spec.take("targetCPUUtilizationPercentage"))
      percent = read_int(src, *v, spec.field("targetCPUUtilizationPercentage"), 1);
    out["metrics"] = Json::array({cpu_utilization(percent)});
    return out;
  }
  auto metrics = spec.take("metrics");
  if (metrics && !metrics->IsSequence())
    src.fail(line_of(*metrics), spec.field("metrics"), "expected a list, got " + describe(*metrics));
  if (!metrics || metrics->size() == 0) {
    src.note(spec.line("metrics"), "no metrics: upstream's default, CPU at 80 % utilization");
    out["metrics"] = Json::array({cpu_utilization(80)});
  } else {
    Json list = Json::array();
    for (size_t i = 0; i < metrics->size(); ++i)
      if (auto m = hpa_metric(src, (*metrics)[i], spec.field("metrics") + "[" + std::to_string(i) + "]"))
        list.push_back(*m);
    if (list.empty())
      src.warn(spec.line("metrics"), spec.field("metrics"), "no supported metric left: metrics left out");
    else
      out["metrics"] = list;
  }
  if (auto v = spec.take("behavior"))
    out["behavior"] = hpa_behavior(src, *v, spec.field("behavior"), spec.line("behavior"), kHpa);
  return out;
}

// --- KEDA ScaledObject (keda.sh/v1alpha1)

const char* const kKeda = "keda";

Json convert_keda(const Source& src, Mapping& spec) {
  Json out = {{"kind", kKeda}};
  for (const char* k :
       {"pollingInterval", "cooldownPeriod", "idleReplicaCount", "minReplicaCount", "maxReplicaCount"})
    if (auto v = spec.take(k)) out[k] = read_int(src, *v, spec.field(k), 0);
  if (out.contains("minReplicaCount") && out.contains("maxReplicaCount") &&
      out["maxReplicaCount"].get<long>() < out["minReplicaCount"].get<long>())
    src.fail(spec.line("maxReplicaCount"), spec.field("maxReplicaCount"), "must be at least minReplicaCount");
  if (auto v = spec.take("fallback")) {
    Mapping f(src, *v, spec.field("fallback"), spec.line("fallback"));
    Json fallback = Json::object();
    for (const char* k : {"failureThreshold", "replicas"}) {
      auto x = f.take(k);
      if (!x) f.require(k, "an integer");
      fallback[k] = read_int(src, *x, f.field(k), 0);
    }
    f.finish(kKeda);
    out["fallback"] = fallback;
  }
  if (auto v = spec.take("advanced")) {
    Mapping a(src, *v, spec.field("advanced"), spec.line("advanced"));
    if (auto h = a.take("horizontalPodAutoscalerConfig")) {
      Mapping c(src, *h, a.field("horizontalPodAutoscalerConfig"), a.line("horizontalPodAutoscalerConfig"));
      c.skip("name");  // the name of the HPA KEDA creates
      if (auto b = c.take("behavior"))
        out["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] =
            hpa_behavior(src, *b, c.field("behavior"), c.line("behavior"), kKeda);
      c.finish(kKeda);
    }
    a.finish(kKeda);
  }
  auto triggers = spec.take("triggers");
  if (!triggers) spec.require("triggers", "a list of at least one trigger");
  if (!triggers->IsSequence() || triggers->size() == 0)
    src.fail(line_of(*triggers), spec.field("triggers"),
             "expected a list of at least one trigger, got " + describe(*triggers));
  out["triggers"] = Json::array();
  for (size_t i = 0; i < triggers->size(); ++i) {
    const YAML::Node& node = (*triggers)[i];
    Mapping t(src, node, spec.field("triggers") + "[" + std::to_string(i) + "]", line_of(node));
    Json trigger = Json::object();
    auto type = t.take("type");
    if (!type) t.require("type", "the scaler (cpu, cron, prometheus, ...)");
    trigger["type"] = read_string(src, *type, t.field("type"));
    if (auto v = t.take("name")) trigger["name"] = read_string(src, *v, t.field("name"));
    if (auto v = t.take("metricType"))
      trigger["metricType"] =
          read_enum(src, *v, t.field("metricType"), {"AverageValue", "Value", "Utilization"});
    if (auto v = t.take("metadata"))
      trigger["metadata"] = read_string_map(src, *v, t.field("metadata"), t.line("metadata"));
    t.finish(kKeda);
    out["triggers"].push_back(trigger);
  }
  return out;
}

// --- Knative Service, Configuration, Revision (serving.knative.dev)

const char* const kKpa = "kpa";
const std::string kAnnotationPrefix = "autoscaling.knative.dev/";

enum class Value { Int, Float, Percent, Duration, Metric, Class };

struct Annotation {
  const char* name;   // after the prefix
  const char* alias;  // the older camelCase name, or ""
  const char* key;    // in the kpa section ("" for class, which selects the controller)
  Value value;
};

// In the order the section lists them.
const Annotation kAnnotations[] = {
    {"class", "", "", Value::Class},
    {"metric", "", "scalingMetric", Value::Metric},
    // The annotation's target is per-pod capacity: the decider's target is it times the utilization.
    {"target", "", "totalValue", Value::Float},
    {"target-utilization-percentage", "targetUtilizationPercentage", "targetUtilization", Value::Percent},
    {"min-scale", "minScale", "minScale", Value::Int},
    {"max-scale", "maxScale", "maxScale", Value::Int},
    {"initial-scale", "initialScale", "initialScale", Value::Int},
    {"activation-scale", "activationScale", "activationScale", Value::Int},
    {"target-burst-capacity", "targetBurstCapacity", "targetBurstCapacity", Value::Float},
    {"window", "", "stableWindow", Value::Duration},
    {"panic-window-percentage", "panicWindowPercentage", "panicWindowPercentage", Value::Float},
    {"panic-threshold-percentage", "panicThresholdPercentage", "panicThresholdPercentage", Value::Float},
    {"scale-down-delay", "scaleDownDelay", "scaleDownDelay", Value::Duration},
};

Json annotation_value(const Source& src, const Annotation& a, const YAML::Node& n, const std::string& field) {
  const std::string text = read_string(src, n, field);
  const int line = line_of(n);
  switch (a.value) {
    case Value::Int: {
      auto v = parse_integer(text);
      if (!v || *v < 0 || *v > kInt32Max)
        src.fail(line, field, "expected a whole number >= 0, got '" + text + "'");
      return *v;
    }
    case Value::Float: {
      auto v = parse_float(text);
      if (!v) src.fail(line, field, "expected a number, got '" + text + "'");
      return *v;
    }
    case Value::Percent: {
      auto v = parse_float(text);
      if (!v || *v <= 0 || *v > 100)
        src.fail(line, field, "expected a percentage in (0, 100], got '" + text + "'");
      return *v / 100;
    }
    case Value::Duration: {
      auto v = parse_go_duration(text);
      if (!v || *v < 0)
        src.fail(line, field, "expected a duration such as \"60s\" or \"2m\", got '" + text + "'");
      return *v;
    }
    case Value::Metric:
      if (text != "concurrency" && text != "rps")
        src.fail(line, field,
                 "the KPA scales on concurrency or rps, got '" + text +
                     "' (other metrics need the HPA class, which import does not convert)");
      return text;
    case Value::Class:
      if (text != "kpa.autoscaling.knative.dev")
        src.fail(line, field, "only the KPA (kpa.autoscaling.knative.dev) is converted, got '" + text + "'");
      return text;
  }
  return nullptr;
}

// The autoscaling annotations of a revision (template) into `out`; others are not the autoscaler's.
void kpa_annotations(const Source& src, const YAML::Node& n, const std::string& path, int line, Json& out) {
  Mapping m(src, n, path, line);
  std::vector<std::string> names;
  for (const auto& a : kAnnotations) names.push_back(kAnnotationPrefix + a.name);
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (key.rfind(kAnnotationPrefix, 0) != 0) continue;
    bool known = false;
    for (const auto& a : kAnnotations)
      known = known || key == kAnnotationPrefix + a.name || (*a.alias && key == kAnnotationPrefix + a.alias);
    if (!known) {
      std::string hint = closest_match(key, names);
      src.warn(line_of(it->first), m.field(key),
               "not supported by kind \"" + std::string(kKpa) + "\", left out" +
                   (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
    }
  }
  for (const auto& a : kAnnotations) {
    const std::string name = kAnnotationPrefix + a.name;
    const YAML::Node* v = m.take(name);
    std::string used = name;
    if (*a.alias) {
      const std::string alias = kAnnotationPrefix + a.alias;
      if (const YAML::Node* w = m.take(alias)) {
        if (v)
          src.fail(m.line(alias), m.field(alias),
                   "set twice, also as '" + name + "' (line " + std::to_string(m.line(name)) + ")");
        v = w;
        used = alias;
      }
    }
    if (!v) continue;
    Json value = annotation_value(src, a, *v, m.field(used));
    if (*a.key) out[a.key] = value;
  }
}

Json convert_knative(const Source& src, Mapping& object, const std::string& kind) {
  Json settings = Json::object();
  std::optional<long> container_concurrency;
  auto read_cc = [&](Mapping& spec) {
    if (auto v = spec.take("containerConcurrency"))
      container_concurrency = read_int(src, *v, spec.field("containerConcurrency"), 0);
  };
  auto metadata = object.take("metadata");
  if (kind == "Revision") {
    if (metadata) {
      Mapping meta(src, *metadata, "metadata", object.line("metadata"));
      if (auto a = meta.take("annotations"))
        kpa_annotations(src, *a, "metadata.annotations", meta.line("annotations"), settings);
    }
    if (auto s = object.take("spec")) {
      Mapping spec(src, *s, "spec", object.line("spec"));
      read_cc(spec);
    }
  } else {
    if (metadata) {  // the Service's own annotations do not reach its revisions
      Mapping meta(src, *metadata, "metadata", object.line("metadata"));
      if (auto a = meta.take("annotations")) {
        Mapping ann(src, *a, "metadata.annotations", meta.line("annotations"));
        for (auto it = a->begin(); it != a->end(); ++it)
          if (it->first.Scalar().rfind(kAnnotationPrefix, 0) == 0)
            src.warn(line_of(it->first), ann.field(it->first.Scalar()),
                     "ignored, as Knative ignores it here: autoscaling annotations belong in "
                     "spec.template.metadata.annotations");
      }
    }
    auto s = object.take("spec");
    if (!s) object.require("spec", "the " + kind + "'s spec");
    Mapping spec(src, *s, "spec", object.line("spec"));
    if (auto t = spec.take("template")) {
      Mapping tmpl(src, *t, "spec.template", spec.line("template"));
      if (auto tm = tmpl.take("metadata")) {
        Mapping meta(src, *tm, "spec.template.metadata", tmpl.line("metadata"));
        if (auto a = meta.take("annotations"))
          kpa_annotations(src, *a, "spec.template.metadata.annotations", meta.line("annotations"), settings);
      }
      if (auto ts = tmpl.take("spec")) {
        Mapping tspec(src, *ts, "spec.template.spec", tmpl.line("spec"));
        read_cc(tspec);
      }
    }
  }
  // As upstream's ResolveMetricTarget: a concurrency target above containerConcurrency is capped by it.
  if (settings.contains("totalValue") && container_concurrency && *container_concurrency > 0 &&
      settings.value("scalingMetric", "concurrency") == "concurrency")
    settings["totalValue"] = std::min(settings["totalValue"].get<double>(), double(*container_concurrency));
  Json out = {{"kind", kKpa}};
  for (const auto& a : kAnnotations) {
    if (*a.key && settings.contains(a.key)) out[a.key] = settings[a.key];
    if (std::string(a.name) == "target-utilization-percentage" && container_concurrency)
      out["containerConcurrency"] = *container_concurrency;
  }
  return out;
}

// --- TOML output

std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string toml_key(const std::string& k) {
  bool bare = !k.empty();
  for (char c : k) bare = bare && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
  return bare ? k : toml_string(k);
}

// Whole numbers as integers (a controller reading a number accepts one); others in the shortest exact form.
std::string toml_number(double v) {
  if (std::floor(v) == v && std::fabs(v) < 1e15) return std::to_string(static_cast<long long>(v));
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

bool is_table(const Json& v) {
  return v.is_object();
}
bool is_table_array(const Json& v) {
  if (!v.is_array() || v.empty()) return false;
  for (const auto& e : v)
    if (!e.is_object()) return false;
  return true;
}

std::string toml_value(const Json& v) {
  if (v.is_string()) return toml_string(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return toml_number(v.get<double>());
  std::string out;
  if (v.is_array()) {
    for (const auto& e : v) out += (out.empty() ? "" : ", ") + toml_value(e);
    return "[" + out + "]";
  }
  for (const auto& [k, e] : v.items()) out += (out.empty() ? "" : ", ") + toml_key(k) + " = " + toml_value(e);
  return out.empty() ? "{}" : "{ " + out + " }";
}

// A table's own keys under its header, then its sub-tables and arrays of tables, as a scenario is written. A
// table with nothing of its own gets no header (its sub-tables define it). Headers after the first follow a
// blank line.
void emit_table(std::string& out, const std::string& path, const Json& table, bool element, bool& first) {
  bool own = table.empty();
  for (const auto& [k, v] : table.items()) own = own || (!is_table(v) && !is_table_array(v));
  if (element || own) {
    if (!first) out += "\n";
    first = false;
    out += (element ? "[[" + path + "]]" : "[" + path + "]") + "\n";
  }
  for (const auto& [k, v] : table.items())
    if (!is_table(v) && !is_table_array(v)) out += toml_key(k) + " = " + toml_value(v) + "\n";
  for (const auto& [k, v] : table.items()) {
    if (is_table(v)) emit_table(out, path + "." + toml_key(k), v, false, first);
    if (is_table_array(v))
      for (const auto& e : v) emit_table(out, path + "." + toml_key(k), e, true, first);
  }
}

// --- documents

// A scalar member of a mapping, or "" (a const yaml-cpp lookup of an absent key would throw).
std::string scalar_of(const YAML::Node& map, const std::string& key) {
  if (!map.IsMap()) return "";
  for (auto it = map.begin(); it != map.end(); ++it)
    if (it->first.IsScalar() && it->first.Scalar() == key)
      return it->second.IsScalar() ? it->second.Scalar() : "";
  return "";
}

struct Object {
  YAML::Node node;
  std::string api_version, kind, name;
  int line;
};

void collect(const Source& src, const YAML::Node& doc, std::vector<Object>& objects) {
  if (doc.IsNull()) return;  // an empty document (a trailing ---)
  Mapping m(src, doc, "", line_of(doc));
  auto api = m.take("apiVersion");
  auto kind = m.take("kind");
  if (!api || !kind)
    src.fail(line_of(doc), api ? "kind" : "apiVersion", "a Kubernetes object needs apiVersion and kind");
  Object o{doc, read_string(src, *api, "apiVersion"), read_string(src, *kind, "kind"), "", line_of(doc)};
  if (o.kind.size() >= 4 && o.kind.compare(o.kind.size() - 4, 4, "List") == 0) {  // List, ...List
    if (auto items = m.take("items")) {
      if (!items->IsSequence())
        src.fail(line_of(*items), "items", "expected a list, got " + describe(*items));
      for (const auto& item : *items) collect(src, item, objects);
    }
    return;
  }
  if (auto meta = m.take("metadata")) o.name = scalar_of(*meta, "name");
  objects.push_back(o);
}

std::string group_of(const std::string& api_version) {
  return api_version.substr(0, api_version.find('/'));
}

bool is_autoscaler(const Object& o) {
  const std::string g = group_of(o.api_version);
  return (g == "autoscaling" && o.kind == "HorizontalPodAutoscaler") ||
         (g == "keda.sh" && o.kind == "ScaledObject") ||
         (g == "serving.knative.dev" &&
          (o.kind == "Service" || o.kind == "Configuration" || o.kind == "Revision"));
}

std::string label(const Object& o) {
  return o.kind + (o.name.empty() ? "" : " " + o.name);
}

// The workload the object scales ("Deployment web"), and its name, for the comment that suggests `services`.
struct Target {
  std::string label, name;
};

Json convert(const Source& src, const Object& o, Target& target) {
  Mapping object(src, o.node, "", o.line);
  const std::string g = group_of(o.api_version);
  if (g == "serving.knative.dev") {
    target = {"Knative " + label(o), o.name};
    return convert_knative(src, object, o.kind);
  }
  if (g == "autoscaling" && o.api_version != "autoscaling/v2" && o.api_version != "autoscaling/v2beta2" &&
      o.api_version != "autoscaling/v1")
    src.fail(object.line("apiVersion"), "apiVersion",
             "'" + o.api_version +
                 "' is not supported (autoscaling/v2, autoscaling/v2beta2 and autoscaling/v1 are)");
  auto s = object.take("spec");
  if (!s) object.require("spec", "the " + o.kind + "'s spec");
  Mapping spec(src, *s, "spec", object.line("spec"));
  if (auto ref = spec.take("scaleTargetRef")) {
    target.name = scalar_of(*ref, "name");
    const std::string kind = scalar_of(*ref, "kind");
    target.label = (kind.empty() ? "Deployment" : kind) + " " + target.name;  // KEDA's default kind
  }
  Json out = g == "keda.sh" ? convert_keda(src, spec) : convert_hpa(src, spec, o.api_version);
  spec.finish(out["kind"].get<std::string>());
  return out;
}

}  // namespace

ImportedController import_manifest(const std::string& path, bool verbose) {
  ImportedController result;
  Source src{path, {}, verbose};
  std::ifstream in(path);
  if (!in) src.fail(0, "", std::string("cannot read the manifest: ") + std::strerror(errno));
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(in);
  } catch (const YAML::ParserException& e) {
    src.fail(e.mark.line + 1, "",
             "YAML syntax error at column " + std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
  std::vector<Object> objects;
  for (const auto& d : docs) collect(src, d, objects);
  const Object* chosen = nullptr;
  for (const auto& o : objects) {
    if (!is_autoscaler(o)) {
      if (group_of(o.api_version) == "keda.sh" && o.kind == "ScaledJob")
        src.warn(o.line, "",
                 "ScaledJob " + o.name + " ignored: import converts ScaledObjects (scaled workloads)");
      else
        src.note(o.line, "ignored " + label(o) + " (" + o.api_version + "): not an autoscaler");
    } else if (!chosen) {
      chosen = &o;
    } else {
      src.warn(o.line, "",
               label(o) + " ignored: a scenario has one controller, imported from the first autoscaler, " +
                   label(*chosen));
    }
  }
  if (!chosen)
    src.fail(0, "",
             "no autoscaler found: expected a HorizontalPodAutoscaler (autoscaling/v2, v2beta2, v1), a KEDA "
             "ScaledObject (keda.sh) or a Knative Service, Configuration or Revision (serving.knative.dev)");
  Target target;
  Json section = convert(src, *chosen, target);
  result.toml = "# imported from " + path + ": " + label(*chosen) + "\n";
  if (!target.name.empty())
    result.toml += "# it scales " + target.label + ": services = [" + toml_string(target.name) +
                   "] limits it to the scenario's service of that name\n";
  std::stable_sort(src.messages.begin(), src.messages.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& m : src.messages) result.messages.push_back(std::move(m.second));
  bool first = true;
  emit_table(result.toml, "controller", section, false, first);
  return result;
}

int cmd_import(const std::string& path, const std::string& out, bool verbose) {
  ImportedController r = import_manifest(path, verbose);
  for (const auto& m : r.messages) std::fprintf(stderr, "%s\n", m.c_str());
  if (out.empty()) {
    std::fputs(r.toml.c_str(), stdout);
    return 0;
  }
  const std::string tmp = out + ".tmp" + std::to_string(getpid());
  {
    std::ofstream f(tmp);
    f << r.toml;
    f.close();
    if (!f) {
      std::remove(tmp.c_str());
      throw InputError(out, 0, "--out", std::string("cannot write: ") + std::strerror(errno));
    }
  }
  if (std::rename(tmp.c_str(), out.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    throw InputError(out, 0, "--out", "cannot write: " + why);
  }
  return 0;
}

}  // namespace autoscale
