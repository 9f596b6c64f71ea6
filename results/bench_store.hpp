#pragma once
// The result file of `autoscale bench` (layout in results/SCHEMA.md): every run's group (as /runs/<name> of a
// single-run file) copied to /bench/<scenario>/<controller>/<seed>, and per scenario its statistics under
// /bench/<scenario>/stats. Written to a temporary name and renamed into place.
#include <cstdint>
#include <string>
#include <vector>

#include "results/hdf5_store.hpp"
#include "sim/bench/stats.hpp"

namespace autoscale {

struct BenchRunFile {
  std::string file;   // a single-run file (write_run_file)
  std::string run;    // the run's name in it (/runs/<run>)
  std::string group;  // where its run goes: /bench/<scenario>/<controller>/<seed>
};

struct BenchTable {
  std::string scenario;
  std::vector<std::string> controllers, metrics;
  std::vector<std::uint64_t> seeds;
  std::vector<std::vector<std::vector<double>>> values;   // [controller][metric][seed]
  std::vector<std::vector<bench::Interval>> stats;        // [controller][metric]
  std::vector<std::vector<bench::Interval>> vs_baseline;  // [controller][metric]; empty rows: no baseline
  std::vector<std::vector<int>> ranks;                    // [metric][controller]
  std::vector<std::string> pareto;
};

void write_bench_file(const std::string& path, const FileMeta& meta, const std::vector<BenchRunFile>& runs,
                      const std::vector<BenchTable>& tables);

}  // namespace autoscale
