// The forecast evaluation (forecasters/eval/), empirical intervals (forecasters/conformal) and direct_ar:
// each metric against tiny series worked out by hand, and the rolling origin against a forecaster that
// records what it has seen.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <memory>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "forecasters/conformal.hpp"
#include "forecasters/direct_ar.hpp"
#include "forecasters/eval/evaluation.hpp"
#include "forecasters/forecaster.hpp"

using namespace autoscale;
using namespace autoscale::forecast;
using namespace autoscale::forecast::eval;
using V = MapParams::Value;

namespace {

// Predicts the last value it observed at every horizon and quantile (p10 = v - 1, p90 = v + 1), and records,
// at every predict(), the time of the newest observation.
class Spy : public Forecaster {
 public:
  void observe(double t_s, double value) override {
    last_t_ = t_s;
    last_ = value;
    ++observed_;
  }
  using Forecaster::fit;
  void fit(const std::vector<double>& values, double step_s, double t0_s) override {
    fitted_ = values;
    last_t_ = t0_s + static_cast<double>(values.size() - 1) * step_s;
    last_ = values.back();
  }
  Forecast predict(const std::vector<int>& horizons, const std::vector<double>& quantiles) const override {
    seen_at_predict.push_back(last_t_);
    Forecast f{horizons, quantiles, {}};
    for (std::size_t i = 0; i < horizons.size(); ++i) f.values.push_back({last_ - 1, last_, last_ + 1});
    return f;
  }
  std::string kind() const override { return "spy"; }
  mutable std::vector<double> seen_at_predict;
  std::vector<double> fitted_;
  std::size_t observed_ = 0;

 private:
  double last_t_ = 0, last_ = 0;
};

// Always forecasts 0; its own quantiles are -100, 0, 100 whatever is asked (so that empirical ones show).
class Zero : public Forecaster {
 public:
  void observe(double, double) override {}
  using Forecaster::fit;
  void fit(const std::vector<double>&, double, double) override {}
  Forecast predict(const std::vector<int>& horizons, const std::vector<double>& quantiles) const override {
    Forecast f{horizons, quantiles, {}};
    for (std::size_t i = 0; i < horizons.size(); ++i) {
      std::vector<double> row;
      for (double q : quantiles) row.push_back(q < 0.5 ? -100 : q > 0.5 ? 100 : 0);
      f.values.push_back(row);
    }
    return f;
  }
  std::string kind() const override { return "zero"; }
};

HorizonForecasts rows(std::vector<std::size_t> target, std::vector<double> y, std::vector<double> p50) {
  HorizonForecasts f;
  f.target = std::move(target);
  f.actual = std::move(y);
  f.p50 = std::move(p50);
  for (double v : f.p50) f.p10.push_back(v - 1), f.p90.push_back(v + 1);
  return f;
}

}  // namespace

TEST_CASE("point metrics on a four-value series worked by hand", "[forecast_eval]") {
  // y - f = -1, 0, 2, 0
  const std::vector<double> y{1, 2, 3, 4}, f{2, 2, 1, 4};
  CHECK(mae(y, f) == Approx(0.75));                     // (1 + 0 + 2 + 0) / 4
  CHECK(rmse(y, f) == Approx(std::sqrt(1.25)));         // (1 + 0 + 4 + 0) / 4
  CHECK(smape(y, f) == Approx((200.0 / 3 + 100) / 4));  // 200*1/3, 0, 200*2/4, 0
  // pinball at q: max(q e, (q - 1) e) with e = y - f
  CHECK(pinball(y, f, 0.1) == Approx((0.9 + 0 + 0.2 + 0) / 4));
  CHECK(pinball(y, f, 0.5) == Approx(mae(y, f) / 2));
  CHECK(pinball(y, f, 0.9) == Approx((0.1 + 0 + 1.8 + 0) / 4));
  // 1 in [0, 1], 2 in [2, 3], 3 in [3, 4], 4 not in [5, 6]
  CHECK(coverage(y, {0, 2, 3, 5}, {1, 3, 4, 6}) == Approx(0.75));
  // a term with y = f = 0 counts 0
  CHECK(smape({0, 1}, {0, 3}) == Approx(100.0 / 2));
  CHECK(std::isnan(mae({}, {})));
}

