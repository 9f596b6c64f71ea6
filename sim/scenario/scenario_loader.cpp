#include "sim/scenario/scenario_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "controllers/registry.hpp"
#include "controllers/base/error.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/traffic.hpp"

namespace autoscale {

namespace {

const char* kOverrideFile = "--set";

// A strict reader over one TOML table: remembers which keys were read, so that finish() can report the first
// key nobody asked for.
class Reader : public Params {
 public:
  Reader(const toml::table& t, std::string file, std::string path)
      : t_(t), file_(std::move(file)), path_(std::move(path)) {}

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  int line_of(const std::string& key) const {
    const toml::node* n = t_.get(key);
    if (n && n->source().begin.line) return static_cast<int>(n->source().begin.line);
    return line();
  }
  int line() const { return static_cast<int>(t_.source().begin.line); }
  const std::string& file_for(int line) const {
    static const std::string override_file = kOverrideFile;
    return line > 0 ? file_ : override_file;
  }
  void raise(const std::string& key, const std::string& expected) const override {
    int l = line_of(key);
    throw InputError(file_for(l), l, field(key), expected);
  }
  bool has(const std::string& key) const override { return t_.contains(key); }
  const toml::node* get(const std::string& key) {
    used_.insert(key);
    return t_.get(key);
  }

