#pragma once
// `autoscale forecast-eval` result files (HDF5; layout and units in results/SCHEMA.md, "Forecast evaluation
// files"): the series, every forecaster's forecasts and errors per horizon, the metrics, the worst windows
// and the anomaly detector's events. Written to a temporary name and renamed into place; a failing HDF5 call
// throws std::runtime_error naming the call, the object and the file.
#include <map>
#include <string>

#include "forecasters/eval/evaluation.hpp"

namespace autoscale {

struct ForecastEvalMeta {
  std::map<std::string, std::string> text;  // root string attributes (eval_toml, trace_path, versions, ...)
  std::map<std::string, double> numbers;    // root float64 attributes (step_s, t0_s, ...)
  std::string value_units;                  // the `units` of every value dataset (the trace column's unit)
};

void write_forecast_eval(const std::string& path, const ForecastEvalMeta& meta,
                         const forecast::eval::Series& s, const forecast::eval::Report& r);

}  // namespace autoscale
