#include "results/hdf5_store.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <utility>

#include "controllers/base/error.hpp"

namespace autoscale {

namespace {

constexpr int kSchemaVersion = 3;

// Where an HDF5 call acted, for messages: the file, and the object (or attribute) inside it.
struct Where {
  std::string file;
  std::string path;
  bool reading = false;  // a failure while reading is bad input (InputError), while writing an internal error

  Where child(const std::string& name) const {
    return {file, (path == "/" ? "" : path) + "/" + name, reading};
  }
  Where attribute(const std::string& name) const {
    return {file, path + " (attribute " + name + ")", reading};
  }
};

// HDF5 error-stack walker: keeps the most specific description (the first one walking upward). It must not
// throw through HDF5: on failure it stops the walk and the message goes without the detail.
herr_t keep_first_description(unsigned n, const H5E_error2_t* e, void* data) noexcept {
  try {
    if (n == 0 && e->desc) *static_cast<std::string*>(data) = e->desc;
    return 0;
  } catch (...) {
    return -1;
  }
}

[[noreturn]] void fail(const char* call, const Where& at) {
  std::string detail;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first_description, &detail) < 0) detail.clear();
  std::string what = std::string(call) + " failed" + (detail.empty() ? "" : ": " + detail);
  if (at.reading) throw InputError(at.file, 0, at.path, what + " (expected an autoscale result file)");
  throw std::runtime_error(at.file + ": " + at.path + ": " + what);
}

void check(herr_t e, const char* call, const Where& at) {
  if (e < 0) fail(call, at);
}

bool check_tri(htri_t t, const char* call, const Where& at) {
  if (t < 0) fail(call, at);
  return t > 0;
}

