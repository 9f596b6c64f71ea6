#include "results/hdf5_store.hpp"

#include <unistd.h>

#include <exception>
#include <stdexcept>
#include <utility>

#include "controllers/base/error.hpp"
#include "results/hdf5_io.hpp"

namespace autoscale {

namespace {

using namespace h5io;

constexpr int kSchemaVersion = 4;
// Run groups record their modification time (HDF5's default); datasets do not (write_1d).
constexpr bool kGroupTimes = true;

Node create_group(const Node& parent, const std::string& name) {
  return h5io::create_group(parent, name, kGroupTimes);
}

struct EventRec {
  double time_s;
  int32_t instance;
  int32_t service;
  const char* transition;
};
struct DecisionRec {
  double time_s;
  int32_t service;
  int32_t current;
  int32_t desired;
  const char* metric;
  double metric_value;
  const char* rule;
  const char* details;
};
struct NodeDecisionRec {
  double time_s;
  const char* pool;
  int32_t current;
  int32_t desired;
  const char* launched;
  const char* removed;
  const char* rule;
  const char* details;
};
struct EpisodeRec {
  double start_s;
  double end_s;
  int32_t service;
  const char* cause;
  double violation_fraction;
  double peak_shortfall;
};
struct RequestRec {
  double arrival_s;
  double latency_s;
  double wait_s;
  uint8_t failed;
};

void write_run(const Node& runs, const RunResult& r) {
  Node g = create_group(runs, r.name);
  for (const auto& v : r.summary) {
    if (v.integer)
      attr_int(g, v.key, static_cast<int64_t>(v.value));
    else
      attr_double(g, v.key, v.value);
  }
  attr_string(g, "config_toml", r.config_toml);
  attr_string(g, "fidelity", r.fidelity);
  attr_double(g, "record_interval_s", r.record_interval_s);
  write_doubles(g, "time_s", r.time_s, "s");
  write_doubles(g, "cost_usd", r.cost_usd, "USD");
  {
    Node sg = create_group(g, "services");
    for (const auto& s : r.services) {
      Node h = create_group(sg, s.name);
      write_doubles(h, "arrival_rps", s.arrival_rps, "1/s");
      write_doubles(h, "completed_rps", s.completed_rps, "1/s");
      write_doubles(h, "failed_rps", s.failed_rps, "1/s");
      write_doubles(h, "latency_p50_s", s.latency_p50_s, "s");
      write_doubles(h, "latency_p95_s", s.latency_p95_s, "s");
      write_doubles(h, "latency_p99_s", s.latency_p99_s, "s");
      write_doubles(h, "utilization", s.utilization, "1");
      write_doubles(h, "queue_depth", s.queue_depth, "requests");
      write_doubles(h, "needed_instances", s.needed_instances, "instances");
      write_doubles(h, "cost_usd", s.cost_usd, "USD");
      write_ints(h, "instances_desired", s.instances_desired, "instances");
      write_ints(h, "instances_pending", s.instances_pending, "instances");
      write_ints(h, "instances_starting", s.instances_starting, "instances");
      write_ints(h, "instances_ready", s.instances_ready, "instances");
      write_ints(h, "instances_draining", s.instances_draining, "instances");
      if (!s.instances_warm_pool.empty()) {
        write_ints(h, "instances_warm_pool", s.instances_warm_pool, "instances");
        write_ints(h, "instances_shadow", s.instances_shadow, "instances");
      }
    }
  }
  {
    Table<EventRec> t(g, "events");
    t.real(RESULTS_FIELD(EventRec, time_s))
        .int32(RESULTS_FIELD(EventRec, instance))
        .int32(RESULTS_FIELD(EventRec, service))
        .text(RESULTS_FIELD(EventRec, transition));
    std::vector<EventRec> rows(r.events.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const EventRow& e = r.events[i];
      rows[i] = {e.time_s, e.instance, e.service, e.transition.c_str()};
    }
    t.write(rows);
  }
  {
    Table<DecisionRec> t(g, "decisions");
    t.real(RESULTS_FIELD(DecisionRec, time_s))
        .int32(RESULTS_FIELD(DecisionRec, service))
        .int32(RESULTS_FIELD(DecisionRec, current))
        .int32(RESULTS_FIELD(DecisionRec, desired))
        .text(RESULTS_FIELD(DecisionRec, metric))
        .real(RESULTS_FIELD(DecisionRec, metric_value))
        .text(RESULTS_FIELD(DecisionRec, rule))
        .text(RESULTS_FIELD(DecisionRec, details));
    std::vector<DecisionRec> rows(r.decisions.size());
    std::vector<double> wall(r.decisions.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const DecisionRow& d = r.decisions[i];
      rows[i] = {d.time_s,         d.service,      d.current,      d.desired,
                 d.metric.c_str(), d.metric_value, d.rule.c_str(), d.details.c_str()};
      wall[i] = d.wall_time_s;
    }
    t.write(rows);
    write_doubles(g, "decisions_wall_time_s", wall, "s");
  }
  if (!r.node_pools.empty()) {  // fixed pools: their nodes over time and the orders they were given
    Node pg = create_group(g, "node_pools");
    for (const auto& p : r.node_pools) {
      Node h = create_group(pg, p.name);
      write_ints(h, "nodes_ready", p.nodes_ready, "nodes");
      write_ints(h, "nodes_starting", p.nodes_starting, "nodes");
      write_ints(h, "nodes_deleting", p.nodes_deleting, "nodes");
    }
    Table<NodeDecisionRec> t(g, "node_decisions");
    t.real(RESULTS_FIELD(NodeDecisionRec, time_s))
        .text(RESULTS_FIELD(NodeDecisionRec, pool))
        .int32(RESULTS_FIELD(NodeDecisionRec, current))
        .int32(RESULTS_FIELD(NodeDecisionRec, desired))
        .text(RESULTS_FIELD(NodeDecisionRec, launched))
        .text(RESULTS_FIELD(NodeDecisionRec, removed))
        .text(RESULTS_FIELD(NodeDecisionRec, rule))
        .text(RESULTS_FIELD(NodeDecisionRec, details));
    std::vector<NodeDecisionRec> rows(r.node_decisions.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const NodeDecisionRow& d = r.node_decisions[i];
      rows[i] = {d.time_s,           d.pool.c_str(),    d.current,      d.desired,
                 d.launched.c_str(), d.removed.c_str(), d.rule.c_str(), d.details.c_str()};
    }
    t.write(rows);
  }
  {  // the SLA per record interval and its violation episodes (sim/analysis/attribution.hpp)
    write_doubles(g, "sla_requests", r.sla_requests, "requests");
    write_doubles(g, "sla_violations", r.sla_violations, "requests");
    std::vector<double> fraction(r.sla_requests.size(), 0.0);
    for (size_t i = 0; i < fraction.size() && i < r.sla_violations.size(); ++i)
      if (r.sla_requests[i] > 0) fraction[i] = r.sla_violations[i] / r.sla_requests[i];
    write_doubles(g, "sla_violation_fraction", fraction, "1");
    Table<EpisodeRec> t(g, "episodes");
    t.real(RESULTS_FIELD(EpisodeRec, start_s))
        .real(RESULTS_FIELD(EpisodeRec, end_s))
        .int32(RESULTS_FIELD(EpisodeRec, service))
        .text(RESULTS_FIELD(EpisodeRec, cause))
        .real(RESULTS_FIELD(EpisodeRec, violation_fraction))
        .real(RESULTS_FIELD(EpisodeRec, peak_shortfall));
    std::vector<EpisodeRec> rows(r.episodes.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const EpisodeRow& e = r.episodes[i];
      rows[i] = {e.start_s, e.end_s, e.service, e.cause.c_str(), e.violation_fraction, e.peak_shortfall};
    }
    t.write(rows);
  }
  std::string joined;
  for (const auto& s : r.services) joined += (joined.empty() ? "" : ",") + s.name;
  attr_string(g, "service_names", joined);
  if (!r.requests.empty()) {
    Table<RequestRec> t(g, "requests");
    t.real(RESULTS_FIELD(RequestRec, arrival_s))
        .real(RESULTS_FIELD(RequestRec, latency_s))
        .real(RESULTS_FIELD(RequestRec, wait_s))
        .flag(RESULTS_FIELD(RequestRec, failed));
    std::vector<RequestRec> rows(r.requests.size());
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] = {r.requests[i].arrival_s, r.requests[i].latency_s, r.requests[i].wait_s,
                 r.requests[i].failed};
    t.write(rows);
  }
}

// H5Literate callback: collects link names. It must not throw through HDF5: an exception is kept and rethrown
// once H5Literate has returned.
struct LinkNames {
  std::vector<std::string> names;
  std::exception_ptr error;
};
herr_t add_link_name(hid_t, const char* name, const H5L_info_t*, void* data) noexcept {
  auto* out = static_cast<LinkNames*>(data);
  try {
    out->names.emplace_back(name);
    return 0;
  } catch (...) {
    out->error = std::current_exception();
    return -1;
  }
}

// The names of a group's links, in creation order.
std::vector<std::string> link_names(const Node& g) {
  LinkNames out;
  hsize_t idx = 0;
  herr_t e = H5Literate(g.id, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, add_link_name, &out);
  if (out.error) std::rethrow_exception(out.error);
  check(e, "H5Literate", g.at);
  return out.names;
}

}  // namespace

