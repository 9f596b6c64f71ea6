// The HDF5 result store: strings of any length and NaN round-trip; a damaged or foreign file is bad input
// naming the file; a failing HDF5 call names the call, the object and the file. Strings are read back with
// the HDF5 C API, as any reader of the schema would, not with the store's own code.
#include <hdf5.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"
#include "results/hdf5_store.hpp"

using namespace autoscale;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("autoscale_hdf5_test_" + std::to_string(getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

// 200 characters with no repeat shorter than 37, so a cut or shifted string cannot compare equal.
std::string long_string(const std::string& prefix) {
  std::string s = prefix;
  for (int i = 0; s.size() < 200; ++i) s += static_cast<char>('a' + (i * 7) % 26) + std::to_string(i % 37);
  s.resize(200);
  return s;
}

RunResult sample_run() {
  RunResult r;
  r.name = "reactive";
  r.config_toml = "duration_s = 120\n";
  r.record_interval_s = 60;
  r.time_s = {60, 120};
  r.cost_usd = {0.5, 1.0};
  ServiceSeries web;
  web.name = "web";
  web.arrival_rps = web.completed_rps = web.failed_rps = {1, 2};
  web.latency_p50_s = web.latency_p95_s = web.latency_p99_s = {0.1, std::numeric_limits<double>::quiet_NaN()};
  web.utilization = web.queue_depth = web.needed_instances = web.cost_usd = {0, 0};
  web.instances_desired = web.instances_pending = web.instances_starting = web.instances_ready =
      web.instances_draining = {1, 1};
  r.services = {web};
  r.events = {{30.0, 0, 0, long_string("state_")}};
  r.decisions = {
      {60.0, 0, 1, 2, long_string("metric_"), 0.75, long_string("rule_"), long_string("details_"), 1e-6},
      {120.0, 0, 2, 2, "cpu_utilization", 0.5, "within_bounds", "", 1e-6}};
  r.summary = {{"requests_total", 180, true},
               {"latency_p95_s", 0.25, false},
               {"latency_p95_during_scaling_s", std::numeric_limits<double>::quiet_NaN(), false}};
  return r;
}

// What `autoscale run` does: one single-run file, assembled into the result file.
std::string write_result(const TempDir& dir, const RunResult& r) {
  std::string single = dir.file("run-0.h5"), out = dir.file("result.h5");
  write_run_file(single, r);
  FileMeta meta;
  meta.text = {{"scenario_name", "test"}};
  meta.seed = 3;
  assemble_results(out, meta, {single});
  return out;
}

// One string field of a table, read as a variable-length string; checks that the file stores it as one.
std::vector<std::string> read_strings(const std::string& file, const char* table, const char* field) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t ds = H5Dopen2(f, table, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  hid_t stored = H5Dget_type(ds);
  int index = H5Tget_member_index(stored, field);
  REQUIRE(index >= 0);
  hid_t member = H5Tget_member_type(stored, static_cast<unsigned>(index));
  CHECK(H5Tis_variable_str(member) > 0);
  hid_t str = H5Tcopy(H5T_C_S1);
  REQUIRE(H5Tset_size(str, H5T_VARIABLE) >= 0);
  REQUIRE(H5Tset_cset(str, H5T_CSET_UTF8) >= 0);
  hid_t mem = H5Tcreate(H5T_COMPOUND, sizeof(char*));
  REQUIRE(H5Tinsert(mem, field, 0, str) >= 0);
  hid_t space = H5Dget_space(ds);
  std::vector<char*> rows(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  REQUIRE(H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows.data()) >= 0);
  std::vector<std::string> out(rows.begin(), rows.end());
  REQUIRE(H5Dvlen_reclaim(mem, space, H5P_DEFAULT, rows.data()) >= 0);
  for (hid_t t : {member, str, mem, stored}) H5Tclose(t);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return out;
}

std::vector<double> read_doubles(const std::string& file, const char* dataset) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  REQUIRE(f >= 0);
  hid_t ds = H5Dopen2(f, dataset, H5P_DEFAULT);
  REQUIRE(ds >= 0);
  hid_t space = H5Dget_space(ds);
  std::vector<double> v(static_cast<size_t>(H5Sget_simple_extent_npoints(space)));
  REQUIRE(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
  H5Sclose(space);
  H5Dclose(ds);
  H5Fclose(f);
  return v;
}

std::string input_error(const std::string& file) {
  try {
    read_summaries(file);
  } catch (const InputError& e) {
    CHECK(e.file() == file);
    return e.what();
  }
  FAIL("read_summaries(" << file << ") did not throw InputError");
  return "";
}

}  // namespace

TEST_CASE("decision and event strings of 200 characters are stored whole", "[hdf5]") {
  TempDir dir;
  RunResult r = sample_run();
  std::string out = write_result(dir, r);
  std::vector<std::string> metrics = read_strings(out, "/runs/reactive/decisions", "metric");
  std::vector<std::string> rules = read_strings(out, "/runs/reactive/decisions", "rule");
  REQUIRE(metrics.size() == 2);
  REQUIRE(rules.size() == 2);
  CHECK(metrics[0] == r.decisions[0].metric);
  CHECK(rules[0] == r.decisions[0].rule);
  CHECK(rules[0].size() == 200);
  CHECK(metrics[1] == "cpu_utilization");
  CHECK(rules[1] == "within_bounds");
  std::vector<std::string> details = read_strings(out, "/runs/reactive/decisions", "details");
  CHECK(details == std::vector<std::string>{r.decisions[0].details, ""});
  CHECK(read_strings(out, "/runs/reactive/events", "transition") ==
        std::vector<std::string>{r.events[0].transition});
  // Nothing but the result file is left behind (no temporary file).
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
}

TEST_CASE("summaries read back as written, NaN included", "[hdf5]") {
  TempDir dir;
  std::string out = write_result(dir, sample_run());
  std::vector<StoredRun> runs = read_summaries(out);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].name == "reactive");
  // In the canonical order of summary_metric_names(), whatever the order written.
  REQUIRE(runs[0].summary.size() == 3);
  CHECK(runs[0].summary[0].key == "requests_total");
  CHECK(runs[0].summary[0].value == 180);
  CHECK(runs[0].summary[0].integer);
  CHECK(runs[0].summary[1].key == "latency_p95_s");
  CHECK(runs[0].summary[1].value == 0.25);
  CHECK_FALSE(runs[0].summary[1].integer);
  CHECK(runs[0].summary[2].key == "latency_p95_during_scaling_s");
  CHECK(std::isnan(runs[0].summary[2].value));
  // A NaN in a time series survives too.
  std::vector<double> p95 = read_doubles(out, "/runs/reactive/services/web/latency_p95_s");
  REQUIRE(p95.size() == 2);
  CHECK(p95[0] == 0.1);
  CHECK(std::isnan(p95[1]));
}

