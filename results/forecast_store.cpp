// Forecast evaluation files (forecast_store.hpp; layout in results/SCHEMA.md).
#include "results/forecast_store.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace autoscale {

namespace {

namespace ev = forecast::eval;

constexpr int kSchemaVersion = 1;

// Every call is checked; a failure names the call, the object and the file.
struct At {
  std::string file, path;
  At child(const std::string& name) const { return {file, (path == "/" ? "" : path) + "/" + name}; }
};

[[noreturn]] void fail(const char* call, const At& at) {
  throw std::runtime_error(at.file + ": " + at.path + ": " + call + " failed");
}

void check(herr_t e, const char* call, const At& at) {
  if (e < 0) fail(call, at);
}

class Id {
 public:
  using Close = herr_t (*)(hid_t);
  Id(hid_t id, Close close, const char* call, const At& at) : id_(id), close_(close) {
    if (id < 0) fail(call, at);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  Id(Id&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  void close(const char* call, const At& at) {
    hid_t id = id_;
    id_ = -1;
    check(close_(id), call, at);
  }
  operator hid_t() const { return id_; }

 private:
  hid_t id_;
  Close close_;
};

// HDF5's own error printing is off while writing: the exceptions say what failed.
class QuietErrors {
 public:
  QuietErrors() {
    if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) < 0 || H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) < 0)
      throw std::runtime_error("HDF5: cannot turn off error printing");
  }
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;
  ~QuietErrors() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

struct Node {
  Id id;
  At at;
};

// Objects carry no modification times, so equal data gives equal files; links keep their creation order.
Node group(const Node& parent, const std::string& name) {
  At at = parent.at.child(name);
  Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  check(H5Pset_obj_track_times(gcpl, false), "H5Pset_obj_track_times", at);
  return {Id(H5Gcreate2(parent.id, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose, "H5Gcreate2", at),
          at};
}

Id vlen_string(const At& at) {
  Id t(H5Tcopy(H5T_C_S1), H5Tclose, "H5Tcopy", at);
  check(H5Tset_size(t, H5T_VARIABLE), "H5Tset_size", at);
  check(H5Tset_cset(t, H5T_CSET_UTF8), "H5Tset_cset", at);
  return t;
}

void attr_string(const Node& obj, const std::string& name, const std::string& value) {
  At at = obj.at.child("@" + name);
  Id type = vlen_string(at);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", at);
  Id a(H5Acreate2(obj.id, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "H5Acreate2", at);
  const char* p = value.c_str();
  check(H5Awrite(a, type, &p), "H5Awrite", at);
}

template <class T>
void attr_scalar(const Node& obj, const std::string& name, hid_t file_type, hid_t mem_type, T v) {
  At at = obj.at.child("@" + name);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", at);
  Id a(H5Acreate2(obj.id, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "H5Acreate2",
       at);
  check(H5Awrite(a, mem_type, &v), "H5Awrite", at);
}
void attr_double(const Node& obj, const std::string& name, double v) {
  attr_scalar<double>(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v);
}
void attr_int(const Node& obj, const std::string& name, int64_t v) {
  attr_scalar<int64_t>(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v);
}

// A one-dimensional dataset, chunked and compressed when large.
void write_1d(const Node& parent, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
              std::size_t n, std::size_t elem, const std::string& units) {
  At at = parent.at.child(name);
  hsize_t dims = n;
  Id space(H5Screate_simple(1, &dims, nullptr), H5Sclose, "H5Screate_simple", at);
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_obj_track_times(dcpl, false), "H5Pset_obj_track_times", at);
  if (n * elem > (1u << 16)) {
    hsize_t chunk = std::min<hsize_t>(n, (1u << 16) / elem + 1);
    check(H5Pset_chunk(dcpl, 1, &chunk), "H5Pset_chunk", at);
    check(H5Pset_deflate(dcpl, 4), "H5Pset_deflate", at);
  }
  Node ds{Id(H5Dcreate2(parent.id, name.c_str(), file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), H5Dclose,
             "H5Dcreate2", at),
          at};
  if (n > 0) check(H5Dwrite(ds.id, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "H5Dwrite", at);
  if (!units.empty()) attr_string(ds, "units", units);
}

void write_doubles(const Node& g, const std::string& name, const std::vector<double>& v,
                   const std::string& units) {
  write_1d(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v.data(), v.size(), sizeof(double), units);
}

void write_flags(const Node& g, const std::string& name, const std::vector<bool>& v) {
  std::vector<uint8_t> bytes(v.begin(), v.end());
  write_1d(g, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, bytes.data(), bytes.size(), 1, "1");
}

// A compound table of Rec rows; in the file the fields are packed, little-endian.
template <class Rec>
class Table {
 public:
  Table(const Node& parent, std::string name)
      : parent_(parent),
        name_(std::move(name)),
        at_(parent.at.child(name_)),
        str_(vlen_string(at_)),
        mem_(H5Tcreate(H5T_COMPOUND, sizeof(Rec)), H5Tclose, "H5Tcreate", at_),
        file_(H5Tcreate(H5T_COMPOUND, sizeof(Rec)), H5Tclose, "H5Tcreate", at_) {}
  Table& field(const char* name, std::size_t offset, hid_t mem_type, hid_t file_type) {
    check(H5Tinsert(mem_, name, offset, mem_type), "H5Tinsert", at_);
    check(H5Tinsert(file_, name, offset, file_type), "H5Tinsert", at_);
    return *this;
  }
  Table& real(const char* name, std::size_t offset) {
    return field(name, offset, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
  }
  Table& integer(const char* name, std::size_t offset) {
    return field(name, offset, H5T_NATIVE_INT64, H5T_STD_I64LE);
  }
  Table& flag(const char* name, std::size_t offset) {
    return field(name, offset, H5T_NATIVE_UINT8, H5T_STD_U8LE);
  }
  Table& text(const char* name, std::size_t offset) { return field(name, offset, str_, str_); }
  void write(const std::vector<Rec>& rows) {
    check(H5Tpack(file_), "H5Tpack", at_);
    write_1d(parent_, name_, file_, mem_, rows.data(), rows.size(), sizeof(Rec), "");
  }

 private:
  const Node& parent_;
  std::string name_;
  At at_;
  Id str_, mem_, file_;
};

// A horizon's group name: its effective horizon in seconds ("900", "1800", "0.5").
std::string seconds_name(double s) {
  char buf[64];
  if (s == std::floor(s) && std::fabs(s) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", s);
  else
    std::snprintf(buf, sizeof buf, "%.17g", s);
  return buf;
}

struct ResultRec {
  const char* forecaster;
  const char* kind;
  double horizon_s;
  int64_t horizon_steps, n;
  double mae, rmse, smape, mase, pinball, coverage_80, width_80, bias;
  double under_forecast_fraction, under_forecast_mae, over_forecast_fraction, over_forecast_mae;
  double burst_fraction, mae_burst, mae_calm;
};
struct BestRec {
  double horizon_s;
  int64_t horizon_steps;
  const char* forecaster;
  double mae;
  const char* baseline;
  double baseline_mae, mae_ratio, coverage_80;
};
struct WindowRec {
  double start_s, end_s;
  int64_t n;
  double mae, mean_actual, mean_forecast;
};
struct EventRec {
  double start_s, end_s;
  uint8_t labelled;
};
struct LabelRec {
  double start_s, end_s;
  uint8_t evaluated, detected;
};

#define FIELD(Rec, f) #f, HOFFSET(Rec, f)

void write_results(const Node& root, const ev::Series& s, const ev::Report& r) {
  std::vector<ResultRec> rows;
  for (const auto& f : r.forecasters)
    for (const auto& h : f.horizons) {
      const ev::Metrics& m = h.metrics;
      rows.push_back({f.name.c_str(),
                      f.kind.c_str(),
                      h.forecasts.horizon_steps * s.step_s,
                      h.forecasts.horizon_steps,
                      static_cast<int64_t>(m.n),
                      m.mae,
                      m.rmse,
                      m.smape,
                      m.mase,
                      m.pinball,
                      m.coverage_80,
                      m.width_80,
                      m.bias,
                      m.under_forecast_fraction,
                      m.under_forecast_mae,
                      m.over_forecast_fraction,
                      m.over_forecast_mae,
                      m.burst_fraction,
                      m.mae_burst,
                      m.mae_calm});
    }
  Table<ResultRec> t(root, "results");
  t.text(FIELD(ResultRec, forecaster))
      .text(FIELD(ResultRec, kind))
      .real(FIELD(ResultRec, horizon_s))
      .integer(FIELD(ResultRec, horizon_steps))
      .integer(FIELD(ResultRec, n))
      .real(FIELD(ResultRec, mae))
      .real(FIELD(ResultRec, rmse))
      .real(FIELD(ResultRec, smape))
      .real(FIELD(ResultRec, mase))
      .real(FIELD(ResultRec, pinball))
      .real(FIELD(ResultRec, coverage_80))
      .real(FIELD(ResultRec, width_80))
      .real(FIELD(ResultRec, bias))
      .real(FIELD(ResultRec, under_forecast_fraction))
      .real(FIELD(ResultRec, under_forecast_mae))
      .real(FIELD(ResultRec, over_forecast_fraction))
      .real(FIELD(ResultRec, over_forecast_mae))
      .real(FIELD(ResultRec, burst_fraction))
      .real(FIELD(ResultRec, mae_burst))
      .real(FIELD(ResultRec, mae_calm));
  t.write(rows);

  std::vector<BestRec> best;
  for (const auto& b : r.best)
    best.push_back({b.horizon_steps * s.step_s, b.horizon_steps, b.forecaster.c_str(), b.mae,
                    b.baseline.c_str(), b.baseline_mae, b.ratio, b.coverage_80});
  Table<BestRec> bt(root, "best");
  bt.real(FIELD(BestRec, horizon_s))
      .integer(FIELD(BestRec, horizon_steps))
      .text(FIELD(BestRec, forecaster))
      .real(FIELD(BestRec, mae))
      .text(FIELD(BestRec, baseline))
      .real(FIELD(BestRec, baseline_mae))
      .real(FIELD(BestRec, mae_ratio))
      .real(FIELD(BestRec, coverage_80));
  bt.write(best);
}

void write_horizon(const Node& parent, const ev::Series& s, const ev::HorizonResult& h,
                   const std::string& units) {
  const ev::HorizonForecasts& f = h.forecasts;
  Node g = group(parent, seconds_name(f.horizon_steps * s.step_s));
  attr_double(g, "horizon_s", f.horizon_steps * s.step_s);
  attr_int(g, "horizon_steps", f.horizon_steps);
  const ev::Metrics& m = h.metrics;
  for (const auto& [k, v] :
       std::vector<std::pair<const char*, double>>{{"mae", m.mae},
                                                   {"rmse", m.rmse},
                                                   {"smape", m.smape},
                                                   {"mase", m.mase},
                                                   {"pinball", m.pinball},
                                                   {"coverage_80", m.coverage_80},
                                                   {"width_80", m.width_80},
                                                   {"bias", m.bias},
                                                   {"under_forecast_fraction", m.under_forecast_fraction},
                                                   {"under_forecast_mae", m.under_forecast_mae},
                                                   {"over_forecast_fraction", m.over_forecast_fraction},
                                                   {"over_forecast_mae", m.over_forecast_mae},
                                                   {"burst_fraction", m.burst_fraction},
                                                   {"mae_burst", m.mae_burst},
                                                   {"mae_calm", m.mae_calm}})
    attr_double(g, k, v);
  std::vector<double> time(f.target.size()), error(f.target.size());
  for (std::size_t i = 0; i < f.target.size(); ++i) {
    time[i] = s.time(f.target[i]);
    error[i] = f.actual[i] - f.p50[i];
  }
  write_doubles(g, "target_time_s", time, "s");
  write_doubles(g, "actual", f.actual, units);
  write_doubles(g, "p10", f.p10, units);
  write_doubles(g, "p50", f.p50, units);
  write_doubles(g, "p90", f.p90, units);
  write_doubles(g, "error", error, units);
  std::vector<WindowRec> rows;
  for (const auto& w : h.worst)
    rows.push_back(
        {s.time(w.first), s.time(w.end), static_cast<int64_t>(w.n), w.mae, w.mean_actual, w.mean_forecast});
  Table<WindowRec> t(g, "worst_windows");
  t.real(FIELD(WindowRec, start_s))
      .real(FIELD(WindowRec, end_s))
      .integer(FIELD(WindowRec, n))
      .real(FIELD(WindowRec, mae))
      .real(FIELD(WindowRec, mean_actual))
      .real(FIELD(WindowRec, mean_forecast));
  t.write(rows);
}

void write_anomaly(const Node& root, const ev::Series& s, const ev::Report& r) {
  const ev::AnomalyResult& a = r.anomaly;
  Node g = group(root, "anomaly");
  attr_string(g, "forecaster", a.forecaster);
  attr_double(g, "horizon_s", a.horizon_steps * s.step_s);
  attr_int(g, "k_steps", a.k);
  attr_int(g, "labelled", a.labelled ? 1 : 0);
  const ev::Detection& d = a.detection;
  attr_double(g, "precision", d.precision);
  attr_double(g, "recall", d.recall);
  attr_double(g, "f1", d.f1);
  attr_int(g, "windows", static_cast<int64_t>(d.windows));
  attr_int(g, "windows_detected", static_cast<int64_t>(d.windows_detected));
  attr_int(g, "true_events", static_cast<int64_t>(d.true_events));
  write_flags(g, "alarm", a.alarms);
  std::vector<EventRec> events;
  for (std::size_t i = 0; i < a.events.size(); ++i)
    events.push_back({s.time(a.events[i].first), s.time(a.events[i].last) + s.step_s,
                      static_cast<uint8_t>(a.labelled && d.event_true.at(i))});
  Table<EventRec> et(g, "events");
  et.real(FIELD(EventRec, start_s)).real(FIELD(EventRec, end_s)).flag(FIELD(EventRec, labelled));
  et.write(events);
  std::vector<LabelRec> labels;
  for (std::size_t i = 0; i < a.labels.size(); ++i)
    labels.push_back({a.labels[i].start_s, a.labels[i].end_s,
                      static_cast<uint8_t>(i < d.window_evaluated.size() && d.window_evaluated[i]),
                      static_cast<uint8_t>(i < d.window_detected.size() && d.window_detected[i])});
  Table<LabelRec> lt(g, "labels");
  lt.real(FIELD(LabelRec, start_s))
      .real(FIELD(LabelRec, end_s))
      .flag(FIELD(LabelRec, evaluated))
      .flag(FIELD(LabelRec, detected));
  lt.write(labels);
}

#undef FIELD

void write_file(const std::string& path, const ForecastEvalMeta& meta, const ev::Series& s,
                const ev::Report& r) {
  At at{path, "/"};
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  Node f{Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose, "H5Fcreate", at), at};
  {
    attr_string(f, "file_kind", "forecast_eval");
    attr_int(f, "schema_version", kSchemaVersion);
    for (const auto& [k, v] : meta.text) attr_string(f, k, v);
    for (const auto& [k, v] : meta.numbers) attr_double(f, k, v);
    attr_double(f, "mase_scale", r.mase_scale);
    {
      Node g = group(f, "series");
      std::vector<double> time(s.values.size());
      for (std::size_t i = 0; i < time.size(); ++i) time[i] = s.time(i);
      write_doubles(g, "time_s", time, "s");
      write_doubles(g, "actual", s.values, meta.value_units);
      write_flags(g, "burst", r.burst);
    }
    write_results(f, s, r);
    {
      Node g = group(f, "forecasters");
      for (const auto& fr : r.forecasters) {
        Node fg = group(g, fr.name);
        attr_string(fg, "kind", fr.kind);
        for (const auto& h : fr.horizons) write_horizon(fg, s, h, meta.value_units);
      }
    }
    write_anomaly(f, s, r);
  }
  check(H5Fflush(f.id, H5F_SCOPE_LOCAL), "H5Fflush", at);
  f.id.close("H5Fclose", at);
}

}  // namespace

void write_forecast_eval(const std::string& path, const ForecastEvalMeta& meta, const ev::Series& s,
                         const ev::Report& r) {
  QuietErrors quiet;
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    write_file(tmp, meta, s, r);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

}  // namespace autoscale
