// Fluid fidelity's queueing formulas (sim/fluid/queueing) against closed forms.
#include <catch2/catch.hpp>
#include <cmath>

#include "sim/fluid/queueing.hpp"

using namespace autoscale::fluid;

namespace {
// Erlang C from its defining sum: (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a))).
double erlang_c_by_sum(int c, double a) {
  double term = 1, sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const double top = term * c / (c - a);
  return top / (sum + top);
}
}  // namespace

TEST_CASE("Erlang C: one server waits with probability rho, two with 2 rho^2 / (1 + rho)", "[fluid]") {
  for (double rho : {0.1, 0.5, 0.8, 0.95}) {
    CHECK(erlang_c(1, rho) == Approx(rho).epsilon(1e-12));
    CHECK(erlang_c(2, 2 * rho) == Approx(2 * rho * rho / (1 + rho)).epsilon(1e-12));
  }
  CHECK(erlang_c(2, 1.6) == Approx(0.711111).epsilon(1e-5));  // 32 / 45
}

TEST_CASE("Erlang C: the recursion agrees with the defining sum, many servers too", "[fluid]") {
  for (int c : {3, 5, 10, 40})
    for (double rho : {0.3, 0.7, 0.9, 0.99})
      CHECK(erlang_c(c, rho * c) == Approx(erlang_c_by_sum(c, rho * c)).epsilon(1e-9));
  CHECK(erlang_c(4, 0) == 0);
  CHECK(erlang_c(4, 4) == 1);  // no steady state: everyone waits
}

TEST_CASE("M/M/c: mean wait C / (c mu - lambda), mean queue by Little, the wait's tail and quantiles",
          "[fluid]") {
  // lambda = 16/s, mu = 10/s, c = 2: C = 32/45, Wq = C / 4 s, Lq = 16 Wq.
  const Mmc m = mmc(16, 10, 2);
  CHECK(m.p_wait == Approx(32.0 / 45).epsilon(1e-9));
  CHECK(m.mean_wait_s() == Approx(32.0 / 45 / 4).epsilon(1e-9));
  CHECK(m.mean_queue(16) == Approx(16 * 32.0 / 45 / 4).epsilon(1e-9));
  // M/M/1, rho = 0.8, mu = 10: P(W > x) = 0.8 exp(-2 x); its 95th percentile is ln(16) / 2.
  const Mmc one = mmc(8, 10, 1);
  CHECK(one.wait_exceeds(1.0) == Approx(0.8 * std::exp(-2.0)).epsilon(1e-12));
  CHECK(one.wait_quantile(0.95) == Approx(std::log(16.0) / 2).epsilon(1e-12));
  CHECK(one.wait_quantile(0.1) == 0);  // 20 % never wait: the 10th percentile is no wait
  CHECK(one.wait_exceeds(one.wait_quantile(0.99)) == Approx(0.01).epsilon(1e-9));
}

TEST_CASE("fluid backlog: grows at lambda - capacity, overflows when full, drains at capacity - lambda",
          "[fluid]") {
  // 12/s into 10/s for 5 s: +2/s, 10 waiting at the end, 5 on average, 50 served.
  Backlog up = fluid_backlog(0, 12, 10, 5, 1e9);
  CHECK(up.end == Approx(10));
  CHECK(up.mean == Approx(5));
  CHECK(up.overflow == 0);
  CHECK(up.completions == Approx(50));
  // Room for 6: full after 3 s, the last 2 s overflow 2/s.
  Backlog full = fluid_backlog(0, 12, 10, 5, 6);
  CHECK(full.end == Approx(6));
  CHECK(full.overflow == Approx(4));
  CHECK(full.mean == Approx((3 * 3 + 2 * 6) / 5.0));
  CHECK(full.completions == Approx(50));
  // 10 waiting, 5/s into 10/s: empty after 2 s of the 4; everything that waited or came is served.
  Backlog down = fluid_backlog(10, 5, 10, 4, 1e9);
  CHECK(down.end == 0);
  CHECK(down.mean == Approx(2 * 10 / 2.0 / 4));
  CHECK(down.completions == Approx(30));
  // Conservation in every case: start + arrivals = served + rejected + left.
  for (const auto& [b, start, lambda, dt] :
       {std::tuple{up, 0.0, 12.0, 5.0}, std::tuple{full, 0.0, 12.0, 5.0}, std::tuple{down, 10.0, 5.0, 4.0}})
    CHECK(start + lambda * dt == Approx(b.completions + b.overflow + b.end));
}

TEST_CASE("a finite queue's steady mean: geometric truncated at its size, half full at capacity", "[fluid]") {
  CHECK(finite_queue_mean(1.0, 40) == Approx(20));
  CHECK(finite_queue_mean(0.5, 1) == Approx(0.5 / 1.5));  // 0 or 1 waiting, in ratio 1 : rho
  CHECK(finite_queue_mean(0.5, 1000) == Approx(1));       // the unbounded queue's rho / (1 - rho)
  CHECK(finite_queue_mean(2.0, 10) == Approx(10 - 1.0).epsilon(0.01));  // overloaded: full but for ~1
  CHECK(finite_queue_mean(0, 10) == 0);
}