TEST_CASE("a damaged or foreign file is bad input naming the file", "[hdf5]") {
  TempDir dir;
  std::string garbage = dir.file("garbage.h5");
  std::ofstream(garbage) << std::string(4096, 'x');
  CHECK_THAT(input_error(garbage), Catch::Contains(garbage) && Catch::Contains("not an HDF5 file"));

  // A result file cut in half: the HDF5 signature is there, the rest is not.
  std::string out = write_result(dir, sample_run());
  fs::resize_file(out, fs::file_size(out) / 2);
  CHECK_THAT(input_error(out),
             Catch::Contains(out) && Catch::Contains("H5Fopen failed") && Catch::Contains("truncated"));

  // An HDF5 file that is not ours.
  std::string foreign = dir.file("foreign.h5");
  hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(f >= 0);
  H5Fclose(f);
  CHECK_THAT(input_error(foreign), Catch::Contains(foreign) && Catch::Contains("no /runs group"));
}

TEST_CASE("a failing HDF5 call names the call, the object and the file", "[hdf5]") {
  TempDir dir;
  RunResult r = sample_run();
  r.services.push_back(r.services[0]);  // two services named web: the second group cannot be created
  std::string file = dir.file("dup.h5");
  CHECK_THROWS_WITH(write_run_file(file, r), Catch::Contains("H5Gcreate2 failed") &&
                                                 Catch::Contains("/runs/reactive/services/web") &&
                                                 Catch::Contains(file));
}
