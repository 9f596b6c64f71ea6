#pragma once
// The call graph of services (Boost.Graph): who calls whom, with what probability and fan-out.
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct CallEdge {
  int to = 0;
  double probability = 1;
  int calls = 1;
  double request_bytes = 1000;
  double response_bytes = 1000;
};

class ServiceGraph {
 public:
  // Throws InputError (file for messages) when an edge names an unknown service or the graph has a cycle.
  ServiceGraph(const RunSpec& run, const std::string& file);
  const std::vector<CallEdge>& calls_from(int service) const { return out_[service]; }
  // Expected number of requests each service receives per request entering `entry` (visit ratio).
  const std::vector<double>& visits() const { return visits_; }
  int entry() const { return entry_; }

 private:
  std::vector<std::vector<CallEdge>> out_;
  std::vector<double> visits_;
  int entry_ = 0;
};

}  // namespace autoscale
