#include "results/hdf5_store.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "controllers/base/error.hpp"

namespace autoscale {

namespace {

constexpr int kSchemaVersion = 1;

// RAII for HDF5 identifiers.
struct Id {
  hid_t id = -1;
  herr_t (*close)(hid_t) = nullptr;
  Id(hid_t i, herr_t (*c)(hid_t)) : id(i), close(c) {
    if (i < 0) throw std::runtime_error("HDF5 call failed");
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id(o.id), close(o.close) { o.id = -1; }
  ~Id() {
    if (id >= 0 && close) close(id);
  }
  operator hid_t() const { return id; }
};

void check(herr_t e, const char* what) {
  if (e < 0) throw std::runtime_error(std::string("HDF5: ") + what + " failed");
}

Id create_group(hid_t parent, const std::string& name) {
  Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "link creation order");
  return Id(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose);
}

void attr_string(hid_t obj, const std::string& name, const std::string& value) {
  Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(type, H5T_VARIABLE), "string type");
  check(H5Tset_cset(type, H5T_CSET_UTF8), "string cset");
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  const char* p = value.c_str();
  check(H5Awrite(a, type, &p), "write string attribute");
}

template <class T>
void attr_scalar(hid_t obj, const std::string& name, hid_t file_type, hid_t mem_type, T v) {
  Id space(H5Screate(H5S_SCALAR), H5Sclose);
  Id a(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  check(H5Awrite(a, mem_type, &v), "write attribute");
}

// Datasets carry no modification times, so equal data gives equal files.
Id dataset_props(size_t n, size_t elem) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  check(H5Pset_obj_track_times(dcpl, false), "track times");
  if (n * elem > (1u << 16)) {
    hsize_t chunk = std::max<hsize_t>(1, std::min<hsize_t>(n, (1u << 16) / elem + 1));
    check(H5Pset_chunk(dcpl, 1, &chunk), "chunk");
    check(H5Pset_deflate(dcpl, 4), "deflate");
  }
  return dcpl;
}

void write_1d(hid_t parent, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
              size_t n, size_t elem, const char* units = nullptr) {
  hsize_t dims = n;
  Id space(H5Screate_simple(1, &dims, nullptr), H5Sclose);
  Id dcpl = dataset_props(n, elem);
  Id ds(H5Dcreate2(parent, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose);
  if (n > 0) check(H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write dataset");
  if (units) attr_string(ds, "units", units);
}

void write_doubles(hid_t g, const std::string& name, const std::vector<double>& v, const char* units) {
  write_1d(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), v.size(), sizeof(double), units);
}
void write_ints(hid_t g, const std::string& name, const std::vector<int32_t>& v, const char* units) {
  write_1d(g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, v.data(), v.size(), sizeof(int32_t), units);
}

Id fixed_string(size_t n) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose);
  check(H5Tset_size(t, n), "string size");
  check(H5Tset_strpad(t, H5T_STR_NULLPAD), "string pad");
  return t;
}

template <size_t N>
void copy_str(char (&dst)[N], const std::string& s) {
  std::memset(dst, 0, N);
  std::memcpy(dst, s.data(), std::min(N, s.size()));
}

struct EventRec {
  double time_s;
  int32_t instance;
  int32_t service;
  char transition[16];
};
struct DecisionRec {
  double time_s;
  int32_t service;
  int32_t current;
  int32_t desired;
  char metric[32];
  double metric_value;
  char rule[48];
};
struct RequestRec {
  double arrival_s;
  double latency_s;
  double wait_s;
  uint8_t failed;
};

template <class Rec>
void write_table(hid_t g, const std::string& name, hid_t type, const std::vector<Rec>& rows) {
  write_1d(g, name, type, type, rows.data(), rows.size(), sizeof(Rec));
}

