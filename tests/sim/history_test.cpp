// Monitoring's history in the engine: with [monitoring] history_s a forecast-driven controller's model is fed
// the traffic's rate before t = 0, so its first decision already forecasts from it. Each TEST_CASE runs in
// its own process (one SimGrid engine each).
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include "controllers/map_params.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"

using namespace autoscale;

namespace {

// One service at a diurnal rate (mean 40 rps, +-50 %, one-hour period, peak at peak_time_s), driven by a
// predictive controller with a seasonal naive model of a one-hour season (120 intervals of 30 s), 60 s ahead.
RunSpec diurnal_run(double peak_time_s, double history_s) {
  QueuePreset p;
  p.duration_s = 120;
  p.instances = 6;
  p.hosts = 2;
  RunSpec run = single_queue(p);
  TrafficComponent d;
  d.kind = TrafficComponent::Kind::diurnal;
  d.name = "day";
  d.rate_rps = 40;
  d.amplitude = 0.5;
  d.period_s = 3600;
  d.peak_time_s = peak_time_s;
  run.traffic.components = {d};
  run.monitoring.history_s = history_s;
  run.monitoring.history_step_s = 30;
  auto fc = std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{
      {"kind", std::string("seasonal_naive")}, {"period_steps", 120L}});
  run.controller.kind = "predictive";
  run.controller.params = std::make_shared<MapParams>(std::map<std::string, MapParams::Value>{
      {"interval_s", 30.0}, {"lead_s", 60.0}, {"rps_per_instance", 10.0}, {"forecaster", fc}});
  return run;
}

// The number after "name=" in a decision's details ("a=1; b=2"); NaN when absent.
double detail(const std::string& details, const std::string& name) {
  auto at = details.find(name + "=");
  if (at == std::string::npos) return std::nan("");
  return std::stod(details.substr(at + name.size() + 1));
}

}  // namespace

TEST_CASE("with history the first forecast is the rate one season earlier", "[sim][history]") {
  // The forecast at t = 30 is for a time within [0, 120) s: one season earlier the rate was
  // 40 (1 + 0.5 cos(2 pi t / 3600)) for t in [-3600, -3480): between 59.56 and 60.
  RunResult r = run_simulation(diurnal_run(0, 7200), {});
  REQUIRE(!r.decisions.empty());
  CHECK(r.decisions[0].time_s == 30);
  double f = detail(r.decisions[0].details, "forecast");
  CHECK(f >= 59.5);
  CHECK(f <= 60.0);
  CHECK(r.decisions[0].details.find("warmup") == std::string::npos);
  // 60 rps at 10 rps per instance: 6 instances asked at once
  CHECK(r.decisions[0].desired == 6);
}

TEST_CASE("the history follows the traffic: half a period later it is the trough", "[sim][history]") {
  // Peak at 1800 s: one season before [0, 120) the rate was between 20 and 20.44.
  RunResult r = run_simulation(diurnal_run(1800, 7200), {});
  REQUIRE(!r.decisions.empty());
  double f = detail(r.decisions[0].details, "forecast");
  CHECK(f >= 20.0);
  CHECK(f <= 20.5);
}

TEST_CASE("without history the controller starts blind (warm-up)", "[sim][history]") {
  RunResult r = run_simulation(diurnal_run(0, 0), {});
  REQUIRE(!r.decisions.empty());
  CHECK(r.decisions[0].details.find("warmup") != std::string::npos);
  CHECK(std::isnan(detail(r.decisions[0].details, "forecast")));
}
