// The classical forecasters (forecasters/), each against an expectation worked out independently of its code.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "forecasters/forecaster.hpp"
#include "forecasters/models.hpp"

using namespace autoscale;
using namespace autoscale::forecast;
using V = MapParams::Value;

namespace {

// A tiny portable generator: splitmix64 uniforms, Box-Muller normals.
struct Gen {
  std::uint64_t s;
  double uniform() {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (static_cast<double>(z >> 11) + 0.5) / 9007199254740992.0;
  }
  double normal() {
    const double pi = std::acos(-1.0);
    return std::sqrt(-2 * std::log(uniform())) * std::cos(2 * pi * uniform());
  }
};

std::vector<double> ar2(std::size_t n, std::uint64_t seed) {
  Gen g{seed};
  std::vector<double> x(n, 0.0);
  for (std::size_t t = 2; t < n; ++t) x[t] = 0.6 * x[t - 1] - 0.3 * x[t - 2] + g.normal();
  return x;
}

std::unique_ptr<Forecaster> make(const std::string& kind, std::map<std::string, V> settings = {}) {
  MapParams p(std::move(settings));
  return make_forecaster(kind, p);
}

double p50(const Forecaster& f, int h) {
  return f.predict({h}, {0.5}).at(0, 0);
}

double sine(std::size_t t) {
  return 100 + 10 * std::sin(2 * std::acos(-1.0) * static_cast<double>(t) / 24);
}

}  // namespace

TEST_CASE("ar recovers the coefficients of a simulated AR(2)", "[forecaster]") {
  auto f = make("ar", {{"order", 2L}});
  f->fit(ar2(5000, 7), 60);
  const auto& phi = dynamic_cast<const ArForecaster&>(*f).coefficients();
  REQUIRE(phi.size() == 2);
  CHECK(phi[0] == Approx(0.6).margin(0.05));
  CHECK(phi[1] == Approx(-0.3).margin(0.05));
}

TEST_CASE("ar's p10-p90 interval covers about 80 % of its own process", "[forecaster]") {
  std::vector<double> x = ar2(4000, 19);
  auto f = make("ar", {{"order", 2L}});
  f->fit(std::vector<double>(x.begin(), x.begin() + 2000), 1);
  int inside = 0, total = 0;
  for (std::size_t t = 2000; t < x.size(); ++t) {
    Forecast fc = f->predict({1});
    inside += fc.at(0, 0) <= x[t] && x[t] <= fc.at(0, 2);
    ++total;
    f->observe(static_cast<double>(t), x[t]);
  }
  double coverage = static_cast<double>(inside) / total;
  CHECK(coverage >= 0.75);
  CHECK(coverage <= 0.85);
  // A random walk's interval widens as sqrt(h): ARIMA(1,1,0) with phi ~ 0 has psi-weights all 1.
  Gen g{3};
  std::vector<double> walk(3000, 0.0);
  for (std::size_t t = 1; t < walk.size(); ++t) walk[t] = walk[t - 1] + g.normal();
  auto rw = make("ar", {{"order", 1L}, {"differencing", 1L}});
  rw->fit(walk, 1);
  Forecast w = rw->predict({1, 16});
  CHECK((w.at(1, 2) - w.at(1, 0)) / (w.at(0, 2) - w.at(0, 0)) == Approx(4).epsilon(0.1));
}

TEST_CASE("holt_winters and fft recover a known period and amplitude", "[forecaster]") {
  Gen g{5};
  std::vector<double> x;
  for (std::size_t t = 0; t < 24 * 20; ++t) x.push_back(sine(t) + 0.3 * g.normal());
  for (const char* kind : {"holt_winters", "fft"}) {
    INFO(kind);
    auto f = kind == std::string("fft") ? make(kind) : make(kind, {{"period_steps", 24L}});
    f->fit(x, 60);
    double lo = 1e9, hi = -1e9;
    for (int h = 1; h <= 24; ++h) {
      double v = p50(*f, h);
      CHECK(v == Approx(sine(x.size() - 1 + static_cast<std::size_t>(h))).epsilon(0.02));
      lo = std::min(lo, v), hi = std::max(hi, v);
    }
    CHECK((hi - lo) / 2 == Approx(10).epsilon(0.08));
  }
  auto fft = make("fft", {{"harmonics", 1L}});
  fft->fit(x, 60);
  const auto& hs = dynamic_cast<const FftForecaster&>(*fft).harmonics();
  REQUIRE(hs.size() == 1);
  CHECK(hs[0].period_steps == Approx(24));
  CHECK(hs[0].amplitude == Approx(10).epsilon(0.03));
  // Multiplicative seasonality and a damped trend on the same series: still the same shape.
  auto mult = make("holt_winters",
                   {{"period_steps", 24L}, {"seasonality", std::string("multiplicative")}, {"damped", true}});
  mult->fit(x, 60);
  CHECK(p50(*mult, 6) == Approx(sine(x.size() + 5)).epsilon(0.03));
}

