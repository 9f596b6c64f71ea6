#include "sim/decide/decide.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "controllers/base/error.hpp"
#include "controllers/registry.hpp"
#include "sim/decide/json_params.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

namespace {

const char* kTarget = "target";  // the one scaled target's service name
constexpr double kMilli = 1e-3;  // the format's milli-units (millicores, milli-values) to base units

// Reads fields of one JSON object of one line; errors name the file, the line and the field's path.
class LineReader {
 public:
  LineReader(const nlohmann::json& j, std::string file, int line, std::string path)
      : j_(j), file_(std::move(file)), line_(line), path_(std::move(path)) {
    if (!j_.is_object()) fail("", "expected a JSON object");
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(file_, line_, key.empty() ? path_ : sub(key), msg);
  }
  bool has(const std::string& key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  bool present(const std::string& key) const { return j_.contains(key); }
  double number(const std::string& key, std::optional<double> fallback = std::nullopt) const {
    if (!has(key)) {
      if (!fallback) fail(key, "expected a number (this field is required)");
      return *fallback;
    }
    const auto& v = j_.at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "expected a finite number");
    return v.get<double>();
  }
  // A time: seconds, or null for Go's zero time (an instant far in the past).
  double time(const std::string& key, double fallback) const {
    if (!present(key)) return fallback;
    if (j_.at(key).is_null()) return -std::numeric_limits<double>::infinity();
    return number(key);
  }
  int count(const std::string& key, std::optional<int> fallback = std::nullopt) const {
    if (!has(key)) {
      if (!fallback) fail(key, "expected a non-negative integer (this field is required)");
      return *fallback;
    }
    const auto& v = j_.at(key);
    if (!(v.is_number_integer() || v.is_number_unsigned()) || v.get<double>() < 0 ||
        v.get<double>() > INT_MAX)
      fail(key, "expected a non-negative integer");
    return v.get<int>();
  }
  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_boolean()) fail(key, "expected true or false");
    return j_.at(key).get<bool>();
  }
  std::string string(const std::string& key, std::string fallback) const {
    if (!has(key)) return fallback;
    if (!j_.at(key).is_string()) fail(key, "expected a string");
    return j_.at(key).get<std::string>();
  }
  LineReader object(const std::string& key) const { return LineReader(j_.at(key), file_, line_, sub(key)); }
  // The elements of an array of objects (empty when absent).
  std::vector<LineReader> elements(const std::string& key) const {
    std::vector<LineReader> out;
    if (!has(key)) return out;
    if (!j_.at(key).is_array()) fail(key, "expected an array");
    for (size_t i = 0; i < j_.at(key).size(); ++i)
      out.emplace_back(j_.at(key)[i], file_, line_, sub(key) + "[" + std::to_string(i) + "]");
    return out;
  }
  // A map of name -> number (milli-units), each value a number.
  std::map<std::string, double> numbers(const std::string& key) const {
    std::map<std::string, double> out;
    if (!has(key)) return out;
    LineReader m = object(key);
    for (auto it = m.j_.begin(); it != m.j_.end(); ++it) out[it.key()] = m.number(it.key());
    return out;
  }
  const nlohmann::json& raw() const { return j_; }
  std::string sub(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const nlohmann::json& j_;
  std::string file_;
  int line_;
  std::string path_;
};

ControllerHistory read_history(const LineReader& h) {
  ControllerHistory out;
  if (h.present("recommendations") && !h.raw().at("recommendations").is_null()) {
    out.recommendations.emplace();
    for (const LineReader& r : h.elements("recommendations"))
      out.recommendations->push_back({r.time("time_s", 0), r.count("replicas")});
  }
  for (const LineReader& e : h.elements("scale_events"))
    out.scale_events.push_back({e.time("time_s", 0), e.count("replicas_before"), e.count("replicas_after")});
  if (h.present("created_at_s")) out.created_at_s = h.time("created_at_s", 0);
  out.ready_pods_at_creation = h.count("ready_pods_at_creation", 0);
  if (h.present("panic_time_s")) out.panic_time_s = h.time("panic_time_s", 0);
  out.max_panic_pods = h.count("max_panic_pods", 0);
  return out;
}

void read_hpa_line(const LineReader& r, ServiceObservation& s, double now) {
  s.desired = r.count("current_replicas");
  s.status_replicas = r.count("status_replicas", s.desired);
  const double ts = r.number("metrics_timestamp_s", now);
  const double window = r.number("metrics_window_s", 60);
  for (const LineReader& p : r.elements("pods")) {
    InstanceObservation io;
    io.id = static_cast<int>(s.instances.size());
    io.name = p.string("name", "pod-" + std::to_string(io.id));
    io.ready = p.boolean("ready", true);
    io.phase = p.string("phase", "Running");
    if (io.phase != "Running" && io.phase != "Pending" && io.phase != "Failed" && io.phase != "Succeeded" &&
        io.phase != "Unknown")
      p.fail("phase", "expected Running, Pending, Failed, Succeeded or Unknown");
    io.deleting = p.boolean("deleting", false);
    io.state = io.deleting ? "draining" : io.ready ? "in_service" : "probing";
    io.start_time_s = p.time("start_time_s", -std::numeric_limits<double>::infinity());
    io.ready_time_s = p.time("ready_time_s", -std::numeric_limits<double>::infinity());
    io.metrics_timestamp_s = p.number("metrics_timestamp_s", ts);
    io.metrics_window_s = p.number("metrics_window_s", window);
    for (const auto& [name, v] : p.numbers("metrics")) {
      if (name == "cpu") {
        io.has_metrics = true;
        io.cpu_usage_cores = v * kMilli;
      } else {
        io.pod_metrics[name] = v * kMilli;
      }
    }
    auto requests = p.numbers("requests");
    if (requests.count("cpu")) io.cpu_request_cores = requests["cpu"] * kMilli;
    if (io.ready) ++s.in_service;
    s.instances.push_back(std::move(io));
  }
  if (r.has("metrics")) {
    LineReader m = r.object("metrics");
    for (auto it = m.raw().begin(); it != m.raw().end(); ++it) {
      const nlohmann::json& v = it.value();
      if (v.is_number()) {
        s.named_metrics[it.key()] = m.number(it.key()) * kMilli;
      } else if (v.is_array()) {  // an External metric's series, summed
        double sum = 0;
        for (const auto& e : v) {
          if (!e.is_number()) m.fail(it.key(), "expected a number or a list of numbers");
          sum += e.get<double>();
        }
        s.named_metrics[it.key()] = sum * kMilli;
      } else {
        m.fail(it.key(), "expected a number or a list of numbers");
      }
    }
  }
}