void write_run(hid_t runs, const RunResult& r) {
  Id g = create_group(runs, r.name);
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
  Id sg = create_group(g, "services");
  for (const auto& s : r.services) {
    Id h = create_group(sg, s.name);
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
  {
    Id t(H5Tcreate(H5T_COMPOUND, sizeof(EventRec)), H5Tclose);
    Id str = fixed_string(16);
    H5Tinsert(t, "time_s", HOFFSET(EventRec, time_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "instance", HOFFSET(EventRec, instance), H5T_NATIVE_INT32);
    H5Tinsert(t, "service", HOFFSET(EventRec, service), H5T_NATIVE_INT32);
    H5Tinsert(t, "transition", HOFFSET(EventRec, transition), str);
    std::vector<EventRec> rows(r.events.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i] = {r.events[i].time_s, r.events[i].instance, r.events[i].service, {}};
      copy_str(rows[i].transition, r.events[i].transition);
    }
    write_table(g, "events", t, rows);
  }
  {
    Id t(H5Tcreate(H5T_COMPOUND, sizeof(DecisionRec)), H5Tclose);
    Id s32 = fixed_string(32), s48 = fixed_string(48);
    H5Tinsert(t, "time_s", HOFFSET(DecisionRec, time_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "service", HOFFSET(DecisionRec, service), H5T_NATIVE_INT32);
    H5Tinsert(t, "current", HOFFSET(DecisionRec, current), H5T_NATIVE_INT32);
    H5Tinsert(t, "desired", HOFFSET(DecisionRec, desired), H5T_NATIVE_INT32);
    H5Tinsert(t, "metric", HOFFSET(DecisionRec, metric), s32);
    H5Tinsert(t, "metric_value", HOFFSET(DecisionRec, metric_value), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "rule", HOFFSET(DecisionRec, rule), s48);
    std::vector<DecisionRec> rows(r.decisions.size());
    std::vector<double> wall(r.decisions.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      const DecisionRow& d = r.decisions[i];
      rows[i] = {d.time_s, d.service, d.current, d.desired, {}, d.metric_value, {}};
      copy_str(rows[i].metric, d.metric);
      copy_str(rows[i].rule, d.rule);
      wall[i] = d.wall_time_s;
    }
    write_table(g, "decisions", t, rows);
    write_doubles(g, "decisions_wall_time_s", wall, "s");
  }
  std::vector<std::string> names;
  for (const auto& s : r.services) names.push_back(s.name);
  std::string joined;
  for (const auto& n : names) joined += (joined.empty() ? "" : ",") + n;
  attr_string(g, "service_names", joined);
  if (!r.requests.empty()) {
    Id t(H5Tcreate(H5T_COMPOUND, sizeof(RequestRec)), H5Tclose);
    H5Tinsert(t, "arrival_s", HOFFSET(RequestRec, arrival_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "latency_s", HOFFSET(RequestRec, latency_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "wait_s", HOFFSET(RequestRec, wait_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "failed", HOFFSET(RequestRec, failed), H5T_NATIVE_UINT8);
    std::vector<RequestRec> rows(r.requests.size());
    for (size_t i = 0; i < rows.size(); ++i)
      rows[i] = {r.requests[i].arrival_s, r.requests[i].latency_s, r.requests[i].wait_s,
                 r.requests[i].failed};
    write_table(g, "requests", t, rows);
  }
}

Id create_file(const std::string& path) {
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose);
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "link creation order");
  return Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose);
}

herr_t collect_name(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

}  // namespace

void write_run_file(const std::string& path, const RunResult& run) {
  Id f = create_file(path);
  Id runs = create_group(f, "runs");
  write_run(runs, run);
}

void assemble_results(const std::string& path, const FileMeta& meta,
                      const std::vector<std::string>& run_files) {
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    {
      Id f = create_file(tmp);
      for (const auto& [k, v] : meta.text) attr_string(f, k, v);
      attr_scalar<uint64_t>(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, meta.seed);
      attr_scalar<int32_t>(f, "schema_version", H5T_STD_I32LE, H5T_NATIVE_INT32, kSchemaVersion);
      Id runs = create_group(f, "runs");
      for (const auto& rf : run_files) {
        Id src(H5Fopen(rf.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
        Id src_runs(H5Gopen2(src, "runs", H5P_DEFAULT), H5Gclose);
        std::vector<std::string> names;
        hsize_t idx = 0;
        H5Literate(src_runs, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_name, &names);
        for (const auto& name : names)
          check(H5Ocopy(src_runs, name.c_str(), runs, name.c_str(), H5P_DEFAULT, H5P_DEFAULT), "copy run");
      }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

namespace {
herr_t collect_attr(hid_t loc, const char* name, const H5A_info_t*, void* data) {
  auto* out = static_cast<Summary*>(data);
  Id a(H5Aopen(loc, name, H5P_DEFAULT), H5Aclose);
  Id type(H5Aget_type(a), H5Tclose);
  H5T_class_t cls = H5Tget_class(type);
  if (cls == H5T_INTEGER) {
    int64_t v = 0;
    check(H5Aread(a, H5T_NATIVE_INT64, &v), "read attribute");
    out->push_back({name, static_cast<double>(v), true});
  } else if (cls == H5T_FLOAT) {
    double v = 0;
    check(H5Aread(a, H5T_NATIVE_DOUBLE, &v), "read attribute");
    out->push_back({name, v, false});
  }
  return 0;
}
herr_t collect_run(hid_t group, const char* name, const H5L_info_t*, void* data) {
  auto* out = static_cast<std::vector<StoredRun>*>(data);
  Id g(H5Gopen2(group, name, H5P_DEFAULT), H5Gclose);
  StoredRun r;
  r.name = name;
  Summary all;
  hsize_t idx = 0;
  H5Aiterate2(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &all);
  // Report the summary metrics in their canonical order, then anything else numeric but the record settings.
  for (const auto& k : summary_metric_names())
    if (const SummaryValue* v = find_metric(all, k)) r.summary.push_back(*v);
  out->push_back(std::move(r));
  return 0;
}
}  // namespace

std::vector<StoredRun> read_summaries(const std::string& path) {
  H5E_auto2_t old_func;
  void* old_data;
  H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  struct Restore {
    H5E_auto2_t f;
    void* d;
    ~Restore() { H5Eset_auto2(H5E_DEFAULT, f, d); }
  } restore{old_func, old_data};
  if (access(path.c_str(), R_OK) != 0)
    throw InputError(path, 0, "", "cannot read file (expected an HDF5 result file)");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path, 0, "", "not an HDF5 file (expected an autoscale result file)");
  hid_t fid = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) throw InputError(path, 0, "", "cannot open HDF5 file");
  Id f(fid, H5Fclose);
  if (H5Lexists(f, "runs", H5P_DEFAULT) <= 0)
    throw InputError(path, 0, "/runs", "no /runs group (expected an autoscale result file)");
  Id runs(H5Gopen2(f, "runs", H5P_DEFAULT), H5Gclose);
  std::vector<StoredRun> out;
  hsize_t idx = 0;
  H5Literate(runs, H5_INDEX_CRT_ORDER, H5_ITER_INC, &idx, collect_run, &out);
  return out;
}

std::string hdf5_version() {
  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  return std::to_string(maj) + "." + std::to_string(min) + "." + std::to_string(rel);
}

}  // namespace autoscale
