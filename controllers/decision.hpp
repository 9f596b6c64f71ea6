#pragma once
// What a controller answers: desired instance counts, with the reason, as data.
#include <string>
#include <vector>

namespace autoscale {

struct ServiceDecision {
  std::string service;
  int desired = 0;
  std::string metric;  // the metric that drove the decision ("" when none)
  double metric_value = 0;
  std::string rule;  // the rule that produced or limited the decision, e.g. "scale_out_above", "cooldown"
};

struct Decision {
  std::vector<ServiceDecision> services;  // services left out keep their desired count
};

}  // namespace autoscale