void read_kpa_line(const LineReader& r, ServiceObservation& s) {
  s.in_service = r.count("ready_pods");
  s.desired = s.in_service;
  s.stable_value = r.number("observed_stable_value", std::numeric_limits<double>::quiet_NaN());
  s.panic_value = r.number("observed_panic_value", std::numeric_limits<double>::quiet_NaN());
  s.metrics_error = r.boolean("metrics_error", false);
  s.ready_pods_error = r.boolean("ready_pods_error", false);
}

const char* const kHpaFields[] = {"time_s",  "current_replicas",    "status_replicas",  "pods",
                                  "metrics", "metrics_timestamp_s", "metrics_window_s", "history"};
const char* const kKpaFields[] = {
    "time_s",        "ready_pods",       "observed_stable_value", "observed_panic_value",
    "metrics_error", "ready_pods_error", "spec_update",           "history"};

}  // namespace

LineFormat line_format_for(const std::string& kind) {
  return kind == "kpa" ? LineFormat::kpa : LineFormat::hpa;
}

Observation parse_observation(const nlohmann::json& j, LineFormat format, const std::string& file, int line) {
  LineReader r(j, file, line, "");
  std::vector<std::string> known;
  if (format == LineFormat::hpa)
    known.assign(std::begin(kHpaFields), std::end(kHpaFields));
  else
    known.assign(std::begin(kKpaFields), std::end(kKpaFields));
  for (auto it = j.begin(); it != j.end(); ++it)
    if (std::find(known.begin(), known.end(), it.key()) == known.end()) {
      std::string hint = closest_match(it.key(), known);
      r.fail(it.key(), "unknown field" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
    }
  Observation obs;
  obs.time_s = r.number("time_s");
  ServiceObservation s;
  s.name = kTarget;
  s.min_instances = 0;
  s.max_instances = INT_MAX;
  s.metrics_valid = true;
  if (format == LineFormat::hpa)
    read_hpa_line(r, s, obs.time_s);
  else
    read_kpa_line(r, s);
  if (r.has("history")) s.history = read_history(r.object("history"));
  obs.services.push_back(std::move(s));
  return obs;
}

void run_decide(const std::string& controller_file, const std::string& observations_file, std::ostream& out) {
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  std::shared_ptr<Params> params;
  if (ends_with(controller_file, ".json"))
    params = JsonParams::load(controller_file);
  else if (ends_with(controller_file, ".toml"))
    params = load_controller_toml(controller_file);
  else
    throw InputError(controller_file, 0, "--controller", "expected a .toml or .json controller file");
  const std::string kind = params->string("kind", std::nullopt);
  ControllerContext ctx;
  ctx.services = {kTarget};
  ctx.base_dir = std::filesystem::path(controller_file).parent_path().string();
  std::unique_ptr<Controller> controller = make_controller(kind, *params, ctx);
  params->finish();
  const LineFormat format = line_format_for(kind);

  std::ifstream in(observations_file, std::ios::binary);
  if (!in)
    throw InputError(observations_file, 0, "--observations", "cannot open (expected a JSON Lines file)");
  std::ostringstream buffer;  // written only once every line was good
  std::string text;
  int line = 0;
  auto doc = std::make_shared<nlohmann::json>();
  while (std::getline(in, text)) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw InputError(observations_file, line, "", std::string("JSON syntax error: ") + e.what());
    }
    Observation obs = parse_observation(j, format, observations_file, line);
    if (format == LineFormat::kpa && j.contains("spec_update") && !j.at("spec_update").is_null()) {
      if (!j.at("spec_update").is_object())
        throw InputError(observations_file, line, "spec_update", "expected an object of controller fields");
      *doc = j.at("spec_update");
      JsonParams changes(doc, *doc, observations_file + ":" + std::to_string(line), "spec_update",
                         "controller");
      controller->update(changes);
      changes.finish();
    }
    Decision d = controller->decide(obs);
    const ServiceObservation& s = obs.services.front();
    nlohmann::json o;
    o["time_s"] = obs.time_s;
    o["desired_replicas"] = s.desired;
    for (const ServiceDecision& sd : d.services) {
      if (sd.service != kTarget) continue;
      o["desired_replicas"] = sd.desired;
      if (!sd.rule.empty()) o["rule"] = sd.rule;
      if (!sd.metric.empty()) o["metric"] = sd.metric;
      for (const auto& [k, v] : sd.diagnostics) o[k] = v;
      for (const auto& [k, v] : sd.diagnostic_flags) o[k] = v;
      for (const auto& [k, v] : sd.diagnostic_strings) o[k] = v;
    }
    buffer << o.dump() << "\n";
  }
  out << buffer.str();
}

}  // namespace autoscale
