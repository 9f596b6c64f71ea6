#include "sim/bench/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace autoscale::bench {

double t975(int df) {
  static const double table[] = {12.7062, 4.30265, 3.18245, 2.77645, 2.57058, 2.44691, 2.36462, 2.30600,
                                 2.26216, 2.22814, 2.20099, 2.17881, 2.16037, 2.14479, 2.13145, 2.11991,
                                 2.10982, 2.10092, 2.09302, 2.08596, 2.07961, 2.07387, 2.06866, 2.06390,
                                 2.05954, 2.05553, 2.05183, 2.04841, 2.04523, 2.04227};
  if (df < 1) return NAN;
  if (df <= 30) return table[df - 1];
  const double z = 1.959963984540054, v = df;
  const double z3 = z * z * z, z5 = z3 * z * z, z7 = z5 * z * z, z9 = z7 * z * z;
  return z + (z3 + z) / (4 * v) + (5 * z5 + 16 * z3 + 3 * z) / (96 * v * v) +
         (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * v * v * v) +
         (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * v * v * v * v);
}

Interval interval(const std::vector<double>& values) {
  std::vector<double> v;
  for (double x : values)
    if (std::isfinite(x)) v.push_back(x);
  Interval r;
  r.n = static_cast<int>(v.size());
  if (v.empty()) {
    r.mean = r.ci95_low = r.ci95_high = NAN;
    return r;
  }
  r.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  if (v.size() < 2) {
    r.ci95_low = r.ci95_high = r.mean;
    return r;
  }
  double ss = 0;
  for (double x : v) ss += (x - r.mean) * (x - r.mean);
  r.sd = std::sqrt(ss / static_cast<double>(v.size() - 1));
  double h = t975(r.n - 1) * r.sd / std::sqrt(static_cast<double>(r.n));
  r.ci95_low = r.mean - h;
  r.ci95_high = r.mean + h;
  return r;
}

Interval paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> d;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (std::isfinite(a[i]) && std::isfinite(b[i])) d.push_back(a[i] - b[i]);
  return interval(d);
}

std::vector<int> ranks(const std::vector<double>& means) {
  std::vector<int> r(means.size());
  for (std::size_t i = 0; i < means.size(); ++i) {
    int better = 0;
    for (std::size_t j = 0; j < means.size(); ++j) {
      bool i_nan = !std::isfinite(means[i]), j_nan = !std::isfinite(means[j]);
      if (i_nan && !j_nan)
        ++better;
      else if (!i_nan && !j_nan && means[j] < means[i])
        ++better;
    }
    r[i] = better + 1;
  }
  return r;
}

std::vector<std::size_t> pareto_front(const std::vector<double>& x, const std::vector<double>& y) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) continue;
    bool dominated = false;
    for (std::size_t j = 0; j < x.size() && !dominated; ++j) {
      if (j == i || !std::isfinite(x[j]) || !std::isfinite(y[j])) continue;
      dominated = x[j] <= x[i] && y[j] <= y[i] && (x[j] < x[i] || y[j] < y[i]);
    }
    if (!dominated) out.push_back(i);
  }
  std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) { return x[a] < x[b]; });
  return out;
}

}  // namespace autoscale::bench
