#include "sim/fluid/queueing.hpp"

#include <algorithm>
#include <cmath>

namespace autoscale::fluid {

// Erlang B by its stable recursion B(k) = a B(k-1) / (k + a B(k-1)), then C = c B / (c - a (1 - B)).
double erlang_c(int c, double a) {
  if (!(a > 0)) return 0;
  if (a >= c) return 1;
  double b = 1;
  for (int k = 1; k <= c; ++k) b = a * b / (k + a * b);
  return c * b / (c - a * (1 - b));
}

double Mmc::wait_exceeds(double x_s) const {
  return x_s < 0 ? 1 : p_wait * std::exp(-decay_rps * x_s);
}

double Mmc::wait_quantile(double q) const {
  const double tail = 1 - q;
  if (tail >= p_wait || !(decay_rps > 0)) return 0;
  return std::log(p_wait / tail) / decay_rps;
}

Mmc mmc(double lambda_rps, double mu_rps, int c) {
  Mmc m;
  m.p_wait = erlang_c(c, lambda_rps / mu_rps);
  m.decay_rps = c * mu_rps - lambda_rps;
  return m;
}

Backlog fluid_backlog(double start, double lambda_rps, double capacity_rps, double dt_s, double max_backlog) {
  Backlog b;
  const double slope = lambda_rps - capacity_rps;
  double end = start + slope * dt_s;
  if (end > max_backlog) {
    // It fills at `slope` until full, then what arrives beyond capacity overflows.
    const double fill_s = slope > 0 ? std::max(0.0, (max_backlog - start) / slope) : 0;
    const double full_s = dt_s - fill_s;
    b.overflow = std::max(0.0, start + slope * dt_s - max_backlog);
    b.end = max_backlog;
    b.mean = (fill_s * (start + max_backlog) / 2 + full_s * max_backlog) / dt_s;
  } else if (end < 0) {
    // It drains at `-slope` and stays empty.
    const double drain_s = start / -slope;
    b.end = 0;
    b.mean = drain_s * start / 2 / dt_s;
  } else {
    b.end = end;
    b.mean = (start + end) / 2;
  }
  b.completions = start + lambda_rps * dt_s - b.overflow - b.end;
  return b;
}

double finite_queue_mean(double rho, double max_waiting) {
  if (!(rho > 0)) return 0;
  if (std::abs(rho - 1) < 1e-9) return max_waiting / 2;
  const double top = std::pow(rho, max_waiting + 1);
  if (!std::isfinite(top)) return max_waiting - 1 / (rho - 1);  // far above capacity: full but for a few
  return rho / (1 - rho) - (max_waiting + 1) * top / (1 - top);
}

}  // namespace autoscale::fluid