// HDF5 prints its error stack on stderr by default; the exceptions thrown here name the call, object and file
// instead. Restored on exit (from a destructor, which has nobody to report a failure to).
class QuietErrors {
 public:
  QuietErrors() {
    if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) < 0)
      throw std::runtime_error("HDF5: H5Eget_auto2 failed (reading the error-printing setting)");
    if (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) < 0)
      throw std::runtime_error("HDF5: H5Eset_auto2 failed (turning off error printing)");
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// RAII for HDF5 identifiers. The destructor's close cannot report a failure; files that are written are
// closed with close(), which does.
class Id {
 public:
  using Close = herr_t (*)(hid_t);
  Id(hid_t id, Close close, const char* call, const Where& at) : id_(id), close_(close) {
    if (id < 0) fail(call, at);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  void close(const char* call, const Where& at) {
    hid_t id = id_;
    id_ = -1;
    check(close_(id), call, at);
  }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  Close close_;
};

// An open file, group or dataset and where it is.
struct Node {
  Id id;
  Where at;
};

Node create_group(const Node& parent, const std::string& name) {
  Where at = parent.at.child(name);
  Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  return {Id(H5Gcreate2(parent.id, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose, "H5Gcreate2", at),
          at};
}

Node open_group(const Node& parent, const std::string& name) {
  Where at = parent.at.child(name);
  return {Id(H5Gopen2(parent.id, name.c_str(), H5P_DEFAULT), H5Gclose, "H5Gopen2", at), at};
}

// Variable-length UTF-8 strings: nothing is cut, whatever the length.
Id vlen_string(const Where& at) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", at);
  check(H5Tset_size(t, H5T_VARIABLE), "H5Tset_size", at);
  check(H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset", at);
  return t;
}

void attr_string(const Node& obj, const std::string& name, const std::string& value) {
  Where at = obj.at.attribute(name);
  Id type = vlen_string(at);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", at);
  Id a(H5Acreate2(obj.id, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "H5Acreate2", at);
  const char* p = value.c_str();
  check(H5Awrite(a, type, &p), "H5Awrite", at);
}

template <class T>
void attr_scalar(const Node& obj, const std::string& name, hid_t file_type, hid_t mem_type, T v) {
  Where at = obj.at.attribute(name);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", at);
  Id a(H5Acreate2(obj.id, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "H5Acreate2",
       at);
  check(H5Awrite(a, mem_type, &v), "H5Awrite", at);
}

// Datasets carry no modification times, so equal data gives equal files.
Id dataset_props(size_t n, size_t elem, const Where& at) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_obj_track_times(dcpl, false), "H5Pset_obj_track_times", at);
  if (n * elem > (1u << 16)) {
    hsize_t chunk = std::max<hsize_t>(1, std::min<hsize_t>(n, (1u << 16) / elem + 1));
    check(H5Pset_chunk(dcpl, 1, &chunk), "H5Pset_chunk", at);
    check(H5Pset_deflate(dcpl, 4), "H5Pset_deflate", at);
  }
  return dcpl;
}

void write_1d(const Node& parent, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
              size_t n, size_t elem, const char* units = nullptr) {
  Where at = parent.at.child(name);
  hsize_t dims = n;
  Id space(H5Screate_simple(1, &dims, nullptr), H5Sclose, "H5Screate_simple", at);
  Id dcpl = dataset_props(n, elem, at);
  Node ds{Id(H5Dcreate2(parent.id, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
             "H5Dcreate2", at),
          at};
  if (n > 0) check(H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "H5Dwrite", at);
  if (units) attr_string(ds, "units", units);
}

void write_doubles(const Node& g, const std::string& name, const std::vector<double>& v, const char* units) {
  write_1d(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), v.size(), sizeof(double), units);
}
void write_ints(const Node& g, const std::string& name, const std::vector<int32_t>& v, const char* units) {
  write_1d(g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, v.data(), v.size(), sizeof(int32_t), units);
}

// A compound table: rows are Rec structs in memory; in the file the fields are packed (no padding bytes) with
// the given file types.
template <class Rec>
class Table {
 public:
  Table(const Node& parent, std::string name)
      : parent_(parent),
        name_(std::move(name)),
        at_(parent.at.child(name_)),
        mem_(H5Tcreate(H5T_COMPOUND, sizeof(Rec)), H5Tclose, "H5Tcreate", at_),
        file_(H5Tcreate(H5T_COMPOUND, sizeof(Rec)), H5Tclose, "H5Tcreate", at_) {}
  Table& field(const char* name, size_t offset, hid_t mem_type, hid_t file_type) {
    check(H5Tinsert(mem_, name, offset, mem_type), "H5Tinsert", at_);
    check(H5Tinsert(file_, name, offset, file_type), "H5Tinsert", at_);
    return *this;
  }
  void write(const std::vector<Rec>& rows) {
    check(H5Tpack(file_), "H5Tpack", at_);
    write_1d(parent_, name_, file_, mem_, rows.data(), rows.size(), sizeof(Rec));
  }
  const Where& at() const { return at_; }

 private:
  const Node& parent_;
  std::string name_;
  Where at_;
  Id mem_, file_;
};

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
      attr_scalar<int64_t>(g, v.key, H5T_STD_I64LE, H5T_NATIVE_INT64, static_cast<int64_t>(v.value));
    else
      attr_scalar<double>(g, v.key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.value);
  }
  attr_string(g, "config_toml", r.config_toml);
  attr_scalar<double>(g, "record_interval_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, r.record_interval_s);
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
    }
  }
  {
    Table<EventRec> t(g, "events");
    Id str = vlen_string(t.at());
    t.field("time_s", HOFFSET(EventRec, time_s), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("instance", HOFFSET(EventRec, instance), H5T_NATIVE_INT32, H5T_STD_I32LE)
        .field("service", HOFFSET(EventRec, service), H5T_NATIVE_INT32, H5T_STD_I32LE)
        .field("transition", HOFFSET(EventRec, transition), str, str);
    std::vector<EventRec> rows(r.events.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const EventRow& e = r.events[i];
      rows[i] = {e.time_s, e.instance, e.service, e.transition.c_str()};
    }
    t.write(rows);
  }
  {
    Table<DecisionRec> t(g, "decisions");
    Id str = vlen_string(t.at());
    t.field("time_s", HOFFSET(DecisionRec, time_s), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("service", HOFFSET(DecisionRec, service), H5T_NATIVE_INT32, H5T_STD_I32LE)
        .field("current", HOFFSET(DecisionRec, current), H5T_NATIVE_INT32, H5T_STD_I32LE)
        .field("desired", HOFFSET(DecisionRec, desired), H5T_NATIVE_INT32, H5T_STD_I32LE)
        .field("metric", HOFFSET(DecisionRec, metric), str, str)
        .field("metric_value", HOFFSET(DecisionRec, metric_value), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("rule", HOFFSET(DecisionRec, rule), str, str)
        .field("details", HOFFSET(DecisionRec, details), str, str);
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
  std::string joined;
  for (const auto& s : r.services) joined += (joined.empty() ? "" : ",") + s.name;
  attr_string(g, "service_names", joined);
  if (!r.requests.empty()) {
    Table<RequestRec> t(g, "requests");
    t.field("arrival_s", HOFFSET(RequestRec, arrival_s), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("latency_s", HOFFSET(RequestRec, latency_s), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("wait_s", HOFFSET(RequestRec, wait_s), H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE)
        .field("failed", HOFFSET(RequestRec, failed), H5T_NATIVE_UINT8, H5T_STD_U8LE);
    std::vector<RequestRec> rows(r.requests.size());
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] = {r.requests[i].arrival_s, r.requests[i].latency_s, r.requests[i].wait_s,
                 r.requests[i].failed};
    t.write(rows);
  }
}

Node create_file(const std::string& path) {
  Where at{path, "/", false};
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  return {Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose, "H5Fcreate", at), at};
}

// Flushes and closes a written file, reporting a failure (a full disk shows here). Every object in it must be
// closed already, or HDF5 would defer the close.
void finish_file(Node& f) {
  check(H5Fflush(f.id, H5F_SCOPE_LOCAL), "H5Fflush", f.at);
  f.id.close("H5Fclose", f.at);
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
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
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
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
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
  if (!check_tri(H5Lexists(f.id, "runs", H5P_DEFAULT), "H5Lexists", at.child("runs")))
    throw InputError(path, 0, "/runs", "no /runs group (expected an autoscale result file)");
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

}  // namespace autoscale
