// `autoscale bench` statistics against hand-worked values and published t tables.
#include <catch2/catch.hpp>
#include <cmath>

#include "sim/bench/stats.hpp"

using namespace autoscale::bench;

TEST_CASE("t975 matches the t table and tends to the normal quantile", "[bench]") {
  CHECK(t975(1) == Approx(12.7062).epsilon(1e-5));
  CHECK(t975(9) == Approx(2.26216).epsilon(1e-5));
  CHECK(t975(30) == Approx(2.04227).epsilon(1e-5));
  // beyond the table: R's qt(0.975, df)
  CHECK(t975(31) == Approx(2.039513).margin(1e-4));
  CHECK(t975(40) == Approx(2.021075).margin(1e-4));
  CHECK(t975(60) == Approx(2.000298).margin(1e-4));
  CHECK(t975(120) == Approx(1.979930).margin(1e-4));
  CHECK(t975(100000) == Approx(1.959964).margin(1e-4));
  CHECK(std::isnan(t975(0)));
}

TEST_CASE("interval: mean, sample sd and the t interval; NaN left out", "[bench]") {
  Interval r = interval({1, 2, 3, 4, 5, NAN});
  CHECK(r.n == 5);
  CHECK(r.mean == Approx(3));
  CHECK(r.sd == Approx(std::sqrt(2.5)));
  double h = 2.77645 * std::sqrt(2.5) / std::sqrt(5.0);  // 1.9632
  CHECK(r.ci95_low == Approx(3 - h));
  CHECK(r.ci95_high == Approx(3 + h));
  Interval one = interval({7});
  CHECK(one.n == 1);
  CHECK(one.ci95_low == 7);
  CHECK(one.ci95_high == 7);
  CHECK(std::isnan(interval({}).mean));
}

TEST_CASE("the interval shrinks as 1 / sqrt(n) for the same spread", "[bench]") {
  // +-1 alternating: sd -> 1 whatever n; the half-width is t975(n - 1) sd / sqrt(n).
  auto alternating = [](int n) {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(i % 2 ? 1.0 : -1.0);
    return v;
  };
  double h64 = interval(alternating(64)).half_width(), h256 = interval(alternating(256)).half_width();
  double sd64 = std::sqrt(64.0 / 63), sd256 = std::sqrt(256.0 / 255);
  CHECK(h64 / h256 == Approx(2 * (t975(63) * sd64) / (t975(255) * sd256)));
  CHECK(h64 / h256 == Approx(2.0).margin(0.05));  // four times the seeds, half the interval
}

TEST_CASE("paired differences use the seeds where both have a value", "[bench]") {
  // differences 1, 2, 3 (the NaN pair left out): mean 2, sd 1, h = t(2) / sqrt(3)
  Interval d = paired_difference({2, 4, NAN, 6}, {1, 2, 5, 3});
  CHECK(d.n == 3);
  CHECK(d.mean == Approx(2));
  CHECK(d.half_width() == Approx(4.30265 / std::sqrt(3.0)));
  // a constant offset is known exactly, however noisy each side is
  Interval c = paired_difference({10, 50, 30}, {9, 49, 29});
  CHECK(c.mean == Approx(1));
  CHECK(c.half_width() == Approx(0).margin(1e-12));
}

TEST_CASE("ranks: smaller is better, ties share, NaN last", "[bench]") {
  CHECK(ranks({0.3, 0.1, 0.3, NAN, 0.2}) == std::vector<int>{3, 1, 3, 5, 2});
}

TEST_CASE("pareto front of cost against violations", "[bench]") {
  //            a    b    c    d    e (= b)  f: NaN
  std::vector<double> cost{1.0, 2.0, 3.0, 2.5, 2.0, NAN};
  std::vector<double> sla{0.5, 0.1, 0.0, 0.2, 0.1, 0.0};
  // d is dominated by b; b and e tie (neither dominates the other); f has no value
  CHECK(pareto_front(cost, sla) == std::vector<std::size_t>{0, 1, 4, 2});
}
