#pragma once
// A quantile of a service's startup sample (ControllerContext::startup_samples_s), for controllers that plan
// ahead by the time a launch takes.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace autoscale {

// The q-quantile of `sorted` (ascending) by the nearest-rank rule: the smallest value with at least q x n
// values at or below it. nullopt for an empty sample.
inline std::optional<double> sample_quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return std::nullopt;
  double rank = std::ceil(q * static_cast<double>(sorted.size()) - 1e-9);
  size_t i = static_cast<size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size()))) - 1;
  return sorted[i];
}

// The q-quantile of `service`'s startup sample; nullopt when the context has none for it.
inline std::optional<double> startup_quantile_s(const std::map<std::string, std::vector<double>>& samples,
                                                const std::string& service, double q) {
  auto it = samples.find(service);
  if (it == samples.end()) return std::nullopt;
  return sample_quantile(it->second, q);
}

}  // namespace autoscale
