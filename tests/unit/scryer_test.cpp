// scryer: the similar-days predictor on series made of whole days, the ensemble's weights, and the rule
// desired = max(predicted capacity, the reactive backstop's decision), without an engine.
#include <catch2/catch.hpp>
#include <cmath>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "controllers/scryer/scryer.hpp"
#include "controllers/scryer/similar_days.hpp"

using namespace autoscale;
using namespace autoscale::scryer;

namespace {

using V = MapParams::Value;
using Map = std::map<std::string, V>;
MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}
V str(const char* s) {
  return std::string(s);
}

// A day of 8 steps: a ramp 1..8 times `level`.
std::vector<double> day(double level) {
  std::vector<double> d;
  for (int i = 1; i <= 8; ++i) d.push_back(level * i);
  return d;
}

Observation obs(double t, int desired, double rps, double cpu = 0.5) {
  Observation o;
  o.time_s = t;
  ServiceObservation s;
  s.name = "web";
  s.min_instances = 1;
  s.max_instances = 50;
  s.desired = desired;
  s.in_service = desired;
  s.metrics_valid = true;
  s.arrival_rps = rps;
  s.cpu_utilization = cpu;
  o.services.push_back(s);
  return o;
}

}  // namespace

TEST_CASE("scryer: similar days on repeated days return the exact next values", "[scryer]") {
  SimilarDaysSettings s{8, 3, 2, 14};
  std::vector<double> x;
  for (int d = 0; d < 3; ++d)
    for (double v : day(10)) x.push_back(v);
  for (int i = 0; i < 5; ++i) x.push_back(day(10)[static_cast<std::size_t>(i)]);  // today up to step 4
  double out = 0;
  int used = 0;
  REQUIRE(similar_days_predict(x, 1, s, out, &used));
  CHECK(out == 60);  // step 5 of the day
  CHECK(used == 2);
  REQUIRE(similar_days_predict(x, 3, s, out));
  CHECK(out == 80);
  // Today is a quiet day (level 1) among busy days (level 10) and one quiet day two days back: the nearest
  // day is the quiet one, whatever the others say.
  std::vector<double> y;
  for (double l : {10.0, 1.0, 10.0, 10.0})
    for (double v : day(l)) y.push_back(v);
  for (int i = 0; i < 5; ++i) y.push_back(day(1)[static_cast<std::size_t>(i)]);
  SimilarDaysSettings one{8, 3, 1, 14};
  REQUIRE(similar_days_predict(y, 1, one, out));
  CHECK(out == 6);
  // Two neighbours: the quiet day and the most recent busy one (equal distances: the more recent wins), the
  // busy one shifted to today's level: its window 30, 40, 50 (mean 40) against today's 3, 4, 5 (mean 4), so
  // 60 - 36 = 24; (6 + 24) / 2.
  SimilarDaysSettings two{8, 3, 2, 14};
  REQUIRE(similar_days_predict(y, 1, two, out));
  CHECK(out == Approx(15));
  // Not a whole day plus the window yet: nothing.
  std::vector<double> short_x(x.begin(), x.begin() + 10);
  CHECK_FALSE(similar_days_predict(short_x, 1, s, out));
}

TEST_CASE("scryer: the ensemble weights are the inverse recent errors, equal before any", "[scryer]") {
  auto w = ensemble_weights({}, {}, true);
  CHECK(w.first == 0.5);
  w = ensemble_weights({1, 3}, {4, 4}, true);  // mean errors 2 and 4: weights 1/2 and 1/4, normalised
  CHECK(w.first == Approx(2.0 / 3));
  CHECK(w.second == Approx(1.0 / 3));
  w = ensemble_weights({1, 3}, {4, 4}, false);  // "mean"
  CHECK(w.first == 0.5);
}