void write_run_file(const std::string& path, const RunResult& run) {
  QuietErrors quiet;
  Node f = create_file(path);
  {
    Node runs = create_group(f, "runs");
    write_run(runs, run);
  }
  finish_file(f);
}

void assemble_results(const std::string& path, const FileMeta& meta,
                      const std::vector<std::string>& run_files) {
  QuietErrors quiet;
  write_replacing(path, [&](const std::string& tmp) {
    Node f = create_file(tmp);
    for (const auto& [k, v] : meta.text) attr_string(f, k, v);
    attr_scalar<uint64_t>(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, meta.seed);
    attr_scalar<int32_t>(f, "schema_version", H5T_STD_I32LE, H5T_NATIVE_INT32, kSchemaVersion);
    {
      Node runs = create_group(f, "runs");
      for (const auto& rf : run_files) {
        Where src_at{rf, "/", false};
        Node src{Id(H5Fopen(rf.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen", src_at), src_at};
        Node src_runs = open_group(src, "runs");
        for (const auto& name : link_names(src_runs))
          check(H5Ocopy(src_runs.id, name.c_str(), runs.id, name.c_str(), H5P_DEFAULT, H5P_DEFAULT),
                "H5Ocopy", {tmp, runs.at.child(name).path + " (copied from " + rf + ")", false});
      }
    }
    finish_file(f);
  });
}

namespace {
// A summary metric: a scalar integer (int64) or float (float64) attribute of a run group.
SummaryValue read_metric(const Node& run, const std::string& key) {
  Where at = run.at.attribute(key);
  Id a(H5Aopen(run.id, key.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", at);
  Id space(H5Aget_space(a), H5Sclose, "H5Aget_space", at);
  hssize_t points = H5Sget_simple_extent_npoints(space);
  if (points < 0) fail("H5Sget_simple_extent_npoints", at);
  Id type(H5Aget_type(a), H5Tclose, "H5Aget_type", at);
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_NO_CLASS) fail("H5Tget_class", at);
  if (points != 1 || (cls != H5T_INTEGER && cls != H5T_FLOAT))
    throw InputError(at.file, 0, at.path,
                     "expected a single number (an autoscale result file's summary metric)");
  if (cls == H5T_INTEGER) {
    int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), "H5Aread", at);
    return {key, static_cast<double>(v), true};
  }
  double v = 0;
  check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "H5Aread", at);
  return {key, v, false};
}
}  // namespace

std::vector<StoredRun> read_summaries(const std::string& path) {
  QuietErrors quiet;
  if (access(path.c_str(), R_OK) != 0)
    throw InputError(path, 0, "", "cannot read file (expected an HDF5 result file)");
  Where at{path, "/", true};
  if (!check_tri(H5Fis_hdf5(path.c_str()), "H5Fis_hdf5", at))
    throw InputError(path, 0, "", "not an HDF5 file (expected an autoscale result file)");
  Node f{Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen", at), at};
  if (!check_tri(H5Lexists(f.id, "runs", H5P_DEFAULT), "H5Lexists", at.child("runs"))) {
    if (check_tri(H5Lexists(f.id, "bench", H5P_DEFAULT), "H5Lexists", at.child("bench")))
      throw InputError(
          path, 0, "/runs",
          "this is a bench file (`autoscale bench`): its runs are under /bench/<scenario>/<controller>/"
          "<seed> and its statistics under /bench/<scenario>/stats (results/SCHEMA.md); `tools/report " +
              path + "` writes its HTML report");
    throw InputError(path, 0, "/runs", "no /runs group (expected an autoscale result file)");
  }
  Node runs = open_group(f, "runs");
  std::vector<StoredRun> out;
  for (const auto& name : link_names(runs)) {
    Node g = open_group(runs, name);
    StoredRun r;
    r.name = name;
    for (const auto& k : summary_metric_names())
      if (check_tri(H5Aexists(g.id, k.c_str()), "H5Aexists", g.at.attribute(k)))
        r.summary.push_back(read_metric(g, k));
    out.push_back(std::move(r));
  }
  return out;
}

std::string hdf5_version() {
  unsigned maj = 0, min = 0, rel = 0;
  if (H5get_libversion(&maj, &min, &rel) < 0) throw std::runtime_error("HDF5: H5get_libversion failed");
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

int results_schema_version() {
  return kSchemaVersion;
}

}  // namespace autoscale
