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
    case Kind::normal: {
      // sample() draws from the normal conditioned on v >= 0: the mean of N(mu, sigma) truncated to [0, inf)
      // is mu + sigma phi(alpha) / (1 - Phi(alpha)), alpha = -mu / sigma. With mean >= 0, alpha <= 0 and
      // 1 - Phi(alpha) >= 0.5.
      if (cv <= 0 || mean == 0) return mean;
      double sigma = mean * cv;
      double alpha = -mean / sigma;
      constexpr double inv_sqrt_2pi = 0.3989422804014327;          // 1 / sqrt(2 pi)
      double pdf = inv_sqrt_2pi * std::exp(-0.5 * alpha * alpha);  // phi(alpha)
      double tail = 0.5 * std::erfc(alpha / std::sqrt(2.0));       // 1 - Phi(alpha)
      return mean + sigma * pdf / tail;
    }
    default:
      return mean;
  }
}

}  // namespace autoscale
