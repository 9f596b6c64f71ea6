#pragma once
// Result files (HDF5; layout and units in results/SCHEMA.md). The only HDF5 user. Files are written to a
// temporary name and renamed into place, so a failure never leaves a half-written result. A failing HDF5 call
// throws with the call, the object path and the file in the message: std::runtime_error when writing,
// InputError when reading (a file that is not a result file, or a damaged one, is bad input).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/core/metrics.hpp"

namespace autoscale {

struct FileMeta {
  std::map<std::string, std::string>
      text;  // root string attributes: scenario_toml, scenario_name, versions, ...
  uint64_t seed = 0;
};

// Writes one run as /runs/<name> into a new file at `path` (overwritten).
void write_run_file(const std::string& path, const RunResult& run);

// Assembles the final result file from single-run files (in order): root attributes, then every /runs/<name>
// group copied across. Written as path + ".tmp.<pid>" and renamed.
void assemble_results(const std::string& path, const FileMeta& meta,
                      const std::vector<std::string>& run_files);

struct StoredRun {
  std::string name;
  Summary summary;
};
// The summaries of every run of a result file, in file order (a float metric may be NaN: SCHEMA.md). Throws
// InputError when the file is not a result file or cannot be read.
std::vector<StoredRun> read_summaries(const std::string& path);

std::string hdf5_version();
// The schema_version attribute of the files written here (results/SCHEMA.md).
int results_schema_version();

}  // namespace autoscale