TEST_CASE("MASE's scale is the in-sample seasonal naive MAE", "[forecast_eval]") {
  const std::vector<double> x{1, 3, 2, 4, 3};
  CHECK(mase_scale(x, 2) == Approx(1.0));  // |2-1|, |4-3|, |3-2|
  CHECK(mase_scale(x, 1) == Approx(1.5));  // |3-1|, |2-3|, |4-2|, |3-4|
  CHECK(mase_scale(x, 5) == Approx(1.5));  // not longer than a season: lag 1
  CHECK(std::isnan(mase_scale({7}, 1)));
  HorizonForecasts f = rows({1, 2, 3, 4}, {1, 2, 3, 4}, {2, 2, 1, 4});
  CHECK(compute_metrics(f, 0.5, {}).mase == Approx(0.75 / 0.5));
  CHECK(std::isnan(compute_metrics(f, 0.0, {}).mase));
}

TEST_CASE("under- and over-forecasts, bursts and calm, coverage and width", "[forecast_eval]") {
  // y - f = 3 (under), -1 (over), 0, -2 (over); the target at index 11 is in a burst.
  HorizonForecasts f = rows({10, 11, 12, 13}, {5, 4, 6, 2}, {2, 5, 6, 4});
  std::vector<bool> burst(20, false);
  burst[11] = true;
  Metrics m = compute_metrics(f, 1.0, burst);
  CHECK(m.n == 4);
  CHECK(m.mae == Approx(1.5));
  CHECK(m.bias == Approx((-3 + 1 + 0 + 2) / 4.0));
  CHECK(m.under_forecast_fraction == Approx(0.25));
  CHECK(m.under_forecast_mae == Approx(3.0));
  CHECK(m.over_forecast_fraction == Approx(0.5));
  CHECK(m.over_forecast_mae == Approx(1.5));
  CHECK(m.burst_fraction == Approx(0.25));
  CHECK(m.mae_burst == Approx(1.0));
  CHECK(m.mae_calm == Approx(5.0 / 3));
  CHECK(m.coverage_80 == Approx(0.5));  // 4 in [4, 6] and 6 in [5, 7]
  CHECK(m.width_80 == Approx(2.0));
  CHECK(m.pinball == Approx((pinball(f.actual, f.p10, 0.1) + pinball(f.actual, f.p50, 0.5) +
                             pinball(f.actual, f.p90, 0.9)) /
                            3));
  Metrics none = compute_metrics(HorizonForecasts{}, 1.0, burst);
  CHECK(none.n == 0);
  CHECK(std::isnan(none.mae));
}

TEST_CASE("bursts: above the trailing median by more than z robust deviations", "[forecast_eval]") {
  // Window 4 before index 4: 1, 2, 1, 2 -> median 1.5, MAD 0.5, robust sd 0.7413; z = 3: above 3.724.
  const std::vector<double> x{1, 2, 1, 2, 3.7, 10, 2};
  std::vector<bool> b = burst_mask(x, 4, 3);
  CHECK(b == std::vector<bool>{false, false, false, false, false, true, false});
  // index 5: window 2, 1, 2, 3.7 -> median 2, MAD 0.5: 10 is a burst; index 6: window 1, 2, 3.7, 10 -> median
  // 2.85: 2 is not.
  // A flat window (MAD 0): anything above its median.
  CHECK(burst_mask({5, 5, 5, 5.001}, 3, 3) == std::vector<bool>{false, false, false, true});
}

