#include "controllers/controller.hpp"

namespace autoscale {

namespace {
struct MetricField {
  const char* name;
  double (*get)(const ServiceObservation&);
};
const MetricField kFields[] = {
    {"cpu_utilization", [](const ServiceObservation& s) { return s.cpu_utilization; }},
    {"arrival_rps", [](const ServiceObservation& s) { return s.arrival_rps; }},
    {"arrival_rps_per_instance",
     [](const ServiceObservation& s) { return s.ready() > 0 ? s.arrival_rps / s.ready() : s.arrival_rps; }},
    {"completed_rps", [](const ServiceObservation& s) { return s.completed_rps; }},
    {"failed_rps", [](const ServiceObservation& s) { return s.failed_rps; }},
    {"error_rate", [](const ServiceObservation& s) { return s.error_rate; }},
    {"concurrency", [](const ServiceObservation& s) { return s.concurrency; }},
    {"queue_depth", [](const ServiceObservation& s) { return s.queue_depth; }},
    {"latency_p95_s", [](const ServiceObservation& s) { return s.latency_p95_s; }},
    {"connections_in_use", [](const ServiceObservation& s) { return s.connections_in_use; }},
};
}  // namespace

const std::vector<std::string>& observation_metric_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : kFields) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

bool observation_metric(const ServiceObservation& s, std::string_view name, double& out) {
  for (const auto& f : kFields)
    if (name == f.name) {
      out = f.get(s);
      return true;
    }
  return false;
}

}  // namespace autoscale
