#include "controllers/scryer/similar_days.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

namespace autoscale::scryer {

bool similar_days_predict(const std::vector<double>& x, int h, const SimilarDaysSettings& s, double& out,
                          int* days_used) {
  const long n = static_cast<long>(x.size());
  std::vector<std::pair<double, long>> days;  // (distance, k)
  auto window_mean = [&](long end) {
    double m = 0;
    for (long i = 0; i < s.match_steps; ++i) m += x[static_cast<std::size_t>(end - i)];
    return m / s.match_steps;
  };
  const double today = window_mean(n - 1);
  for (long k = 1; k <= s.max_days; ++k) {
    const long j = n - 1 - k * s.period_steps;
    if (j - s.match_steps + 1 < 0) break;
    if (j + h > n - 1) continue;
    double d2 = 0;
    for (long i = 0; i < s.match_steps; ++i) {
      double e = x[static_cast<std::size_t>(n - 1 - i)] - x[static_cast<std::size_t>(j - i)];
      d2 += e * e;
    }
    days.emplace_back(std::sqrt(d2), k);
  }
  if (days.empty()) return false;
  std::stable_sort(days.begin(), days.end());  // equal distances: the smaller k (more recent) first
  const std::size_t m = std::min(days.size(), static_cast<std::size_t>(s.neighbours));
  double sum = 0;
  for (std::size_t i = 0; i < m; ++i) {
    const long j = n - 1 - days[i].second * s.period_steps;
    sum += x[static_cast<std::size_t>(j + h)] + today - window_mean(j);
  }
  out = sum / static_cast<double>(m);
  if (days_used) *days_used = static_cast<int>(m);
  return true;
}

}  // namespace autoscale::scryer
