#pragma once
// Internal to results/ (the only HDF5 user): the checked HDF5 calls and writers that the result stores share
// (hdf5_store.cpp: run results; forecast_store.cpp: forecast evaluations). Every call is checked; a failure
// throws naming the call, the object (or attribute) and the file, with HDF5's own description of the error:
// std::runtime_error while writing, InputError while reading (a file that is not a result file is bad input).
#include <hdf5.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace autoscale::h5io {

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

[[noreturn]] void fail(const char* call, const Where& at);

inline void check(herr_t e, const char* call, const Where& at) {
  if (e < 0) fail(call, at);
}

inline bool check_tri(htri_t t, const char* call, const Where& at) {
  if (t < 0) fail(call, at);
  return t > 0;
}

// HDF5 prints its error stack on stderr by default; the exceptions thrown here name the call, object and file
// instead. Restored on exit (from a destructor, which has nobody to report a failure to).
class QuietErrors {
 public:
  QuietErrors();
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

// A new file (truncated), its links in creation order; finish_file() flushes and closes it, reporting a
// failure (a full disk shows there). Every object in it must be closed by then, or HDF5 would defer the
// close.
Node create_file(const std::string& path);
void finish_file(Node& f);

// Writes a file through `write(tmp)` at path + ".tmp.<pid>", then renames it to `path`; on failure the
// temporary is removed and nothing is left at `path`.
void write_replacing(const std::string& path, const std::function<void(const std::string& tmp)>& write);

// Groups keep their links in creation order. With track_times false the group carries no modification time.
Node create_group(const Node& parent, const std::string& name, bool track_times);
Node open_group(const Node& parent, const std::string& name);

// Variable-length UTF-8 strings: nothing is cut, whatever the length.
Id vlen_string(const Where& at);

// Scalar attributes.
void attr_string(const Node& obj, const std::string& name, const std::string& value);
template <class T>
void attr_scalar(const Node& obj, const std::string& name, hid_t file_type, hid_t mem_type, T v) {
  Where at = obj.at.attribute(name);
  Id space(H5Screate(H5S_SCALAR), H5Sclose, "H5Screate", at);
  Id a(H5Acreate2(obj.id, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose, "H5Acreate2",
       at);
  check(H5Awrite(a, mem_type, &v), "H5Awrite", at);
}
void attr_double(const Node& obj, const std::string& name, double v);  // float64
void attr_int(const Node& obj, const std::string& name, int64_t v);    // int64

// One-dimensional datasets, chunked and compressed when large, with a `units` attribute unless units is
// empty. Datasets carry no modification times, so equal data gives equal files.
void write_1d(const Node& parent, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
              std::size_t n, std::size_t elem, const std::string& units = "");
// float64, int32, and uint8 flags (units "1").
void write_doubles(const Node& g, const std::string& name, const std::vector<double>& v,
                   const std::string& units);
void write_ints(const Node& g, const std::string& name, const std::vector<int32_t>& v,
                const std::string& units);
void write_flags(const Node& g, const std::string& name, const std::vector<bool>& v);

// A compound table: rows are Rec structs in memory; in the file the fields are packed (no padding bytes),
// little-endian, strings variable-length UTF-8. RESULTS_FIELD(Rec, member) names a field by its member.
#define RESULTS_FIELD(Rec, member) #member, HOFFSET(Rec, member)
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
  Table& real(const char* name, std::size_t offset) {  // double -> float64
    return field(name, offset, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE);
  }
  Table& int64(const char* name, std::size_t offset) {
    return field(name, offset, H5T_NATIVE_INT64, H5T_STD_I64LE);
  }
  Table& int32(const char* name, std::size_t offset) {
    return field(name, offset, H5T_NATIVE_INT32, H5T_STD_I32LE);
  }
  Table& flag(const char* name, std::size_t offset) {  // uint8_t -> uint8
    return field(name, offset, H5T_NATIVE_UINT8, H5T_STD_U8LE);
  }
  Table& text(const char* name, std::size_t offset) {
    return field(name, offset, str_, str_);
  }  // const char*
  void write(const std::vector<Rec>& rows) {
    check(H5Tpack(file_), "H5Tpack", at_);
    write_1d(parent_, name_, file_, mem_, rows.data(), rows.size(), sizeof(Rec));
  }

 private:
  const Node& parent_;
  std::string name_;
  Where at_;
  Id str_, mem_, file_;
};

}  // namespace autoscale::h5io