  double number(const std::string& key, std::optional<double> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "a number");
    if (auto v = n->value_exact<double>()) return *v;
    if (auto v = n->value_exact<int64_t>()) return static_cast<double>(*v);
    fail(key, "expected a number, got " + type_name(*n));
  }
  double nonneg(const std::string& key, std::optional<double> fallback, const char* what = "a duration") {
    double v = number(key, fallback);
    if (!(v >= 0) || !std::isfinite(v))
      fail(key, "negative or invalid value " + fmt(v) + "; expected " + what + " >= 0");
    return v;
  }
  double positive(const std::string& key, std::optional<double> fallback, const char* what = "a duration") {
    double v = number(key, fallback);
    if (!(v > 0) || !std::isfinite(v))
      fail(key, "value " + fmt(v) + " is not allowed; expected " + what + " > 0");
    return v;
  }
  long integer(const std::string& key, std::optional<long> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "an integer");
    if (auto v = n->value_exact<int64_t>()) return static_cast<long>(*v);
    fail(key, "expected an integer, got " + type_name(*n));
  }
  int count(const std::string& key, std::optional<long> fallback, long min = 0) {
    long v = integer(key, fallback);
    if (v < min)
      fail(key,
           "value " + std::to_string(v) + " is too small; expected an integer >= " + std::to_string(min));
    return static_cast<int>(v);
  }
  bool boolean(const std::string& key, std::optional<bool> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "true or false");
    if (auto v = n->value_exact<bool>()) return *v;
    fail(key, "expected true or false, got " + type_name(*n));
  }
  std::string string(const std::string& key, std::optional<std::string> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "a string");
    if (auto v = n->value_exact<std::string>()) return *v;
    fail(key, "expected a string, got " + type_name(*n));
  }
  std::string choice(const std::string& key, std::optional<std::string> fallback,
                     const std::vector<std::string>& allowed) {
    std::string v = string(key, fallback);
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
    std::string hint = closest_match(v, allowed);
    fail(key, "unknown value \"" + v + "\"; expected one of " + list +
                  (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) override {
    const toml::node* n = get(key);
    if (!n) return fallback;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of strings, got " + type_name(*n));
    std::vector<std::string> out;
    for (const auto& e : *a) {
      auto v = e.value_exact<std::string>();
      if (!v) fail(key, "expected an array of strings, found " + type_name(e));
      out.push_back(*v);
    }
    return out;
  }
  std::vector<double> numbers(const std::string& key) {
    const toml::node* n = get(key);
    std::vector<double> out;
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of numbers, got " + type_name(*n));
    for (const auto& e : *a) {
      if (auto v = e.value_exact<double>())
        out.push_back(*v);
      else if (auto i = e.value_exact<int64_t>())
        out.push_back(static_cast<double>(*i));
      else
        fail(key, "expected an array of numbers, found " + type_name(e));
    }
    return out;
  }
  // A sub-table; an empty one (with this table's position) when absent.
  Reader table(const std::string& key) {
    const toml::node* n = get(key);
    if (!n) return Reader(empty(), file_, field(key));
    const toml::table* t = n->as_table();
    if (!t) fail(key, "expected a table, got " + type_name(*n));
    return Reader(*t, file_, field(key));
  }
  std::vector<Reader> tables(const std::string& key) {
    const toml::node* n = get(key);
    std::vector<Reader> out;
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of tables ([[" + field(key) + "]]), got " + type_name(*n));
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* t = (*a)[i].as_table();
      if (!t) fail(key, "expected an array of tables ([[" + field(key) + "]]), found " + type_name((*a)[i]));
      // Named elements are addressed by name, as --set and [[run]] overrides address them
      // (services.web.workers).
      auto name = t->get_as<std::string>("name");
      std::string element = name && !name->get().empty() ? name->get() : std::to_string(i);
      out.emplace_back(*t, file_, field(key) + "." + element);
    }
    return out;
  }
  const toml::table& raw() const { return t_; }
  // Keeps the document this reader points into alive (controller settings outlive the loader).
  void keep_alive(std::shared_ptr<const toml::table> doc) { doc_ = std::move(doc); }
  const std::string& file() const { return file_; }

  Distribution distribution(const std::string& key, const Distribution& fallback) {
    const toml::node* n = t_.get(key);
    if (!n) {
      used_.insert(key);
      return fallback;
    }
    if (!n->is_table()) return Distribution::constant(nonneg(key, std::nullopt));
    Reader r = table(key);
    Distribution d;
    std::string kind = r.choice("dist", "constant",
                                {"constant", "uniform", "normal", "lognormal", "exponential", "empirical"});
    if (kind == "constant") {
      d.kind = Distribution::Kind::constant;
      d.mean = r.nonneg("value", std::nullopt);
    } else if (kind == "uniform") {
      d.kind = Distribution::Kind::uniform;
      d.min = r.nonneg("min", std::nullopt);
      d.max = r.nonneg("max", std::nullopt);
      if (d.max < d.min) r.fail("max", "expected max >= min");
    } else if (kind == "normal" || kind == "lognormal") {
      d.kind = kind == "normal" ? Distribution::Kind::normal : Distribution::Kind::lognormal;
      d.mean = r.nonneg("mean", std::nullopt);
      d.cv = r.nonneg("cv", 0.0, "a coefficient of variation");
      if (d.kind == Distribution::Kind::lognormal && d.mean <= 0)
        r.fail("mean", "expected a mean > 0 for a lognormal");
    } else if (kind == "exponential") {
      d.kind = Distribution::Kind::exponential;
      d.mean = r.nonneg("mean", std::nullopt);
    } else {
      d.kind = Distribution::Kind::empirical;
      d.values = r.numbers("values");
      if (d.values.empty()) r.fail("values", "expected a non-empty array of values");
      for (double v : d.values)
        if (v < 0) r.fail("values", "negative value " + fmt(v) + "; expected values >= 0");
    }
    r.finish();
    return d;
  }

  // Throws for the first key of this table that no one read.
  void finish() const {
    std::vector<std::string> known(used_.begin(), used_.end());
    for (auto&& [k, v] : t_) {
      std::string key(k.str());
      if (used_.count(key)) continue;
      std::string hint = closest_match(key, known);
      int l = k.source().begin.line ? static_cast<int>(k.source().begin.line) : line_of(key);
      throw InputError(file_for(l), l, field(key),
                       "unknown key" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
    }
  }

 private:
  static const toml::table& empty() {
    static const toml::table e;
    return e;
  }
  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      default:
        return "a date/time";
    }
  }
  static std::string fmt(double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  }
  template <class T>
  T require(const std::string& key, const std::optional<T>& fallback, const char* what) const {
    if (fallback) return *fallback;
    throw InputError(file_, line(), field(key), std::string("missing required key; expected ") + what);
  }

  const toml::table& t_;
  std::string file_;
  std::string path_;
  std::set<std::string> used_;
  std::shared_ptr<const toml::table> doc_;
};

toml::table parse_text(const std::string& text, const std::string& file) {
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    throw InputError(file, static_cast<int>(e.source().begin.line), "",
                     "TOML syntax error: " + std::string(e.description()));
  }
}

