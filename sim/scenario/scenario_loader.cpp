#include "sim/scenario/scenario_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "controllers/base/error.hpp"
#include "controllers/registry.hpp"
#include "sim/cluster/placement.hpp"
#include "sim/core/metrics.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/startup.hpp"
#include "sim/core/trace.hpp"
#include "sim/scenario/key_ranges.hpp"
#include "sim/scenario/loader_detail.hpp"
#include "sim/scenario/toml_reader.hpp"

namespace autoscale {

// Internal to sim/scenario (loader_detail.hpp declares what the bench loader shares).
namespace loader_detail {

using toml_reader::kOverrideFile;
using toml_reader::line_in_file;
using toml_reader::Reader;

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
          int l = line_in_file(name.source());
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

// "a.b.c=value" as a nested table {a = {b = {c = value}}}; the value is TOML, or else a bare string. Its
// nodes carry kOverrideFile as their source path (or no source at all), so errors about them blame "--set".
toml::table override_table(const std::string& assignment) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError(kOverrideFile, 0, assignment, "expected dotted.key=value");
  std::string key = assignment.substr(0, eq), value = assignment.substr(eq + 1);
  toml::table holder;
  try {
    holder = toml::parse("v = " + value, std::string_view(kOverrideFile));
  } catch (const toml::parse_error&) {
    holder.insert_or_assign("v", value);
  }
  toml::table root;
  toml::table* cur = &root;
  std::vector<std::string> parts;
  std::stringstream ss(key);
  for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
  if (key.back() == '.' || std::find(parts.begin(), parts.end(), "") != parts.end())
    throw InputError(kOverrideFile, 0, assignment, "an empty key part; expected dotted.key=value");
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

// duration_s / interval_s events of a periodic activity: at most kMaxIntervals.
void check_intervals(const Reader& r, const std::string& key, double interval_s, double duration_s,
                     const std::string& what) {
  double n = duration_s / interval_s;
  if (n > kMaxIntervals)
    r.fail(key, "duration_s / " + key + " = " + format_number(n) + " " + what + "; expected at most " +
                    format_number(kMaxIntervals) + " (a longer " + key + " or a shorter duration_s)");
}

// A trace source's window must start inside the trace; running past its end gives no traffic (a warning).
void check_trace_window(const Reader& r, const TraceSource& src, double duration_s, Warnings& warnings) {
  Trace trace = load_trace(src.path, src.column);
  std::string span = "the trace " + src.path + " spans [" + format_number(trace.t0_s) + ", " +
                     format_number(trace.end_s()) + ") s";
  if (src.start_s >= trace.end_s())
    r.fail("start_s", "start_s " + format_number(src.start_s) + " is past the trace's end: " + span +
                          "; expected start_s < " + format_number(trace.end_s()));
  if (src.end_s >= 0 && src.end_s <= trace.t0_s)
    r.fail("end_s", "end_s " + format_number(src.end_s) + " is before the trace's start: " + span +
                        "; expected end_s > " + format_number(trace.t0_s));
  if (src.loop) return;
  if (src.end_s > trace.end_s()) {
    warnings.add(
        r.located("end_s", "end_s " + format_number(src.end_s) + " is past the trace's end: " + span +
                               "; the source gives no traffic after trace time " +
                               format_number(trace.end_s()) + " (set loop = true to replay the window)"));
  } else if (src.end_s < 0 && src.start_s + duration_s * src.time_scale > trace.end_s()) {
    double last_s = (trace.end_s() - src.start_s) / src.time_scale;
    warnings.add(r.located("path", "the run (duration_s " + format_number(duration_s) + " x time_scale " +
                                       format_number(src.time_scale) + " from start_s " +
                                       format_number(src.start_s) + ") runs past the trace's end: " + span +
                                       "; the source gives no traffic after simulated time " +
                                       format_number(last_s) + " s (set loop = true to replay the trace)"));
  }
}

// `seen_of_kind`: sources of each kind read so far. An unnamed source is named after its kind and its rank
// among sources of that kind ("mmpp-0"), so that its random stream does not shift when a source of another
// kind is added.
TrafficComponent read_source(Reader r, std::map<std::string, int>& seen_of_kind, const std::string& file,
                             double duration_s, Warnings& warnings) {
  TrafficComponent c;
  using K = TrafficComponent::Kind;
  std::string kind = r.choice("kind", std::nullopt,
                              {"trace", "constant", "diurnal", "mmpp", "flash_crowd", "step", "scheduled"});
  c.name = r.name("name", kind + "-" + std::to_string(seen_of_kind[kind]++));
  if (kind == "trace") {
    c.kind = K::trace;
    std::string path = r.string("path", std::nullopt);
    c.trace.path = resolve_path(file, path);
    c.trace.column = r.string("column", "rps");
    c.trace.rate_scale = r.number("rate_scale", 1.0);
    c.trace.time_scale = r.number("time_scale", 1.0);
    c.trace.start_s = r.number("start_s", 0.0);
    c.trace.end_s = r.has("end_s") ? r.number("end_s", std::nullopt) : -1;
    if (c.trace.end_s >= 0 && c.trace.end_s <= c.trace.start_s) r.fail("end_s", "expected end_s > start_s");
    c.trace.loop = r.boolean("loop", false);
    check_trace_window(r, c.trace, duration_s, warnings);
  } else if (kind == "constant") {
    c.kind = K::constant;
    c.rate_rps = r.number("rate_rps", std::nullopt);
  } else if (kind == "diurnal") {
    c.kind = K::diurnal;
    c.shape = r.boolean("as_shape", false);
    c.rate_rps = c.shape ? 1 : r.number("rate_rps", std::nullopt);
    c.amplitude = r.number("amplitude", 0.5);
    c.period_s = r.number("period_s", 86400.0);
    c.peak_time_s = r.number("peak_time_s", 14 * 3600.0);
    c.noise_cv = r.number("noise_cv", 0.0);
    c.noise_interval_s = r.number("noise_interval_s", 60.0);
    check_intervals(r, "noise_interval_s", c.noise_interval_s, duration_s, "noise draws");
  } else if (kind == "mmpp") {
    c.kind = K::mmpp;
    c.state_rates_rps = r.numbers("state_rates_rps");
    c.state_mean_s = r.numbers("state_mean_s");
    if (c.state_rates_rps.empty()) r.fail("state_rates_rps", "expected a non-empty array of rates");
    if (c.state_mean_s.size() != c.state_rates_rps.size())
      r.fail("state_mean_s",
             "expected one mean sojourn time per state (" + std::to_string(c.state_rates_rps.size()) + ")");
    double mean_s = 0;
    for (double v : c.state_mean_s) mean_s += v / static_cast<double>(c.state_mean_s.size());
    check_intervals(r, "state_mean_s", mean_s, duration_s, "expected state switches");
  } else if (kind == "flash_crowd") {
    c.kind = K::flash_crowd;
    c.start_s = r.number("start_s", std::nullopt);
    c.ramp_s = r.number("ramp_s", 60.0);
    c.peak_multiplier = r.number("peak_multiplier", std::nullopt);
    c.duration_s = r.number("duration_s", 600.0);
    c.decay_s = r.number("decay_s", 600.0);
  } else if (kind == "step") {
    c.kind = K::step;
    c.start_s = r.number("start_s", std::nullopt);
    c.before_rps = r.number("before_rps", 0.0);
    c.rate_rps = r.number("rate_rps", std::nullopt);
  } else {
    c.kind = K::scheduled;
    c.start_s = r.number("start_s", std::nullopt);
    c.duration_s = r.number("duration_s", std::nullopt);
    c.multiplier = r.number("multiplier", std::nullopt);
    c.ramp_s = r.number("ramp_s", 0.0);
  }
  r.finish();
  return c;
}

ServiceSpec read_service(Reader r, const RunSpec& run) {
  const std::vector<NodePool>& pools = run.node_pools;
  ServiceSpec s;
  s.name = r.name("name", std::nullopt);
  std::vector<std::string> pool_names;
  for (const auto& p : pools) pool_names.push_back(p.name);
  s.node_pool = r.choice("node_pool", pools.empty() ? "" : pools.front().name, pool_names);
  s.work_cpu_s = r.distribution("work_cpu_s", s.work_cpu_s);
  s.workers = r.count("workers", s.workers);
  s.queue_limit = r.count("queue_limit", s.queue_limit);
  s.cpu_request = r.number("cpu_request", s.cpu_request);
  s.cpu_limit = r.number("cpu_limit", s.cpu_limit);
  s.memory_request_gib = r.number("memory_request_gib", s.memory_request_gib);
  const NodePool& pool = run.node_pool(s.node_pool);
  // The pool's largest type (by vCPU, then memory) is what a pod must fit.
  const InstanceType* largest = &run.instance_type(pool.instance_type);
  for (const std::string& n : pool.instance_types) {
    const InstanceType& t = run.instance_type(n);
    if (t.vcpu > largest->vcpu || (t.vcpu == largest->vcpu && t.memory_gib > largest->memory_gib))
      largest = &t;
  }
  const InstanceType& node_type = *largest;
  const std::string node = "a " + node_type.name + " node (pool " + pool.name + ")";
  if (!pool.dedicated && s.cpu_request > node_type.vcpu)
    r.fail("cpu_request", "expected at most the " + std::to_string(node_type.vcpu) + " vCPU of " + node +
                              ": no node could ever take this pod");
  if (!pool.dedicated && s.memory_request_gib > node_type.memory_gib)
    r.fail("memory_request_gib", "expected at most the " + format_number(node_type.memory_gib) + " GiB of " +
                                     node + ": no node could ever take this pod");
  if (r.has("cpu_limit")) {
    if (pool.dedicated)
      r.fail("cpu_limit", "pool " + pool.name +
                              " is dedicated (one node per instance); expected cpu_limit only for pods on a "
                              "fixed pool (dedicated = false)");
    if (s.cpu_limit > 0 && s.cpu_limit < s.cpu_request)
      r.fail("cpu_limit",
             "expected cpu_limit >= cpu_request (" + format_number(s.cpu_request) + "), or 0 for no limit");
    if (s.cpu_limit > node_type.vcpu)
      r.fail("cpu_limit", "expected at most the " + std::to_string(node_type.vcpu) + " vCPU of " + node);
    // The quota is a SimGrid VM bounded at the limit on its node, and SimGrid cannot put a VM inside a VM
    // (nodes are VMs when hosts are overcommitted).
    if (s.cpu_limit > 0 && run.hosts.cpu_overcommit > 1)
      r.fail("cpu_limit",
             "a CPU limit needs nodes that own their cores; expected cluster.hosts.cpu_overcommit = 1 "
             "(it is " +
                 format_number(run.hosts.cpu_overcommit) + "), or no cpu_limit");
  }
  s.min_instances = r.count("min_instances", s.min_instances);
  s.max_instances = r.count("max_instances", std::max(s.max_instances, s.min_instances));
  if (s.max_instances < s.min_instances) r.fail("max_instances", "expected max_instances >= min_instances");
  s.initial_instances =
      r.count("initial_instances", std::clamp(s.initial_instances, s.min_instances, s.max_instances));
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
  s.drain_timeout_s = r.number("drain_timeout_s", s.drain_timeout_s);
  s.activator = r.boolean("activator", s.activator);
  s.activator_capacity = r.count("activator_capacity", s.activator_capacity);
  Reader st = r.section("startup");
  StartupSpec& p = s.startup;
  p.launch_s = st.distribution("launch_s", p.launch_s);
  p.provision_s = st.distribution("provision_s", p.provision_s);
  p.boot_s = st.distribution("boot_s", p.boot_s);
  p.init_s = st.distribution("init_s", p.init_s);
  p.init_cpu_s = st.number("init_cpu_s", p.init_cpu_s);
  p.readiness_initial_delay_s = st.number("readiness_initial_delay_s", p.readiness_initial_delay_s);
  p.readiness_period_s = st.number("readiness_period_s", p.readiness_period_s);
  check_intervals(st, "readiness_period_s", p.readiness_period_s, run.duration_s,
                  "probes of a starting instance");
  p.readiness_success_threshold = st.count("readiness_success_threshold", p.readiness_success_threshold);
  p.warmup_s = st.number("warmup_s", p.warmup_s);
  p.warmup_initial_capacity = st.number("warmup_initial_capacity", p.warmup_initial_capacity);
  st.finish();
  // Warm pool, lifecycle hooks and shadows (sim/fleet).
  s.shadow_duration_s = r.number("shadow_duration_s", 0.0);
  Reader wp = r.section("warm_pool");
  if (r.has("warm_pool")) {
    if (!pool.dedicated)
      r.fail("warm_pool", "pool " + pool.name +
                              " is a fixed pool (pods); expected a warm pool only on a dedicated pool "
                              "(dedicated = true: EC2 instances)");
    WarmPoolSpec& w = s.warm_pool;
    w.enabled = true;
    const std::string state = wp.choice("pool_state", "stopped", {"stopped", "running", "hibernated"});
    w.pool_state = state == "running"      ? WarmPoolState::running
                   : state == "hibernated" ? WarmPoolState::hibernated
                                           : WarmPoolState::stopped;
    w.min_size = wp.count("min_size", 0);
    w.max_prepared_capacity =
        wp.has("max_group_prepared_capacity") ? wp.count("max_group_prepared_capacity", std::nullopt) : -1;
    w.reuse_on_scale_in = wp.boolean("reuse_on_scale_in", false);
    w.resume_s = wp.distribution("resume_s", p.boot_s);
    w.stopped_price_per_hour_usd = wp.number("stopped_price_per_hour_usd", 0.0);
  }
  wp.finish();
  for (Reader& hr : r.sections("lifecycle_hooks")) {
    LifecycleHookSpec h;
    h.name = hr.name("name", "hook-" + std::to_string(s.lifecycle_hooks.size()));
    for (const auto& q : s.lifecycle_hooks)
      if (q.name == h.name) hr.fail("name", "duplicate lifecycle hook name '" + h.name + "'");
    h.launching = hr.choice("transition", std::nullopt, {"launching", "terminating"}) == "launching";
    h.heartbeat_timeout_s = hr.number("heartbeat_timeout_s", h.heartbeat_timeout_s);
    h.abandon = hr.choice("default_result", "ABANDON", {"CONTINUE", "ABANDON"}) == "ABANDON";
    h.has_action = hr.has("action_s");
    if (h.has_action) h.action_s = hr.distribution("action_s", h.action_s);
    hr.finish();
    s.lifecycle_hooks.push_back(h);
  }
  r.finish();
  return s;
}

RunSpec read_run(const std::shared_ptr<toml::table>& doc, const std::string& file, const std::string& name,
                 uint64_t seed, bool record_requests, Warnings& warnings) {
  Reader r(*doc, file, "", "");
  RunSpec run;
  run.name = name;
  run.seed = seed;
  run.record_requests = record_requests;
  // Scenario-level keys read elsewhere.
  for (const char* k : {"name", "description", "seed", "run", "expect"}) r.get(k);
  run.duration_s = r.number("duration_s", std::nullopt);
  run.record_interval_s = r.number("record_interval_s", 60.0);
  check_intervals(r, "record_interval_s", run.record_interval_s, run.duration_s, "rows of time series");
  run.reference_speed_gflops = r.number("reference_speed_gflops", 1.0);
  {
    const std::string f = r.choice("fidelity", "exact", {"exact", "fast", "fluid"});
    run.fidelity = f == "fast" ? Fidelity::fast : f == "fluid" ? Fidelity::fluid : Fidelity::exact;
  }
  Reader fluid = r.section("fluid");
  run.fluid_step_s = fluid.number("step_s", 1.0);
  fluid.finish();

  Reader sla = r.section("sla");
  run.sla.latency_s = sla.number("latency_s", 1.0);
  run.sla.episode_threshold = sla.number("episode_threshold", 0.05);
  run.sla.episode_lookback_s = sla.number("episode_lookback_s", 300.0);
  sla.finish();
  Reader metrics = r.section("metrics");
  run.metrics.reference_utilization = metrics.number("reference_utilization", 0.8);
  metrics.finish();

  Reader cluster = r.section("cluster");
  Reader hosts = cluster.section("hosts");
  run.hosts.count = hosts.count("count", run.hosts.count);
  run.hosts.cores = hosts.count("cores", run.hosts.cores);
  run.hosts.speed_gflops = hosts.number("speed_gflops", run.reference_speed_gflops);
  run.hosts.memory_gib = hosts.number("memory_gib", run.hosts.memory_gib);
  run.hosts.cpu_overcommit = hosts.number("cpu_overcommit", run.hosts.cpu_overcommit);
  hosts.finish();
  Reader net = cluster.section("network");
  run.network.bandwidth_gbps = net.number("bandwidth_gbps", run.network.bandwidth_gbps);
  run.network.latency_s = net.number("latency_s", run.network.latency_s);
  net.finish();
  Reader types = cluster.section("instance_types");
  for (auto&& [k, v] : types.raw()) {
    std::string tname(k.str());
    std::string problem = name_problem(tname);
    if (!problem.empty()) types.fail(tname, problem + "; expected " + kNameRule);
    Reader tr = types.named(tname);
    InstanceType it;
    it.name = tname;
    it.vcpu = tr.count("vcpu", std::nullopt);
    it.memory_gib = tr.number("memory_gib", std::nullopt);
    it.price_per_hour_usd = tr.number("price_per_hour_usd", std::nullopt);
    it.spot_price_per_hour_usd =
        tr.has("spot_price_per_hour_usd") ? tr.number("spot_price_per_hour_usd", 0.0) : -1;
    it.reserved_price_per_hour_usd =
        tr.has("reserved_price_per_hour_usd") ? tr.number("reserved_price_per_hour_usd", 0.0) : -1;
    const double host_vcpu = run.hosts.cores * run.hosts.cpu_overcommit;
    if (it.vcpu > host_vcpu)
      tr.fail("vcpu", "expected at most cluster.hosts.cores x cpu_overcommit = " + format_number(host_vcpu) +
                          " vCPUs: no host could ever take a node of this type");
    if (it.memory_gib > run.hosts.memory_gib)
      tr.fail("memory_gib",
              "expected at most cluster.hosts.memory_gib = " + format_number(run.hosts.memory_gib) +
                  " GiB: no host could ever take a node of this type");
    tr.finish();
    run.instance_types.push_back(it);
  }
  if (run.instance_types.empty())
    cluster.fail("instance_types", "expected at least one [cluster.instance_types.<name>] table");
  std::vector<std::string> type_names;
  for (const auto& it : run.instance_types) type_names.push_back(it.name);
  // Fixed pools are placed first-fit on the hosts at time 0, as the engine will: check now that they fit.
  std::vector<Bin> host_bins(static_cast<size_t>(run.hosts.count),
                             Bin{run.hosts.cores * run.hosts.cpu_overcommit, run.hosts.memory_gib, 0, 0});
  for (Reader& pr : cluster.sections("node_pools")) {
    NodePool p;
    p.name = pr.name("name", std::nullopt);
    if (pr.has("instance_types")) {
      p.instance_types = pr.strings("instance_types", {});
      if (p.instance_types.empty()) pr.fail("instance_types", "expected at least one instance type name");
      for (size_t k = 0; k < p.instance_types.size(); ++k) {
        if (std::find(type_names.begin(), type_names.end(), p.instance_types[k]) == type_names.end())
          pr.fail("instance_types", "'" + p.instance_types[k] + "' is not one of [cluster.instance_types]");
        if (std::find(p.instance_types.begin(), p.instance_types.begin() + static_cast<long>(k),
                      p.instance_types[k]) != p.instance_types.begin() + static_cast<long>(k))
          pr.fail("instance_types", "'" + p.instance_types[k] + "' is listed twice");
      }
    }
    // With instance_types, instance_type (default: the first of them) is the type of the initial nodes.
    p.instance_type = pr.choice(
        "instance_type",
        p.instance_types.empty() ? std::nullopt : std::optional<std::string>(p.instance_types.front()),
        p.instance_types.empty() ? type_names : p.instance_types);
    p.dedicated = pr.boolean("dedicated", true);
    p.nodes = pr.count("nodes", 0);
    const bool node_autoscaler = r.has("node_autoscaler");
    if (p.dedicated && pr.has("nodes"))
      pr.fail("nodes",
              "a dedicated pool creates one node per instance; remove 'nodes' or set dedicated = false");
    if (!p.dedicated && p.nodes < 1 && !node_autoscaler)
      pr.fail("nodes",
              "expected a node count >= 1 for a fixed pool (dedicated = false) without a "
              "[node_autoscaler]");
    p.node_startup_s = pr.distribution("node_startup_s", p.node_startup_s);
    p.min_nodes = pr.count("min_nodes", p.min_nodes);
    p.max_nodes = pr.count("max_nodes", std::max(p.max_nodes, p.nodes));
    if (p.max_nodes < std::max(p.min_nodes, p.nodes))
      pr.fail("max_nodes", "expected max_nodes >= min_nodes and >= nodes");
    const std::string capacity = pr.choice("capacity_type", "on_demand", {"on_demand", "spot", "reserved"});
    p.capacity_type = capacity == "spot"       ? CapacityType::spot
                      : capacity == "reserved" ? CapacityType::reserved
                                               : CapacityType::on_demand;
    p.spot_interruptions_per_hour = pr.number("spot_interruptions_per_hour", 0.0);
    p.spot_notice_s = pr.number("spot_notice_s", p.spot_notice_s);
    p.reserved_nodes = pr.count("reserved_nodes", 0);
    if (p.dedicated)
      for (const char* k : {"node_startup_s", "instance_types", "min_nodes", "max_nodes", "capacity_type",
                            "reserved_nodes", "spot_interruptions_per_hour", "spot_notice_s"})
        if (pr.has(k))
          pr.fail(k,
                  std::string("'") + k + "' is for a fixed pool (dedicated = false); expected it only there");
    if ((pr.has("spot_interruptions_per_hour") || pr.has("spot_notice_s")) &&
        p.capacity_type != CapacityType::spot)
      pr.fail(pr.has("spot_notice_s") ? "spot_notice_s" : "spot_interruptions_per_hour",
              "expected capacity_type = \"spot\" for spot settings");
    if (pr.has("reserved_nodes") && p.capacity_type != CapacityType::reserved)
      pr.fail("reserved_nodes", "expected capacity_type = \"reserved\" for reserved_nodes");
    {
      std::vector<std::string> names = p.instance_types;
      if (names.empty()) names.push_back(p.instance_type);
      for (const std::string& n : names) {
        const InstanceType& it = run.instance_type(n);
        if (p.capacity_type == CapacityType::spot && it.spot_price_per_hour_usd < 0)
          pr.fail("capacity_type", "instance type " + n +
                                       " has no spot_price_per_hour_usd; expected one on every type of a "
                                       "spot pool");
        if (p.capacity_type == CapacityType::reserved && it.reserved_price_per_hour_usd < 0)
          pr.fail("capacity_type", "instance type " + n +
                                       " has no reserved_price_per_hour_usd; expected one for a reserved "
                                       "pool");
      }
      if (p.capacity_type == CapacityType::reserved && p.instance_types.size() > 1)
        pr.fail("instance_types", "a reserved pool reserves one instance type; expected a single type");
    }
    p.min_billed_s = pr.number("min_billed_s", p.min_billed_s);
    const std::string scheduler =
        pr.choice("scheduler", "least_allocated", {"least_allocated", "most_allocated"});
    if (p.dedicated && pr.has("scheduler"))
      pr.fail("scheduler",
              "a dedicated pool has no pods to place; expected scheduler only for a fixed pool (dedicated = "
              "false)");
    p.scheduler =
        scheduler == "most_allocated" ? SchedulerPolicy::most_allocated : SchedulerPolicy::least_allocated;
    for (const auto& q : run.node_pools)
      if (q.name == p.name) pr.fail("name", "duplicate node pool name '" + p.name + "'");
    const InstanceType& type = run.instance_type(p.instance_type);
    for (int k = 0; k < (p.dedicated ? 0 : p.nodes); ++k) {
      const int h = place(host_bins, type.vcpu, type.memory_gib, PlacementRule::first_fit);
      if (h < 0)
        pr.fail("nodes",
                "the hosts have room for only " + std::to_string(k) + " node(s) of " + p.instance_type +
                    " after the pools before; expected fewer nodes, or more or bigger cluster.hosts");
      host_bins[h].cpu_requested += type.vcpu;
      host_bins[h].mem_requested_gib += type.memory_gib;
    }
    pr.finish();
    run.node_pools.push_back(p);
  }
  if (run.node_pools.empty()) cluster.fail("node_pools", "expected at least one [[cluster.node_pools]]");
  cluster.finish();

  for (Reader& sr : r.sections("services")) {
    ServiceSpec s = read_service(sr, run);
    for (const auto& q : run.services)
      if (q.name == s.name) sr.fail("name", "duplicate service name '" + s.name + "'");
    run.services.push_back(s);
  }
  if (run.services.empty()) r.fail("services", "expected at least one [[services]] table");
  for (Reader& er : r.sections("edges")) {
    EdgeSpec e;
    e.line = er.line();
    e.from = er.string("from", std::nullopt);
    e.to = er.string("to", std::nullopt);
    e.probability = er.number("probability", 1.0);
    e.calls = er.count("calls", 1);
    e.request_bytes = er.number("request_bytes", e.request_bytes);
    e.response_bytes = er.number("response_bytes", e.response_bytes);
    er.finish();
    run.edges.push_back(e);
  }

  Reader traffic = r.section("traffic");
  run.traffic.entry_service = traffic.string("entry_service", run.services.front().name);
  run.traffic.client_timeout_s = traffic.number("client_timeout_s", run.traffic.client_timeout_s);
  run.traffic.resolution_s = traffic.number("resolution_s", run.traffic.resolution_s);
  check_intervals(traffic, "resolution_s", run.traffic.resolution_s, run.duration_s, "rate steps");
  std::map<std::string, int> seen_of_kind;
  for (Reader& cr : traffic.sections("sources"))
    run.traffic.components.push_back(read_source(cr, seen_of_kind, file, run.duration_s, warnings));
  if (run.traffic.components.empty()) traffic.fail("sources", "expected at least one [[traffic.sources]]");
  traffic.finish();

  Reader mon = r.section("monitoring");
  run.monitoring.scrape_interval_s = mon.number("scrape_interval_s", run.monitoring.scrape_interval_s);
  check_intervals(mon, "scrape_interval_s", run.monitoring.scrape_interval_s, run.duration_s, "scrapes");
  run.monitoring.lag_s = mon.number("lag_s", run.monitoring.lag_s);
  run.monitoring.window_s = mon.number("window_s", run.monitoring.window_s);
  run.monitoring.history_s = mon.number("history_s", run.monitoring.history_s);
  run.monitoring.history_step_s = mon.number("history_step_s", run.monitoring.history_step_s);
  if (run.monitoring.history_s > 0 && run.monitoring.history_s / run.monitoring.history_step_s > 1e6)
    mon.fail("history_s", "history_s / history_step_s = " +
                              format_number(run.monitoring.history_s / run.monitoring.history_step_s) +
                              " steps; expected at most 1000000");
  double kept = (run.monitoring.lag_s + run.monitoring.window_s) / run.monitoring.scrape_interval_s;
  if (kept > kMaxScrapesKept)
    mon.fail("window_s", "(lag_s + window_s) / scrape_interval_s = " + format_number(kept) +
                             " scrapes kept in memory; expected at most " + format_number(kMaxScrapesKept));
  mon.finish();

  Reader na = r.section("node_autoscaler");
  if (r.has("node_autoscaler")) {
    NodeAutoscalerConfig& c = run.node_autoscaler.config;
    c.kind = na.choice("kind", std::nullopt, {"cluster_autoscaler", "karpenter"});
    const bool ca = c.kind == "cluster_autoscaler";
    run.node_autoscaler.interval_s = na.number("interval_s", 10.0);
    check_intervals(na, "interval_s", run.node_autoscaler.interval_s, run.duration_s,
                    "node autoscaler ticks");
    const std::vector<std::string> ca_keys = {"scale_down_unneeded_time_s",
                                              "scale_down_utilization_threshold",
                                              "scale_down_delay_after_add_s", "max_node_provision_time_s"};
    const std::vector<std::string> k_keys = {"consolidate_after_s", "consolidation_policy"};
    for (const std::string& k : ca ? k_keys : ca_keys)
      if (na.has(k)) na.fail(k, "'" + k + "' is not a setting of kind " + c.kind);
    if (ca) {
      c.scale_down_unneeded_time_s = na.number("scale_down_unneeded_time_s", c.scale_down_unneeded_time_s);
      c.scale_down_utilization_threshold =
          na.number("scale_down_utilization_threshold", c.scale_down_utilization_threshold);
      c.scale_down_delay_after_add_s =
          na.number("scale_down_delay_after_add_s", c.scale_down_delay_after_add_s);
      c.max_node_provision_time_s = na.number("max_node_provision_time_s", c.max_node_provision_time_s);
    } else {
      c.consolidate_after_s = na.number("consolidate_after_s", c.consolidate_after_s);
      c.consolidation =
          na.choice("consolidation_policy", "when_empty_or_underutilized",
                    {"when_empty_or_underutilized", "when_empty"}) == "when_empty_or_underutilized";
    }
  }
  na.finish();
  for (const NodePool& p : run.node_pools)
    if (run.node_autoscaler.config.kind != "karpenter" && p.instance_types.size() > 1)
      cluster.fail("node_pools",
                   "pool " + p.name +
                       " lists several instance_types; expected one, or [node_autoscaler] kind = "
                       "\"karpenter\" (which picks among them)");
  auto ctl = std::make_shared<Reader>(r.section("controller"));
  run.controller.kind = ctl->string("kind", std::nullopt);
  r.finish();

  // Check the controller's own keys now (a factory reads them all), then every reference between sections.
  ControllerContext ctx;
  for (const auto& s : run.services) ctx.services.push_back(s.name);
  run.controller.base_dir = std::filesystem::path(file).parent_path().string();
  ctx.base_dir = run.controller.base_dir;
  ctx.startup_samples_s = startup_samples_s(run);
  double interval_s = make_controller(run.controller.kind, *ctl, ctx)->interval_s();
  check_intervals(*ctl, "interval_s", interval_s, run.duration_s, "controller ticks");
  ctl->finish();
  ctl->keep_alive(doc);
  ServiceGraph graph(run, file);  // throws for unknown services in edges and for cycles
  double requests = 0;
  for (double v : graph.visits()) requests += v;
  if (requests > kMaxRequestsPerArrival)
    r.fail("edges", "the call graph makes " + format_number(requests) +
                        " service requests per end-user request on average (probability x calls along every "
                        "path); expected at most " +
                        format_number(kMaxRequestsPerArrival));
  run.controller.params = ctl;
  return run;
}

std::string file_kind(const toml::table& top) {
  if (top.contains("services")) return "scenario";
  if (top.contains("data") && top.contains("model")) return "train";
  if (top.contains("grid") && top.contains("objective")) return "calibrate";
  if (top.contains("env") && top.contains("algorithm")) return "train_rl";
  if (top.contains("evaluation") || top.contains("forecaster")) return "forecast_eval";
  if (top.get_as<toml::array>("scenario") && top.get_as<toml::array>("controller")) return "bench";
  return "scenario";
}

}  // namespace loader_detail

using namespace loader_detail;

std::string config_file_kind(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the file (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  return file_kind(parse_text(buf.str(), path));
}

std::string tomlplusplus_version() {
  return std::to_string(TOML_LIB_MAJOR) + "." + std::to_string(TOML_LIB_MINOR) + "." +
         std::to_string(TOML_LIB_PATCH);
}

std::shared_ptr<Params> load_controller_toml(const std::string& path, const std::string& schema) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open controller file (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  return parse_controller_toml(buf.str(), path, schema);
}

std::shared_ptr<Params> parse_controller_toml(const std::string& text, const std::string& origin,
                                              const std::string& schema) {
  auto doc = std::make_shared<toml::table>(parse_text(text, origin));
  auto r = std::make_shared<Reader>(*doc, origin, "", schema);
  r->keep_alive(doc);
  return r;
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
  // Other files of scenarios/ that people will hand to `autoscale run`.
  const std::string kind = file_kind(top);
  if (kind == "train")
    throw InputError(path, 0, "",
                     "this is a training file, not a scenario: run `autoscale train " + path + "`");
  if (kind == "calibrate")
    throw InputError(path, 0, "",
                     "this is a calibration file, not a scenario: run `autoscale calibrate " + path + "`");
  if (kind == "train_rl")
    throw InputError(path, 0, "",
                     "this is an RL training file, not a scenario: run `autoscale train-rl " + path + "`");
  if (kind == "forecast_eval")
    throw InputError(
        path, 0, "",
        "this is a forecast evaluation file, not a scenario: run `autoscale forecast-eval " + path + "`");
  if (kind == "bench")
    throw InputError(path, 0, "", "this is a bench file, not a scenario: run `autoscale bench " + path + "`");
  Reader r(top, path, "", "");
  sc.name = r.name("name", std::filesystem::path(path).stem().string());
  sc.description = r.string("description", "");
  long seed = r.integer("seed", 1);  // checked even when --seed replaces it
  sc.seed = opts.seed ? *opts.seed : static_cast<uint64_t>(seed);
  Warnings warnings(opts.warnings ? *opts.warnings : std::cerr);

  std::vector<Reader> runs = r.sections("run");
  std::string default_name = top["controller"]["kind"].value_or(std::string("run"));
  size_t n_runs = std::max<size_t>(1, runs.size());
  std::set<std::string> names;
  for (size_t k = 0; k < n_runs; ++k) {
    auto doc = std::make_shared<toml::table>(base_table());
    toml::table& t = *doc;
    std::string name = default_name;
    if (!runs.empty()) {
      toml::table* rt = t["run"].as_array()->get(k)->as_table();
      Reader rr(*rt, path, "run." + std::to_string(k), "run");
      name = rr.name("name", std::nullopt);
      if (!names.insert(name).second) rr.fail("name", "duplicate run name '" + name + "'");
      toml::table over = std::move(*rt);
      over.erase("name");
      t.erase("run");
      merge(t, std::move(over), path, "");
    }
    RunSpec run = read_run(doc, path, name, sc.seed, opts.record_requests, warnings);
    std::ostringstream effective;
    effective << t;
    run.config_toml = effective.str();
    sc.runs.push_back(std::move(run));
  }

  for (Reader& er : r.sections("expect")) {
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
    if (er.has("than_run")) {
      std::vector<std::string> rn;
      for (const auto& x : sc.runs) rn.push_back(x.name);
      e.than_run = er.choice("than_run", std::nullopt, rn);
      if (e.run.empty() || e.run == e.than_run)
        er.fail("than_run", "expected 'run' to name another run, to compare the two");
    }
    // With than_run, value is a factor on the other run's metric (default 1).
    e.value = er.number("value", e.than_run.empty() ? std::nullopt : std::optional<double>(1.0));
    er.finish();
    sc.expectations.push_back(e);
  }
  return sc;
}

}  // namespace autoscale
