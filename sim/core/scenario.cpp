#include "sim/core/scenario.hpp"

#include <stdexcept>

namespace autoscale {

const char* fidelity_name(Fidelity f) {
  switch (f) {
    case Fidelity::fast:
      return "fast";
    case Fidelity::fluid:
      return "fluid";
    default:
      return "exact";
  }
}

// The loader checks every reference, so a miss here is a programming error, not bad input.
const InstanceType& RunSpec::instance_type(const std::string& n) const {
  for (const auto& t : instance_types)
    if (t.name == n) return t;
  throw std::logic_error("unknown instance type " + n);
}

const NodePool& RunSpec::node_pool(const std::string& n) const {
  for (const auto& p : node_pools)
    if (p.name == n) return p;
  throw std::logic_error("unknown node pool " + n);
}

int RunSpec::service_index(const std::string& n) const {
  for (size_t i = 0; i < services.size(); ++i)
    if (services[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace autoscale

namespace autoscale {

int RunSpec::node_pool_index(const std::string& n) const {
  for (size_t i = 0; i < node_pools.size(); ++i)
    if (node_pools[i].name == n) return static_cast<int>(i);
  return -1;
}

}  // namespace autoscale