void put(toml::table& into, const std::string& key, toml::node&& value) {
  std::move(value).visit([&](auto&& v) { into.insert_or_assign(key, std::move(v)); });
}

// Deep merge, moving nodes (moves keep their source lines). A table over an array of named tables merges into
// the elements by name (services.web.workers); a table with a different `kind` replaces the table instead of
// merging.
void merge(toml::table& base, toml::table&& over, const std::string& file, const std::string& path) {
  for (auto&& [k, v] : over) {
    std::string key(k.str());
    std::string here = path.empty() ? key : path + "." + key;
    toml::node* b = base.get(key);
    toml::table* ov = v.as_table();
    if (b && ov && b->is_table()) {
      toml::table* bt = b->as_table();
      auto bk = bt->get_as<std::string>("kind");
      auto ok = ov->get_as<std::string>("kind");
      if (!(bk && ok && bk->get() != ok->get())) {
        merge(*bt, std::move(*ov), file, here);
        continue;
      }
    } else if (b && ov && b->is_array_of_tables()) {
      toml::array* arr = b->as_array();
      for (auto&& [name, sub] : *ov) {
        toml::table* target = nullptr;
        for (size_t i = 0; i < arr->size(); ++i) {
          toml::table* e = (*arr)[i].as_table();
          auto n = e->get_as<std::string>("name");
          if ((n && n->get() == name.str()) || name.str() == std::to_string(i)) target = e;
        }
        if (!target || !sub.is_table()) {
          int l = static_cast<int>(name.source().begin.line);
          throw InputError(l ? file : kOverrideFile, l, here + "." + std::string(name.str()),
                           "no element of [[" + here +
                               "]] has this name or index (expected the name of one, or its index from 0)");
        }
        merge(*target, std::move(*sub.as_table()), file, here + "." + std::string(name.str()));
      }
      continue;
    }
    put(base, key, std::move(v));
  }
}

// "a.b.c=value" as a nested table {a = {b = {c = value}}}; the value is TOML, or else a bare string.
toml::table override_table(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(kOverrideFile, 0, assignment, "expected dotted.key=value");
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  toml::table holder;
  try {
    holder = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    holder.insert_or_assign("v", value);
  }
  toml::table root;
  toml::table* cur = &root;
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    cur->insert_or_assign(parts[i], toml::table{});
    cur = cur->get_as<toml::table>(parts[i]);
  }
  put(*cur, parts.back(), std::move(*holder.get("v")));
  return root;
}

std::string resolve_path(const std::string& scenario_file, const std::string& p) {
  namespace fs = std::filesystem;
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(scenario_file).parent_path() / p).lexically_normal().string();
}

