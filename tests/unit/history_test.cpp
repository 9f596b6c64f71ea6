// Monitoring's history before the run ([monitoring] history_s): the rate function read at negative times,
// re-binned to a controller's interval, and a forecaster fed from it before its first decision.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "controllers/forecast_feed/forecast_feed.hpp"
#include "controllers/map_params.hpp"
#include "forecasters/forecaster.hpp"
#include "sim/core/traffic.hpp"

using namespace autoscale;

TEST_CASE("rebin_history: exact time-weighted means over intervals ending at 0", "[history]") {
  // steps of 10 s: [-40,-30)=1, [-30,-20)=2, [-20,-10)=3, [-10,0)=4
  std::vector<double> v{1, 2, 3, 4};
  // 20-s intervals: [-40,-20) -> 1.5, [-20,0) -> 3.5
  CHECK(rebin_history(v, 10, 20) == std::vector<double>{1.5, 3.5});
  // 15-s intervals ending at 0: [-30,-15) = (2*10 + 3*5)/15, [-15,0) = (3*5 + 4*10)/15; the 10 s before -30
  // are less than an interval and dropped
  std::vector<double> r = rebin_history(v, 10, 15);
  REQUIRE(r.size() == 2);
  CHECK(r[0] == Approx(35.0 / 15));
  CHECK(r[1] == Approx(55.0 / 15));
  // finer than the steps: each 5-s interval repeats its step's value
  CHECK(rebin_history(v, 10, 5) == std::vector<double>{1, 1, 2, 2, 3, 3, 4, 4});
  CHECK(rebin_history({}, 10, 5).empty());
}

TEST_CASE("rate_history reads a trace before its start_s and wraps a looping one", "[history]") {
  char path[] = "/tmp/autoscale-history-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  {
    std::ofstream out(path);
    out << "t_s,rps\n";
    for (int i = 0; i < 10; ++i) out << i * 60 << "," << (i + 1) << "\n";  // 1, 2, ..., 10 per minute
  }
  TrafficSpec spec;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::trace;
  c.name = "t";
  c.trace.path = path;
  c.trace.start_s = 300;  // the run starts at the sixth minute (value 6)
  c.trace.rate_scale = 2;
  spec.components = {c};
  // the three minutes before: values 3, 4, 5 (x2)
  CHECK(rate_history(spec, 1, 180, 60) == std::vector<double>{6, 8, 10});
  // 30-s steps at time_scale 2: each step covers one trace minute
  spec.components[0].trace.time_scale = 2;
  CHECK(rate_history(spec, 1, 90, 30) == std::vector<double>{6, 8, 10});
  // before the trace's first bin: nothing was recorded
  spec.components[0].trace.time_scale = 1;
  spec.components[0].trace.start_s = 60;
  CHECK(rate_history(spec, 1, 180, 60) == std::vector<double>{0, 0, 2});
  // a looping window [60, 600) wraps: 9 minutes long, the minute before its start is its last one (value 10)
  spec.components[0].trace.loop = true;
  CHECK(rate_history(spec, 1, 120, 60) == std::vector<double>{18, 20});
  CHECK(rate_history(spec, 1, 0, 60).empty());
  std::remove(path);
}

TEST_CASE("a forecast feed preloaded with history forecasts from it at once", "[history]") {
  // a seasonal naive model with a 4-step season, fed two seasons of 10, 20, 30, 40 in 60-s steps re-binned to
  // 30-s intervals (each value twice: an 8-interval season)
  MapParams p({{"period_steps", 8L}});
  ForecastFeed feed(forecast::make_forecaster("seasonal_naive", p));
  FeedSettings f;
  f.interval_s = 30;
  f.warmup_intervals = 9;
  feed.preload({10, 20, 30, 40, 10, 20, 30, 40}, 60, f);
  CHECK(feed.observed() == 16);
  CHECK(feed.warm(f));
  // the last interval observed is the second half of the 40 step; the next ones repeat the season: 10, 10, 20
  forecast::Forecast fc = feed.model().predict({1, 2, 3}, {0.5});
  CHECK(fc.at(0, 0) == Approx(10));
  CHECK(fc.at(1, 0) == Approx(10));
  CHECK(fc.at(2, 0) == Approx(20));
}

TEST_CASE("direct_ar takes observations before its first fit (it fits itself at min_fit)", "[history]") {
  MapParams p({{"period_steps", 12L}, {"weekly", false}});
  auto m = forecast::make_forecaster("direct_ar", p);
  // a 12-step season repeated: once fitted, the one-step forecast follows the season
  for (int i = 0; i < 240; ++i) m->observe(i * 60.0, 100 + 50 * std::sin(2 * M_PI * i / 12.0));
  double expected = 100 + 50 * std::sin(2 * M_PI * 240 / 12.0);
  CHECK(m->predict({1}, {0.5}).at(0, 0) == Approx(expected).margin(2.0));
}