TEST_CASE("scryer: on repeated days both predictors agree; desired is the max with the backstop",
          "[scryer]") {
  // History: six identical days of 48 steps of 60 s (period 2880 s), a sine of 20 +- 10 rps. Both the FFT (a
  // pure harmonic) and the similar days see it exactly.
  const int steps = 48;
  auto rate = [&](long i) {
    return 20 +
           10 * std::sin(2 * std::acos(-1.0) * static_cast<double>(((i % steps) + steps) % steps) / steps);
  };
  std::vector<double> hist;
  for (long i = -6 * steps; i < 0; ++i) hist.push_back(rate(i));
  ControllerContext ctx{{"web"}};
  ctx.history_step_s = 60;
  ctx.history_arrival_rps["web"] = hist;
  Map inner{{"kind", str("threshold")},
            {"scale_out_above", 0.8},
            {"scale_in_below", 0.2},
            {"cooldown_s", 0.0},
            {"interval_s", 60.0}};
  MapParams p({{"rps_per_instance", 2.0},
               {"step_s", 60.0},
               {"period_s", 2880.0},
               {"lead_s", 120.0},
               {"headroom", 0.0},
               {"match_s", 600.0},
               {"harmonics", 1L},
               {"fft_days", 3L},
               {"inner", table(inner)}});
  auto c = make_controller("scryer", p, ctx);
  p.finish();
  CHECK(c->interval_s() == 60);
  // At t = 60 (bin 0 open, bin -1 the newest closed) the horizon runs to bin 3 (60 + 120 s ahead): h = 1..4.
  // Similar days repeat the day exactly; the FFT member is the forecasters' `fft` (1 harmonic) fitted on the
  // last three days (its linear trend biases it on a sine: it is the same model, not the truth); no errors
  // yet, so the ensemble is their mean, and the capacity the ensemble's peak over the horizon / 2 rps.
  forecast::FftForecaster fft(1);
  fft.fit(std::vector<double>(hist.end() - 3 * steps, hist.end()), 60);
  auto f = fft.predict({1, 2, 3, 4}, {0.5});
  double peak = 0, peak_fft = 0, peak_days = 0;
  for (int h = 1; h <= 4; ++h) {
    double e = 0.5 * f.at(static_cast<std::size_t>(h - 1), 0) + 0.5 * rate(h - 1);
    if (e >= peak) {
      peak = e;
      peak_fft = f.at(static_cast<std::size_t>(h - 1), 0);
      peak_days = rate(h - 1);
    }
  }
  auto d = c->decide(obs(60, 4, rate(0))).services.at(0);
  CHECK(d.diagnostics.at("similar_days_forecast") == Approx(peak_days));
  CHECK(d.diagnostics.at("fft_forecast") == Approx(peak_fft));
  CHECK(d.diagnostics.at("ensemble_forecast") == Approx(peak));
  CHECK(d.diagnostics.at("weight_fft") == 0.5);
  CHECK(d.desired == static_cast<int>(std::ceil(peak / 2)));
  CHECK(d.desired >= 11);  // the day's rise: at least 22 rps ahead
  CHECK(d.rule == "scryer_forecast");
  CHECK(d.diagnostics.at("backstop_desired") == 4);  // the threshold rule holds at 50 % CPU
  // The backstop wins when it asks for more: CPU 90 % on 20 instances -> 21 > 12.
  d = c->decide(obs(120, 20, rate(1), 0.9)).services.at(0);
  CHECK(d.desired == 21);
  CHECK(d.rule == "scale_out_above");
  CHECK(d.diagnostics.at("predicted_capacity") < 21);
  // Bin 0 closed at this tick: each predictor's one-bin error is known, the similar days' is 0, so the
  // ensemble now leans on it.
  CHECK(d.diagnostics.at("weight_similar_days") > 0.99);
}

TEST_CASE("scryer: without a day of history the backstop alone decides", "[scryer]") {
  Map inner{{"kind", str("static")}, {"instances", 7L}};
  MapParams p({{"rps_per_instance", 2.0}, {"inner", table(inner)}});
  auto c = make_controller("scryer", p, ControllerContext{{"web"}});
  auto d = c->decide(obs(60, 3, 30)).services.at(0);
  CHECK(d.desired == 7);
  CHECK(d.rule == "insufficient_history");
  CHECK(d.diagnostic_strings.at("backstop_rule") == "static");
}

TEST_CASE("scryer: settings are checked", "[scryer]") {
  MapParams none;
  CHECK_THROWS_AS(make_controller("scryer", none, ControllerContext{{"web"}}),
                  InputError);  // rps_per_instance
  MapParams uneven({{"rps_per_instance", 1.0}, {"step_s", 300.0}, {"period_s", 1000.0}});
  CHECK_THROWS_AS(make_controller("scryer", uneven, ControllerContext{{"web"}}), InputError);
  MapParams far({{"rps_per_instance", 1.0}, {"lead_s", 86400.0}});
  CHECK_THROWS_AS(make_controller("scryer", far, ControllerContext{{"web"}}), InputError);
  MapParams kind({{"rps_per_instance", 1.0}, {"ensemble", str("median")}});
  CHECK_THROWS_AS(make_controller("scryer", kind, ControllerContext{{"web"}}), InputError);
}
