#include "sim/cli/expectations.hpp"

#include <cmath>

#include "sim/core/metrics.hpp"
#include "sim/scenario/key_ranges.hpp"

namespace autoscale {

std::string ExpectationCheck::text() const {
  if (total == 0) return "";
  return failures + "expectations: " + std::to_string(held) + " of " + std::to_string(total) + " hold\n";
}

ExpectationCheck check_expectations(const std::string& file, const std::vector<Expectation>& expectations,
                                    const std::map<std::string, double>& metrics) {
  ExpectationCheck c;
  for (const Expectation& e : expectations) {
    const double actual = metrics.at(e.metric);
    const bool ok = !std::isnan(actual) && expectation_holds(actual, e.op, e.value);
    c.results.push_back({{"line", e.line},
                         {"metric", e.metric},
                         {"op", e.op},
                         {"value", e.value},
                         {"actual", actual},
                         {"ok", ok}});
    ++c.total;
    if (ok)
      ++c.held;
    else
      c.failures += "expectation failed: " + file + ":" + std::to_string(e.line) + ": " + e.metric + " " +
                    e.op + " " + format_number(e.value) + ", actual " + format_number(actual) + "\n";
  }
  return c;
}

}  // namespace autoscale
