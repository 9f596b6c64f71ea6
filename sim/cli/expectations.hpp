#pragma once
// The [[expect]] of a file whose result is a set of named numbers (an RL training, a calibration): each
// checked, reported as JSON and as "expectation failed: file:line: ..." lines.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct ExpectationCheck {
  nlohmann::json results = nlohmann::json::array();  // {line, metric, op, value, actual, ok} each
  std::string failures;                              // one line per failed expectation
  size_t held = 0, total = 0;
  bool ok() const { return held == total; }
  // The failures, then "expectations: H of T hold" (nothing when there are none).
  std::string text() const;
};

// A metric without a value (NaN) holds no expectation.
ExpectationCheck check_expectations(const std::string& file, const std::vector<Expectation>& expectations,
                                    const std::map<std::string, double>& metrics);

}  // namespace autoscale
