#pragma once
// The statistics of `autoscale bench`: per metric, the mean over seeds with a 95 % confidence interval
// (Student t), the paired difference against a baseline controller on the same seeds (common random numbers
// make the pairs: the same arrivals and startup samples), ranks, and the Pareto front of cost against SLA
// violations. Plain numbers in, no engine.
#include <string>
#include <vector>

namespace autoscale::bench {

// The 0.975 quantile of Student's t with `df` degrees of freedom (exact table to 30, a Cornish-Fisher
// expansion beyond, within 1e-4); df >= 1.
double t975(int df);

struct Interval {
  double mean = 0;
  double ci95_low = 0, ci95_high = 0;  // the mean when n < 2 (no spread to estimate)
  double sd = 0;                       // sample standard deviation (n - 1)
  int n = 0;
  double half_width() const { return (ci95_high - ci95_low) / 2; }
};

// Mean and t interval of the finite values (NaN values, e.g. a metric without a value, are left out; n counts
// the rest).
Interval interval(const std::vector<double>& values);
// The interval of the differences a[i] - b[i] over the seeds where both are finite (paired).
Interval paired_difference(const std::vector<double>& a, const std::vector<double>& b);

// Ranks (1 = best, ties share the lower rank) of `means`, smaller is better; NaN ranks last.
std::vector<int> ranks(const std::vector<double>& means);

// Indices of the points not dominated in (x, y), both minimised: no other point is <= in both and < in one.
// In the order of increasing x.
std::vector<std::size_t> pareto_front(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace autoscale::bench
