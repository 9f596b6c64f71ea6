#pragma once
// The `autoscale` subcommands, as functions returning the process exit status.
#include <optional>
#include <string>
#include <vector>

#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

struct RunArgs {
  std::string scenario;
  std::string out;  // empty: results/<scenario name>.h5
  LoadOptions load;
  bool json = false;
  bool quiet = false;
  int jobs = 0;  // parallel runs; 0: one per core
};

int cmd_run(const RunArgs& args);
int cmd_validate(const std::string& scenario, const LoadOptions& load);
int cmd_inspect(const std::string& file, bool json);
// `autoscale decide`: the decisions go to `out` (written whole through a temporary file) or to stdout.
int cmd_decide(const std::string& controller_file, const std::string& observations_file,
               const std::string& out);
// `autoscale bench forecasters`: fit time and prediction latency of every forecaster kind on a week of
// one-minute steps.
int cmd_bench_forecasters(bool json, bool quiet);
// `instances`: fleet sizes for the cost-against-fleet table (600 000 requests each).
int cmd_bench_engine(bool json, double duration_s, int rounds, bool quiet, const std::vector<int>& instances);

}  // namespace autoscale