TrafficComponent read_source(Reader r, size_t index, const std::string& file) {
  TrafficComponent c;
  using K = TrafficComponent::Kind;
  std::string kind = r.choice("kind", std::nullopt,
                              {"trace", "constant", "diurnal", "mmpp", "flash_crowd", "step", "scheduled"});
  c.name = r.string("name", kind + "-" + std::to_string(index));
  if (kind == "trace") {
    c.kind = K::trace;
    std::string path = r.string("path", std::nullopt);
    c.trace.path = resolve_path(file, path);
    c.trace.column = r.string("column", "rps");
    c.trace.rate_scale = r.nonneg("rate_scale", 1.0, "a scale factor");
    c.trace.time_scale = r.positive("time_scale", 1.0, "a speed-up factor");
    c.trace.start_s = r.nonneg("start_s", 0.0);
    c.trace.end_s = r.has("end_s") ? r.positive("end_s", std::nullopt) : -1;
    if (c.trace.end_s >= 0 && c.trace.end_s <= c.trace.start_s) r.fail("end_s", "expected end_s > start_s");
    c.trace.loop = r.boolean("loop", false);
  } else if (kind == "constant") {
    c.kind = K::constant;
    c.rate_rps = r.nonneg("rate_rps", std::nullopt, "a rate");
  } else if (kind == "diurnal") {
    c.kind = K::diurnal;
    c.shape = r.boolean("as_shape", false);
    c.rate_rps = c.shape ? 1 : r.nonneg("rate_rps", std::nullopt, "a mean rate");
    c.amplitude = r.nonneg("amplitude", 0.5, "a fraction of the mean");
    c.period_s = r.positive("period_s", 86400.0);
    c.peak_time_s = r.nonneg("peak_time_s", 14 * 3600.0);
    c.noise_cv = r.nonneg("noise_cv", 0.0, "a coefficient of variation");
    c.noise_interval_s = r.positive("noise_interval_s", 60.0);
  } else if (kind == "mmpp") {
    c.kind = K::mmpp;
    c.state_rates_rps = r.numbers("state_rates_rps");
    c.state_mean_s = r.numbers("state_mean_s");
    if (c.state_rates_rps.empty()) r.fail("state_rates_rps", "expected a non-empty array of rates");
    if (c.state_mean_s.size() != c.state_rates_rps.size())
      r.fail("state_mean_s",
             "expected one mean sojourn time per state (" + std::to_string(c.state_rates_rps.size()) + ")");
    for (double v : c.state_rates_rps)
      if (v < 0) r.fail("state_rates_rps", "expected rates >= 0");
    for (double v : c.state_mean_s)
      if (v <= 0) r.fail("state_mean_s", "expected mean sojourn times > 0");
  } else if (kind == "flash_crowd") {
    c.kind = K::flash_crowd;
    c.start_s = r.nonneg("start_s", std::nullopt);
    c.ramp_s = r.positive("ramp_s", 60.0);
    c.peak_multiplier = r.positive("peak_multiplier", std::nullopt, "a multiple of the base rate");
    c.duration_s = r.nonneg("duration_s", 600.0);
    c.decay_s = r.positive("decay_s", 600.0);
  } else if (kind == "step") {
    c.kind = K::step;
    c.start_s = r.nonneg("start_s", std::nullopt);
    c.before_rps = r.nonneg("before_rps", 0.0, "a rate");
    c.rate_rps = r.nonneg("rate_rps", std::nullopt, "a rate");
  } else {
    c.kind = K::scheduled;
    c.start_s = r.nonneg("start_s", std::nullopt);
    c.duration_s = r.positive("duration_s", std::nullopt);
    c.multiplier = r.nonneg("multiplier", std::nullopt, "a multiple of the rate");
    c.ramp_s = r.nonneg("ramp_s", 0.0);
  }
  r.finish();
  return c;
}

