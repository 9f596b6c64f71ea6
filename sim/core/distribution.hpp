#pragma once
// A duration or amount drawn at random: constant, uniform, normal, lognormal, exponential or an empirical
// list.
#include <string>
#include <vector>

#include "sim/core/random.hpp"

namespace autoscale {

struct Distribution {
  enum class Kind { constant, uniform, normal, lognormal, exponential, empirical };
  Kind kind = Kind::constant;
  double mean = 0;  // constant value, or the mean (lognormal, exponential; normal: before truncation, >= 0)
  double cv = 0;    // coefficient of variation (normal, lognormal)
  double min = 0;   // uniform bounds
  double max = 0;
  std::vector<double> values;  // empirical: drawn uniformly

  static Distribution constant(double v) {
    Distribution d;
    d.mean = v;
    return d;
  }
  static Distribution uniform(double lo, double hi) {
    Distribution d;
    d.kind = Kind::uniform;
    d.min = lo;
    d.max = hi;
    return d;
  }
  static Distribution exponential_mean(double m) {
    Distribution d;
    d.kind = Kind::exponential;
    d.mean = m;
    return d;
  }
  // Draws one value; never negative (normal is truncated at zero by redrawing).
  double sample(Rng& rng) const;
  // The mean of what sample() draws (for a normal, the mean of the normal truncated at zero).
  double expected() const;
};

}  // namespace autoscale
