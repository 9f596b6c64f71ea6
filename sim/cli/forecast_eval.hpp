#pragma once
// `autoscale forecast-eval EVAL.toml`: rolling-origin evaluation of forecasters on a trace (README.md,
// "Forecast evaluation"; the file's keys under "Scenario file reference").
#include <string>

namespace autoscale {

struct ForecastEvalArgs {
  std::string eval_file;
  std::string out;  // empty: results/<EVAL file stem>.h5
  bool json = false;
  bool quiet = false;
};

int cmd_forecast_eval(const ForecastEvalArgs& args);
// `autoscale validate` of an evaluation file: the file, its trace, labels and forecaster sections, not run.
int cmd_validate_forecast_eval(const std::string& file);

}  // namespace autoscale