ServiceSpec read_service(Reader r, const RunSpec& run) {
  const std::vector<NodePool>& pools = run.node_pools;
  ServiceSpec s;
  s.name = r.string("name", std::nullopt);
  std::vector<std::string> pool_names;
  for (const auto& p : pools) pool_names.push_back(p.name);
  s.node_pool = r.choice("node_pool", pools.empty() ? "" : pools.front().name, pool_names);
  s.work_cpu_s = r.distribution("work_cpu_s", s.work_cpu_s);
  s.workers = r.count("workers", s.workers, 1);
  s.queue_limit = r.count("queue_limit", s.queue_limit, 0);
  s.cpu_request = r.positive("cpu_request", s.cpu_request, "a number of cores");
  s.memory_request_gib = r.nonneg("memory_request_gib", s.memory_request_gib, "a memory size");
  const NodePool& pool = run.node_pool(s.node_pool);
  const InstanceType& node_type = run.instance_type(pool.instance_type);
  if (!pool.dedicated && s.cpu_request > node_type.vcpu)
    r.fail("cpu_request", "expected at most the " + std::to_string(node_type.vcpu) + " vCPU of a " +
                              pool.instance_type + " node (pool " + pool.name +
                              "): no node could ever take this pod");
  if (!pool.dedicated && s.memory_request_gib > node_type.memory_gib)
    r.fail("memory_request_gib",
           "expected at most the node memory of " + pool.instance_type + " (pool " + pool.name + ")");
  s.min_instances = r.count("min_instances", s.min_instances, 0);
  s.max_instances = r.count("max_instances", std::max(s.max_instances, s.min_instances), 0);
  if (s.max_instances < s.min_instances) r.fail("max_instances", "expected max_instances >= min_instances");
  s.initial_instances =
      r.count("initial_instances", std::clamp(s.initial_instances, s.min_instances, s.max_instances), 0);
  if (s.initial_instances < s.min_instances || s.initial_instances > s.max_instances)
    r.fail("initial_instances", "expected a count within [min_instances, max_instances]");
  s.database = r.boolean("database", false);
  s.routing = r.choice("routing", "round_robin", {"round_robin", "least_outstanding"}) == "round_robin"
                  ? RoutingPolicy::round_robin
                  : RoutingPolicy::least_outstanding;
  std::string victim = r.choice("scale_in_victim", "newest", {"newest", "oldest", "least_loaded"});
  s.scale_in_victim = victim == "newest"   ? VictimPolicy::newest
                      : victim == "oldest" ? VictimPolicy::oldest
                                           : VictimPolicy::least_loaded;
  s.drain_timeout_s = r.nonneg("drain_timeout_s", s.drain_timeout_s);
  Reader st = r.table("startup");
  StartupSpec& p = s.startup;
  p.launch_s = st.distribution("launch_s", p.launch_s);
  p.provision_s = st.distribution("provision_s", p.provision_s);
  p.boot_s = st.distribution("boot_s", p.boot_s);
  p.init_s = st.distribution("init_s", p.init_s);
  p.init_cpu_s = st.nonneg("init_cpu_s", p.init_cpu_s, "CPU-seconds");
  p.readiness_initial_delay_s = st.nonneg("readiness_initial_delay_s", p.readiness_initial_delay_s);
  p.readiness_period_s = st.positive("readiness_period_s", p.readiness_period_s);
  p.readiness_success_threshold = st.count("readiness_success_threshold", p.readiness_success_threshold, 1);
  p.warmup_s = st.nonneg("warmup_s", p.warmup_s);
  p.warmup_initial_capacity = st.positive("warmup_initial_capacity", p.warmup_initial_capacity, "a fraction");
  if (p.warmup_initial_capacity > 1) st.fail("warmup_initial_capacity", "expected a fraction in (0, 1]");
  st.finish();
  r.finish();
  return s;
}