TEST_CASE("the worst windows: highest mean absolute error, no two overlapping, inside the span",
          "[forecast_eval]") {
  // Targets 0..9, absolute errors 0 0 5 1 0 0 0 4 4 0: windows of 3 starting at each target.
  std::vector<double> y{0, 0, 5, 1, 0, 0, 0, 4, 4, 0}, f(10, 0.0);
  HorizonForecasts h = rows({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, y, f);
  std::vector<Window> w = worst_windows(h, 3, 3);
  // Windows [0, 3) .. [7, 10): 5/3, 2, 2, 1/3, 0, 4/3, 8/3, 8/3. [6, 9) wins the tie with [7, 10); then [1,
  // 4) wins its tie with [2, 5); every other window overlaps one of the two.
  REQUIRE(w.size() == 2);
  CHECK(w[0].first == 6);
  CHECK(w[0].end == 9);
  CHECK(w[0].mae == Approx(8.0 / 3));
  CHECK(w[0].mean_actual == Approx(8.0 / 3));
  CHECK(w[0].mean_forecast == Approx(0.0));
  CHECK(w[0].n == 3);
  CHECK(w[1].first == 1);
  CHECK(w[1].end == 4);
  CHECK(w[1].mae == Approx(2.0));
  CHECK(worst_windows(h, 3, 1).size() == 1);
  // A window longer than the span: none.
  CHECK(worst_windows(h, 11, 3).empty());
  // Gaps in the targets (a stride): a window holds the forecasts inside it.
  HorizonForecasts g = rows({0, 2, 4, 6}, {1, 3, 0, 0}, {0, 0, 0, 0});
  std::vector<Window> wg = worst_windows(g, 4, 1);
  REQUIRE(wg.size() == 1);
  CHECK(wg[0].first == 0);
  CHECK(wg[0].n == 2);
  CHECK(wg[0].mae == Approx(2.0));
}

TEST_CASE("residual alarms, events, and their precision and recall against labelled windows",
          "[forecast_eval]") {
  // Intervals [p50 - 1, p50 + 1] around 0; outside at rows 1, 2, 3, 5, 6, 8, 9, 10, 11.
  std::vector<double> y{0, 5, 5, 5, 0, 5, 5, 0, 5, 5, 5, 5};
  std::vector<std::size_t> t;
  for (std::size_t i = 0; i < y.size(); ++i) t.push_back(100 + i);
  HorizonForecasts h = rows(t, y, std::vector<double>(y.size(), 0.0));
  std::vector<bool> a = residual_alarms(h, 2);
  CHECK(a == std::vector<bool>{false, false, true, true, false, false, true, false, false, true, true, true});
  std::vector<Event> ev = alarm_events(h, a);
  REQUIRE(ev.size() == 3);
  CHECK(ev[0].first == 102);
  CHECK(ev[0].last == 103);
  CHECK(ev[1].first == 106);
  CHECK(ev[1].last == 106);
  CHECK(ev[2].first == 109);
  CHECK(ev[2].last == 111);
  CHECK(residual_alarms(h, 5) == std::vector<bool>(12, false));

  // Step 10 s from 0: the events span [1020, 1030], [1060, 1060], [1090, 1110] s.
  Series s;
  s.step_s = 10;
  std::vector<LabelWindow> labels{{1025, 1040}, {1061, 1089}, {1100, 1200}, {5000, 6000}};
  Detection d = score_detection(ev, s, labels, 1000, 1120);
  CHECK(d.events == 3);
  CHECK(d.true_events == 2);  // the first and the third
  CHECK(d.event_true == std::vector<bool>{true, false, true});
  CHECK(d.windows == 3);  // the fourth is outside the evaluated span
  CHECK(d.window_evaluated == std::vector<bool>{true, true, true, false});
  CHECK(d.window_detected == std::vector<bool>{true, false, true, false});
  CHECK(d.windows_detected == 2);
  CHECK(d.precision == Approx(2.0 / 3));
  CHECK(d.recall == Approx(2.0 / 3));
  CHECK(d.f1 == Approx(2.0 / 3));
  Detection none = score_detection({}, s, labels, 1000, 1120);
  CHECK(std::isnan(none.precision));
  CHECK(none.recall == Approx(0.0));
  CHECK(std::isnan(none.f1));
}

TEST_CASE("rolling origin: a forecaster never sees a value after its origin", "[forecast_eval]") {
  Series s;
  s.t0_s = 1000;
  s.step_s = 60;
  for (int i = 0; i < 20; ++i) s.values.push_back(10.0 * i);
  Spy spy;
  RollingOptions o{5, {1, 3}, 2};
  std::vector<HorizonForecasts> out = rolling_origin(spy, s, o);
  CHECK(spy.fitted_ == std::vector<double>(s.values.begin(), s.values.begin() + 5));
  // Origins 4, 6, ..., 18 (the shortest horizon's target must be inside): at each, the newest value seen is
  // the origin's.
  std::vector<double> expected;
  for (std::size_t origin = 4; origin <= 18; origin += 2) expected.push_back(s.time(origin));
  CHECK(spy.seen_at_predict == expected);
  CHECK(spy.observed_ == 14);  // values 5..18, never 19
  REQUIRE(out.size() == 2);
  CHECK(out[0].target == std::vector<std::size_t>{5, 7, 9, 11, 13, 15, 17, 19});
  CHECK(out[0].p50 == std::vector<double>{40, 60, 80, 100, 120, 140, 160, 180});
  CHECK(out[0].actual == std::vector<double>{50, 70, 90, 110, 130, 150, 170, 190});
  CHECK(out[1].target == std::vector<std::size_t>{7, 9, 11, 13, 15, 17, 19});  // 18 + 3 is past the end
  CHECK(out[1].p10.front() == 39);
  CHECK(out[1].p90.front() == 41);
  CHECK_THROWS_AS(rolling_origin(spy, s, RollingOptions{0, {1}, 1}), InputError);
}

TEST_CASE("evaluate: the best forecaster per horizon against the better baseline, and a failing candidate",
          "[forecast_eval]") {
  Series s;
  s.step_s = 1;
  for (int i = 0; i < 200; ++i) s.values.push_back(1.0 + i);  // a straight line
  auto make = [](const std::string& kind, std::map<std::string, V> keys) {
    MapParams p(std::move(keys));
    return make_forecaster(kind, p);
  };
  std::vector<Candidate> c;
  c.push_back({"trend", make("ar", {{"order", 1L}, {"differencing", 1L}})});
  c.push_back({"naive", make("naive", {})});
  c.push_back({"seasonal", make("seasonal_naive", {{"period_steps", 5L}})});
  EvalOptions o;
  o.train_size = 100;
  o.horizons_steps = {1, 3};
  o.season_steps = 5;
  o.baselines = {"naive", "seasonal"};
  o.jobs = 2;
  Report r = evaluate(c, s, o);
  REQUIRE(r.forecasters.size() == 3);
  CHECK(r.mase_scale == Approx(5.0));  // lag-5 differences of a line of slope 1
  // naive misses by h, seasonal naive by 5 - h... for h <= 5: x[t + h - 5] is 5 below; the trend is exact.
  CHECK(r.forecasters[1].horizons[1].metrics.mae == Approx(3.0));
  CHECK(r.forecasters[2].horizons[1].metrics.mae == Approx(5.0));
  CHECK(r.forecasters[0].horizons[1].metrics.mae == Approx(0.0).margin(1e-6));
  REQUIRE(r.best.size() == 2);
  CHECK(r.best[1].forecaster == "trend");
  CHECK(r.best[1].baseline == "naive");
  CHECK(r.best[1].baseline_mae == Approx(3.0));
  CHECK(r.best[1].ratio == Approx(0.0).margin(1e-6));
  CHECK(r.anomaly.forecaster == "trend");
  CHECK(r.anomaly.horizon_steps == 1);

  // holt_winters, multiplicative, cannot take a zero: the error names the candidate.
  Series z = s;
  z.values[3] = 0;
  std::vector<Candidate> bad;
  bad.push_back({"naive", make("naive", {})});
  bad.push_back(
      {"hw", make("holt_winters", {{"period_steps", 4L}, {"seasonality", std::string("multiplicative")}})});
  try {
    evaluate(bad, z, o);
    FAIL("expected an error");
  } catch (const CandidateError& e) {
    CHECK(e.candidate == 1);
    CHECK(e.field() == "seasonality");
  }
}

TEST_CASE("empirical intervals: the model's median plus the quantiles of its recent errors",
          "[forecast_eval]") {
  auto f = make_conformal(std::make_unique<Zero>(), 20, 2);
  // Before 20 errors, the model's own quantiles.
  f->observe(0, -10);
  CHECK(f->predict({1}).values[0] == std::vector<double>{-100, 0, 100});
  // Values i - 11 for i = 1..21: the one-step errors of a zero forecast are the values from the second on,
  // -9..10; two steps ahead: -8..10 (19, too few).
  for (int i = 2; i <= 21; ++i) f->observe(i, i - 11);
  Forecast q = f->predict({1, 2});
  // Quantile q of -9..10 (linear between order statistics): -9 + q * 19.
  CHECK(q.values[0][0] == Approx(-9 + 0.1 * 19));
  CHECK(q.values[0][1] == 0);  // the median stays the model's
  CHECK(q.values[0][2] == Approx(-9 + 0.9 * 19));
  CHECK(q.values[1] == std::vector<double>{-100, 0, 100});
  // One more value: two steps ahead has 20 errors, -8..11; beyond H = 2 they scale by sqrt(h / H).
  f->observe(22, 11);
  q = f->predict({2, 4});
  CHECK(q.values[0][0] == Approx(-8 + 0.1 * 19));
  CHECK(q.values[0][2] == Approx(-8 + 0.9 * 19));
  CHECK(q.values[1][0] == Approx(std::sqrt(2.0) * (-8 + 0.1 * 19)));
  CHECK(q.values[1][2] == Approx(std::sqrt(2.0) * (-8 + 0.9 * 19)));
  // A model that is always too low: the lower quantiles stop at its median instead of crossing it.
  auto low = make_conformal(std::make_unique<Zero>(), 20, 1);
  for (int i = 1; i <= 21; ++i) low->observe(i, i);
  q = low->predict({1});
  CHECK(q.values[0][0] == 0);
  CHECK(q.values[0][2] == Approx(2 + 0.9 * 19));

  // Through make_forecaster: `intervals = "empirical"` on any kind; a typo in its value is an error.
  MapParams ok({{"intervals", std::string("empirical")}, {"calibration_window_steps", 50L}});
  CHECK(make_forecaster("naive", ok)->kind() == "naive");
  MapParams typo({{"intervals", std::string("empiric")}});
  CHECK_THROWS_AS(make_forecaster("naive", typo), InputError);
}

TEST_CASE("direct_ar: a periodic series is forecast exactly at every horizon", "[forecast_eval]") {
  const double pi = std::acos(-1.0);
  std::vector<double> x;
  for (int i = 0; i < 24 * 20; ++i)
    x.push_back(10 + 5 * std::sin(2 * pi * i / 24) + 2 * std::cos(2 * pi * i / 8));
  MapParams p({{"period_steps", 24L}, {"weekly", false}});
  auto f = make_forecaster("direct_ar", p);
  f->fit(std::vector<double>(x.begin(), x.begin() + 24 * 15), 60);
  for (std::size_t t = 24 * 15; t < 24 * 15 + 30; ++t) {
    Forecast fc = f->predict({1, 5, 24});
    CHECK(fc.at(0, 1) == Approx(x[t]).epsilon(1e-6));
    CHECK(fc.at(1, 1) == Approx(x[t + 4]).epsilon(1e-6));
    CHECK(fc.at(2, 1) == Approx(x[t + 23]).epsilon(1e-6));
    CHECK(fc.at(0, 0) <= fc.at(0, 1));
    CHECK(fc.at(0, 1) <= fc.at(0, 2));
    f->observe(60.0 * static_cast<double>(t), x[t]);
  }
  auto* d = dynamic_cast<DirectArForecaster*>(f.get());
  REQUIRE(d);
  CHECK(d->seasons() == std::vector<std::size_t>{24});
  CHECK(d->offset() == Approx(1.0).epsilon(0.01));  // 0.1 x the mean, 10
  MapParams neg;
  auto g = make_forecaster("direct_ar", neg);
  CHECK_THROWS_AS(g->fit(std::vector<double>(100, -1.0), 60), InputError);
}
