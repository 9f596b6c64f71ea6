#pragma once
// Scryer's second predictor (Netflix, 2013: "cluster-based" on similar days), as we build it: today's recent
// values are compared with the same time of day on each earlier day, and the value h steps ahead is the mean
// of what followed on the `neighbours` days closest to today.
#include <vector>

namespace autoscale::scryer {

struct SimilarDaysSettings {
  int period_steps = 288;  // one day, in steps
  int match_steps = 12;    // the window compared: the newest match_steps values
  int neighbours = 3;      // days averaged
  int max_days = 14;       // how far back days are searched
};

// x: the series (one value per step, oldest first), the last value is "now". Candidate day k = 1..max_days
// has its "now" at j = n - 1 - k * period_steps; it qualifies when its window [j - match_steps + 1, j] and
// its target j + h lie in the series. Distance: Euclidean between the two windows. The answer is the mean of
// x[j + h] over the `neighbours` nearest days (ties: the more recent day), each shifted by today's window
// mean minus its own (an analog forecast: the day's shape at today's level). Returns false
// when no day qualifies; `days_used` receives how many were averaged.
bool similar_days_predict(const std::vector<double>& x, int h, const SimilarDaysSettings& s, double& out,
                          int* days_used = nullptr);

// The fewest values before a one-step prediction is possible: one day plus the window.
inline int similar_days_min_steps(const SimilarDaysSettings& s) {
  return s.period_steps + s.match_steps;
}

}  // namespace autoscale::scryer
