#include "results/bench_part.hpp"

#include <unistd.h>

#include "controllers/base/error.hpp"
#include "results/hdf5_io.hpp"

namespace autoscale {

using namespace h5io;

std::map<std::string, std::string> read_part_attributes(const std::string& path,
                                                        const std::vector<std::string>& keys) {
  QuietErrors quiet;
  if (access(path.c_str(), R_OK) != 0)
    throw InputError(path, 0, "",
                     "cannot read file (expected a bench part written by autoscale bench --chunk)");
  Where at{path, "/", true};
  if (!check_tri(H5Fis_hdf5(path.c_str()), "H5Fis_hdf5", at))
    throw InputError(path, 0, "",
                     "not an HDF5 file (expected a bench part written by autoscale bench --chunk)");
  Node f{Id(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, "H5Fopen", at), at};
  std::map<std::string, std::string> out;
  for (const std::string& key : keys) {
    Where a_at = at.attribute(key);
    if (!check_tri(H5Aexists(f.id, key.c_str()), "H5Aexists", a_at))
      throw InputError(
          path, 0, key,
          "a root attribute '" + key + "' (expected a bench part written by autoscale bench --chunk)");
    Id a(H5Aopen(f.id, key.c_str(), H5P_DEFAULT), H5Aclose, "H5Aopen", a_at);
    Id type = vlen_string(a_at);
    char* text = nullptr;
    check(H5Aread(a, type, &text), "H5Aread", a_at);
    out[key] = text != nullptr ? text : "";
    H5free_memory(text);
  }
  return out;
}

}  // namespace autoscale