RunSpec read_run(const std::shared_ptr<toml::table>& doc, const std::string& file, const std::string& name,
                 uint64_t seed, bool record_requests) {
  Reader r(*doc, file, "");
  RunSpec run;
  run.name = name;
  run.seed = seed;
  run.record_requests = record_requests;
  // Scenario-level keys read elsewhere.
  for (const char* k : {"name", "description", "seed", "run", "expect"}) r.get(k);
  run.duration_s = r.positive("duration_s", std::nullopt);
  run.record_interval_s = r.positive("record_interval_s", 60.0);
  run.reference_speed_gflops = r.positive("reference_speed_gflops", 1.0, "a speed");

  Reader sla = r.table("sla");
  run.sla.latency_s = sla.positive("latency_s", 1.0);
  sla.finish();
  Reader metrics = r.table("metrics");
  run.metrics.reference_utilization = metrics.positive("reference_utilization", 0.8, "a utilization");
  if (run.metrics.reference_utilization > 1)
    metrics.fail("reference_utilization", "expected a utilization in (0, 1]");
  metrics.finish();

  Reader cluster = r.table("cluster");
  Reader hosts = cluster.table("hosts");
  run.hosts.count = hosts.count("count", run.hosts.count, 1);
  run.hosts.cores = hosts.count("cores", run.hosts.cores, 1);
  run.hosts.speed_gflops = hosts.positive("speed_gflops", run.reference_speed_gflops, "a speed");
  run.hosts.memory_gib = hosts.positive("memory_gib", run.hosts.memory_gib, "a memory size");
  run.hosts.cpu_overcommit =
      hosts.positive("cpu_overcommit", run.hosts.cpu_overcommit, "a ratio of vCPUs to cores");
  hosts.finish();
  Reader net = cluster.table("network");
  run.network.bandwidth_gbps = net.positive("bandwidth_gbps", run.network.bandwidth_gbps, "a bandwidth");
  run.network.latency_s = net.nonneg("latency_s", run.network.latency_s);
  net.finish();
  Reader types = cluster.table("instance_types");
  for (auto&& [k, v] : types.raw()) {
    std::string tname(k.str());
    Reader tr = types.table(tname);
    InstanceType it;
    it.name = tname;
    it.vcpu = tr.count("vcpu", std::nullopt, 1);
    it.memory_gib = tr.positive("memory_gib", std::nullopt, "a memory size");
    it.price_per_hour_usd = tr.nonneg("price_per_hour_usd", std::nullopt, "a price");
    if (it.vcpu > run.hosts.cores)
      tr.fail("vcpu", "expected at most cluster.hosts.cores (" + std::to_string(run.hosts.cores) + ") vCPUs");
    tr.finish();
    run.instance_types.push_back(it);
  }
  if (run.instance_types.empty())
    cluster.fail("instance_types", "expected at least one [cluster.instance_types.<name>] table");
  std::vector<std::string> type_names;
  for (const auto& it : run.instance_types) type_names.push_back(it.name);
  // Fixed pools are placed first-fit on the hosts at time 0, as the engine will: check now that they fit.
  std::vector<double> free_cores(static_cast<size_t>(run.hosts.count),
                                 run.hosts.cores * run.hosts.cpu_overcommit);
  std::vector<double> free_mem(static_cast<size_t>(run.hosts.count), run.hosts.memory_gib);
  for (Reader& pr : cluster.tables("node_pools")) {
    NodePool p;
    p.name = pr.string("name", std::nullopt);
    p.instance_type = pr.choice("instance_type", std::nullopt, type_names);
    p.dedicated = pr.boolean("dedicated", true);
    p.nodes = pr.count("nodes", 0, 0);
    if (p.dedicated && pr.has("nodes"))
      pr.fail("nodes",
              "a dedicated pool creates one node per instance; remove 'nodes' or set dedicated = false");
    if (!p.dedicated && p.nodes < 1)
      pr.fail("nodes", "expected a node count >= 1 for a fixed pool (dedicated = false)");
    p.min_billed_s = pr.nonneg("min_billed_s", p.min_billed_s);
    for (const auto& q : run.node_pools)
      if (q.name == p.name) pr.fail("name", "duplicate node pool name '" + p.name + "'");
    const InstanceType& type = run.instance_type(p.instance_type);
    for (int k = 0; k < (p.dedicated ? 0 : p.nodes); ++k) {
      size_t h = 0;
      while (h < free_cores.size() &&
             (free_cores[h] + 1e-9 < type.vcpu || free_mem[h] + 1e-9 < type.memory_gib))
        ++h;
      if (h == free_cores.size())
        pr.fail("nodes",
                "the hosts have room for only " + std::to_string(k) + " node(s) of " + p.instance_type +
                    " after the pools before; expected fewer nodes, or more or bigger cluster.hosts");
      free_cores[h] -= type.vcpu;
      free_mem[h] -= type.memory_gib;
    }
    pr.finish();
    run.node_pools.push_back(p);
  }
  if (run.node_pools.empty()) cluster.fail("node_pools", "expected at least one [[cluster.node_pools]]");
  cluster.finish();

  for (Reader& sr : r.tables("services")) {
    ServiceSpec s = read_service(sr, run);
    for (const auto& q : run.services)
      if (q.name == s.name) sr.fail("name", "duplicate service name '" + s.name + "'");
    run.services.push_back(s);
  }
  if (run.services.empty()) r.fail("services", "expected at least one [[services]] table");
  for (Reader& er : r.tables("edges")) {
    EdgeSpec e;
    e.line = er.line();
    e.from = er.string("from", std::nullopt);
    e.to = er.string("to", std::nullopt);
    e.probability = er.nonneg("probability", 1.0, "a probability");
    if (e.probability > 1) er.fail("probability", "expected a probability in [0, 1]");
    e.calls = er.count("calls", 1, 1);
    e.request_bytes = er.nonneg("request_bytes", e.request_bytes, "a size in bytes");
    e.response_bytes = er.nonneg("response_bytes", e.response_bytes, "a size in bytes");
    er.finish();
    run.edges.push_back(e);
  }

  Reader traffic = r.table("traffic");
  run.traffic.entry_service = traffic.string("entry_service", run.services.front().name);
  run.traffic.client_timeout_s = traffic.positive("client_timeout_s", run.traffic.client_timeout_s);
  run.traffic.resolution_s = traffic.positive("resolution_s", run.traffic.resolution_s);
  size_t i = 0;
  for (Reader& cr : traffic.tables("sources")) run.traffic.components.push_back(read_source(cr, i++, file));
  if (run.traffic.components.empty()) traffic.fail("sources", "expected at least one [[traffic.sources]]");
  traffic.finish();

  Reader mon = r.table("monitoring");
  run.monitoring.scrape_interval_s = mon.positive("scrape_interval_s", run.monitoring.scrape_interval_s);
  run.monitoring.lag_s = mon.nonneg("lag_s", run.monitoring.lag_s);
  run.monitoring.window_s = mon.positive("window_s", run.monitoring.window_s);
  mon.finish();

  auto ctl = std::make_shared<Reader>(r.table("controller"));
  run.controller.kind = ctl->string("kind", std::nullopt);
  r.finish();

  // Check the controller's own keys now (a factory reads them all), then every reference between sections.
  ControllerContext ctx;
  for (const auto& s : run.services) ctx.services.push_back(s.name);
  make_controller(run.controller.kind, *ctl, ctx);
  ctl->finish();
  ctl->keep_alive(doc);
  ServiceGraph(run, file);  // throws for unknown services in edges and for cycles
  run.controller.params = ctl;
  return run;
}

}  // namespace