TEST_CASE("seasonal_naive is exact on a periodic series", "[forecaster]") {
  const std::vector<double> pattern{3, 1, 4, 1, 5, 9, 2};
  auto f = make("seasonal_naive", {{"period_steps", 7L}});
  for (std::size_t t = 0; t < 50; ++t) f->observe(static_cast<double>(t), pattern[t % 7]);
  Forecast fc = f->predict({1, 2, 7, 8, 20});
  const std::vector<std::size_t> steps{50, 51, 56, 57, 69};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    CHECK(fc.at(i, 1) == pattern[steps[i] % 7]);
    CHECK(fc.at(i, 0) == fc.at(i, 2));  // no error seen: no interval
  }
}

TEST_CASE("moving_average, ewma and naive: hand-worked values", "[forecaster]") {
  auto ma = make("moving_average", {{"window_steps", 3L}});
  auto ew = make("ewma", {{"alpha", 0.5}});
  auto nv = make("naive");
  double t = 0;
  for (double v : {2.0, 4.0, 8.0, 6.0}) {
    ma->observe(t, v), ew->observe(t, v), nv->observe(t, v);
    t += 60;
  }
  CHECK(p50(*ma, 1) == Approx(6));  // (4 + 8 + 6) / 3
  CHECK(p50(*ma, 5) == Approx(6));
  CHECK(p50(*ew, 1) == Approx(5.75));  // 2 -> 3 -> 5.5 -> 5.75
  CHECK(p50(*nv, 3) == Approx(6));
  // naive's one-step errors 2, 4, -2: sigma = sqrt(8); p90 - p50 at h = 4 is 1.28155 * sqrt(8) * 2.
  Forecast f = nv->predict({4});
  CHECK(f.at(0, 2) - f.at(0, 1) == Approx(1.2815516 * std::sqrt(8.0) * 2).epsilon(1e-6));
  // ewma's one-step errors 2, 5 (8 - 3), 0.5 (6 - 5.5): sigma^2 = (4 + 25 + 0.25) / 3; h = 3 adds 2 alpha^2.
  Forecast e = ew->predict({3});
  CHECK(e.at(0, 2) - e.at(0, 1) == Approx(1.2815516 * std::sqrt(29.25 / 3 * 1.5)).epsilon(1e-6));
}

TEST_CASE("ensemble weights favour the member that is exact", "[forecaster]") {
  auto member = [](std::map<std::string, V> m) { return std::make_shared<MapParams>(std::move(m)); };
  auto f = make("ensemble",
                {{"window_steps", 12L},
                 {"members", std::vector<MapParams::Table>{
                                 member({{"kind", std::string("naive")}}),
                                 member({{"kind", std::string("seasonal_naive")}, {"period_steps", 6L}})}}});
  const std::vector<double> pattern{10, 30, 20, 50, 40, 25};
  for (std::size_t t = 0; t < 60; ++t) f->observe(static_cast<double>(t), pattern[t % 6]);
  std::vector<double> w = dynamic_cast<const EnsembleForecaster&>(*f).weights();
  CHECK(w[1] > 0.999);
  CHECK(p50(*f, 1) == Approx(pattern[0]).epsilon(1e-3));
}

TEST_CASE("forecasters reject bad settings and bad calls", "[forecaster]") {
  CHECK_THROWS_AS(make("arima"), InputError);
  CHECK_THROWS_AS(make("ar", {{"order", 0L}}), InputError);
  CHECK_THROWS_AS(make("ewma", {{"alpha", 1.5}}), InputError);
  CHECK_THROWS_AS(make("holt_winters", {{"seasonality", std::string("both")}}), InputError);
  auto f = make("naive");
  CHECK_THROWS_AS(f->predict({1}), InputError);  // nothing observed
  f->observe(10, 1);
  CHECK_THROWS_AS(f->observe(10, 2), InputError);  // time must advance
  CHECK_THROWS_AS(f->predict({0}), InputError);
  CHECK_THROWS_AS(f->predict({1}, {1.0}), InputError);
}
