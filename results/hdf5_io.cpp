// The shared HDF5 helpers of results/ (hdf5_io.hpp).
#include "results/hdf5_io.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "controllers/base/error.hpp"

namespace autoscale::h5io {

namespace {

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

// Dataset creation properties: no modification time; chunked and deflated above 64 KiB.
Id dataset_props(std::size_t n, std::size_t elem, const Where& at) {
  Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_obj_track_times(dcpl, false), "H5Pset_obj_track_times", at);
  if (n * elem > (1u << 16)) {
    hsize_t chunk = std::max<hsize_t>(1, std::min<hsize_t>(n, (1u << 16) / elem + 1));
    check(H5Pset_chunk(dcpl, 1, &chunk), "H5Pset_chunk", at);
    check(H5Pset_deflate(dcpl, 4), "H5Pset_deflate", at);
  }
  return dcpl;
}

}  // namespace

[[noreturn]] void fail(const char* call, const Where& at) {
  std::string detail;
  if (H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, keep_first_description, &detail) < 0) detail.clear();
  std::string what = std::string(call) + " failed" + (detail.empty() ? "" : ": " + detail);
  if (at.reading) throw InputError(at.file, 0, at.path, what + " (expected an autoscale result file)");
  throw std::runtime_error(at.file + ": " + at.path + ": " + what);
}

QuietErrors::QuietErrors() {
  if (H5Eget_auto2(H5E_DEFAULT, &func_, &data_) < 0)
    throw std::runtime_error("HDF5: H5Eget_auto2 failed (reading the error-printing setting)");
  if (H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr) < 0)
    throw std::runtime_error("HDF5: H5Eset_auto2 failed (turning off error printing)");
}

Node create_file(const std::string& path) {
  Where at{path, "/", false};
  Id fcpl(H5Pcreate(H5P_FILE_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  return {Id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, fcpl, H5P_DEFAULT), H5Fclose, "H5Fcreate", at), at};
}

void finish_file(Node& f) {
  check(H5Fflush(f.id, H5F_SCOPE_LOCAL), "H5Fflush", f.at);
  f.id.close("H5Fclose", f.at);
}

void write_replacing(const std::string& path, const std::function<void(const std::string& tmp)>& write) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  try {
    write(tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0)
      throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
}

Node create_group(const Node& parent, const std::string& name, bool track_times) {
  Where at = parent.at.child(name);
  Id gcpl(H5Pcreate(H5P_GROUP_CREATE), H5Pclose, "H5Pcreate", at);
  check(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
        "H5Pset_link_creation_order", at);
  if (!track_times) check(H5Pset_obj_track_times(gcpl, false), "H5Pset_obj_track_times", at);
  return {Id(H5Gcreate2(parent.id, name.c_str(), H5P_DEFAULT, gcpl, H5P_DEFAULT), H5Gclose, "H5Gcreate2", at),
          at};
}

Node open_group(const Node& parent, const std::string& name) {
  Where at = parent.at.child(name);
  return {Id(H5Gopen2(parent.id, name.c_str(), H5P_DEFAULT), H5Gclose, "H5Gopen2", at), at};
}

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

void attr_double(const Node& obj, const std::string& name, double v) {
  attr_scalar<double>(obj, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, v);
}

void attr_int(const Node& obj, const std::string& name, int64_t v) {
  attr_scalar<int64_t>(obj, name, H5T_STD_I64LE, H5T_NATIVE_INT64, v);
}

void write_1d(const Node& parent, const std::string& name, hid_t file_type, hid_t mem_type, const void* data,
              std::size_t n, std::size_t elem, const std::string& units) {
  Where at = parent.at.child(name);
  hsize_t dims = n;
  Id space(H5Screate_simple(1, &dims, nullptr), H5Sclose, "H5Screate_simple", at);
  Id dcpl = dataset_props(n, elem, at);
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

void write_ints(const Node& g, const std::string& name, const std::vector<int32_t>& v,
                const std::string& units) {
  write_1d(g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, v.data(), v.size(), sizeof(int32_t), units);
}

void write_flags(const Node& g, const std::string& name, const std::vector<bool>& v) {
  std::vector<uint8_t> bytes(v.begin(), v.end());
  write_1d(g, name, H5T_STD_U8LE, H5T_NATIVE_UINT8, bytes.data(), bytes.size(), 1, "1");
}

}  // namespace autoscale::h5io