std::string tomlplusplus_version() {
  return std::to_string(TOML_LIB_MAJOR) + "." + std::to_string(TOML_LIB_MINOR) + "." +
         std::to_string(TOML_LIB_PATCH);
}

Scenario load_scenario(const std::string& path, const LoadOptions& opts) {
  Scenario sc;
  sc.file = path;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open scenario file (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  sc.toml_text = buf.str();

  // Each run gets its own parse of the file, so that every value keeps its source line after the merge.
  auto base_table = [&]() {
    toml::table t = parse_text(sc.toml_text, path);
    for (const auto& s : opts.set) merge(t, override_table(s), path, "");
    return t;
  };
  toml::table top = base_table();
  Reader r(top, path, "");
  sc.name = r.string("name", std::filesystem::path(path).stem().string());
  sc.description = r.string("description", "");
  long seed = r.integer("seed", 1);
  if (seed < 0) r.fail("seed", "expected a non-negative integer");
  sc.seed = opts.seed ? *opts.seed : static_cast<uint64_t>(seed);

  std::vector<Reader> runs = r.tables("run");
  std::string default_name = top["controller"]["kind"].value_or(std::string("run"));
  size_t n_runs = std::max<size_t>(1, runs.size());
  std::set<std::string> names;
  for (size_t k = 0; k < n_runs; ++k) {
    auto doc = std::make_shared<toml::table>(base_table());
    toml::table& t = *doc;
    std::string name = default_name;
    if (!runs.empty()) {
      toml::table* rt = t["run"].as_array()->get(k)->as_table();
      Reader rr(*rt, path, "run." + std::to_string(k));
      name = rr.string("name", std::nullopt);
      if (!names.insert(name).second) rr.fail("name", "duplicate run name '" + name + "'");
      toml::table over = std::move(*rt);
      over.erase("name");
      t.erase("run");
      merge(t, std::move(over), path, "");
    }
    RunSpec run = read_run(doc, path, name, sc.seed, opts.record_requests);
    std::ostringstream effective;
    effective << t;
    run.config_toml = effective.str();
    // Load every trace once now, so that a bad trace is reported before anything runs.
    RateFunction check(run.traffic, sc.seed);
    sc.runs.push_back(std::move(run));
  }

  for (Reader& er : r.tables("expect")) {
    Expectation e;
    e.line = er.line();
    e.run = er.string("run", "");
    if (!e.run.empty() &&
        std::none_of(sc.runs.begin(), sc.runs.end(), [&](const RunSpec& x) { return x.name == e.run; })) {
      std::vector<std::string> rn;
      for (const auto& x : sc.runs) rn.push_back(x.name);
      er.choice("run", "", rn);
    }
    e.metric = er.choice("metric", std::nullopt, summary_metric_names());
    e.op = er.choice("op", std::nullopt, {"<", "<=", ">", ">=", "==", "!="});
    e.value = er.number("value", std::nullopt);
    er.finish();
    sc.expectations.push_back(e);
  }
  return sc;
}

}  // namespace autoscale
