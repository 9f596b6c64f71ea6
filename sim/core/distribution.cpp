#include "sim/core/distribution.hpp"

#include <cmath>
#include <numeric>

namespace autoscale {

double Distribution::sample(Rng& rng) const {
  switch (kind) {
    case Kind::constant:
      return mean;
    case Kind::uniform:
      return rng.uniform(min, max);
    case Kind::exponential:
      return rng.exponential(mean);
    case Kind::normal: {
      if (cv <= 0) return mean;
      for (;;) {
        double v = mean * (1.0 + cv * rng.normal());
        if (v >= 0) return v;
      }
    }
    case Kind::lognormal: {
      if (cv <= 0) return mean;
      double sigma2 = std::log1p(cv * cv);
      double mu = std::log(mean) - 0.5 * sigma2;
      return std::exp(mu + std::sqrt(sigma2) * rng.normal());
    }
    case Kind::empirical: {
      size_t i = static_cast<size_t>(rng.uniform() * static_cast<double>(values.size()));
      return values[std::min(i, values.size() - 1)];
    }
  }
  return mean;
}

double Distribution::expected() const {
  switch (kind) {
    case Kind::uniform:
      return 0.5 * (min + max);
    case Kind::empirical:
      return values.empty() ? 0 : std::accumulate(values.begin(), values.end(), 0.0) / double(values.size());
    default:
      return mean;
  }
}

}  // namespace autoscale
