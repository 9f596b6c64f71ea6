// Failure attribution (sim/analysis/attribution.hpp) on hand-built runs: one per cause, and the precedence
// between causes when several fit. Every run is recorded every 60 s; the labels and windows are worked out by
// hand from the definitions in the header and README.md ("Failure attribution").
#include <catch2/catch.hpp>

#include "sim/analysis/attribution.hpp"

using namespace autoscale;

namespace {

// A service whose series are all constant: `ready` instances ready and desired, `needed` needed, nothing
// pending or queued. Tests change single intervals.
ServiceSeries steady(const std::string& name, size_t n, int ready, double needed) {
  ServiceSeries s;
  s.name = name;
  s.needed_instances.assign(n, needed);
  s.instances_ready.assign(n, ready);
  s.instances_desired.assign(n, ready);
  s.instances_pending.assign(n, 0);
  s.queue_depth.assign(n, 0);
  return s;
}

// n intervals of 60 s, 100 end-user requests arriving in each, `violations` of them violating (by interval).
RunResult run_of(const std::vector<double>& violations) {
  RunResult r;
  r.record_interval_s = 60;
  for (size_t i = 0; i < violations.size(); ++i) r.time_s.push_back(60.0 * static_cast<double>(i + 1));
  r.sla_requests.assign(violations.size(), 100);
  r.sla_violations = violations;
  return r;
}

// The controller decides for service s (a row in the decisions table), keeping its count.
void decides_for(RunResult& r, int s, double t = 0, int current = 4, int desired = 4) {
  r.decisions.push_back({t, s, current, desired, "cpu", 0, "rule", "", 0});
}

AttributionConfig config(size_t services) {
  AttributionConfig c;  // threshold 0.05, lookback 300 s
  c.services.resize(services);
  return c;
}

}  // namespace

TEST_CASE("attribution: episodes are maximal runs of intervals above the threshold", "[attribution]") {
  // Fractions 0, 0.06, 0.5, 0.05 (not above 0.05), 0.2, 0: two episodes, [60, 180] and [240, 300].
  RunResult r = run_of({0, 6, 50, 5, 20, 0});
  r.services.push_back(steady("svc", 6, 4, 4));
  decides_for(r, 0);
  std::vector<EpisodeRow> e = attribute_episodes(r, config(1));
  REQUIRE(e.size() == 2);
  CHECK(e[0].start_s == 60);
  CHECK(e[0].end_s == 180);
  CHECK(e[0].violation_fraction == Approx(56.0 / 200));
  CHECK(e[1].start_s == 240);
  CHECK(e[1].end_s == 300);
  CHECK(e[1].violation_fraction == Approx(0.2));
  // ready >= needed throughout: no service is short.
  CHECK(e[0].cause == "unexplained");
  CHECK(e[0].service == -1);
  CHECK(e[0].peak_shortfall == 0);
  // An interval with no arrivals never violates; a threshold of 0.25 keeps only the 0.5 interval.
  AttributionConfig c = config(1);
  c.threshold = 0.25;
  e = attribute_episodes(r, c);
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 120);
  CHECK(e[0].end_s == 180);
}

TEST_CASE("attribution: under_forecast when the controller never asked", "[attribution]") {
  RunResult r = run_of({0, 0, 30, 40, 0});
  ServiceSeries s = steady("svc", 5, 4, 4);
  s.needed_instances = {4, 4, 7, 7, 4};  // a step of load the desired count (4) never follows
  r.services.push_back(s);
  decides_for(r, 0, 30);
  std::vector<EpisodeRow> e = attribute_episodes(r, config(1));
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 120);
  CHECK(e[0].end_s == 240);
  CHECK(e[0].cause == "under_forecast");
  CHECK(e[0].service == 0);
  CHECK(e[0].peak_shortfall == 3);
  CHECK(e[0].violation_fraction == Approx(0.35));
}

TEST_CASE("attribution: startup_lag when capacity was asked for but not ready", "[attribution]") {
  RunResult r = run_of({0, 0, 30, 40, 10, 0});
  ServiceSeries s = steady("svc", 6, 4, 4);
  s.needed_instances = {4, 4, 8, 8, 8, 8};
  s.instances_desired = {4, 4, 6, 8, 8, 8};  // interval 2 under-asked (60 s), intervals 3 and 4 asked (120 s)
  s.instances_ready = {4, 4, 4, 4, 6, 8};
  r.services.push_back(s);
  decides_for(r, 0, 120, 4, 6);
  decides_for(r, 0, 150, 6, 8);
  std::vector<EpisodeRow> e = attribute_episodes(r, config(1));
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 120);
  CHECK(e[0].end_s == 300);
  CHECK(e[0].cause == "startup_lag");
  CHECK(e[0].peak_shortfall == 4);
  // Asked for only in the last of its three short intervals: under_forecast wins (120 s against 60 s).
  r.services[0].instances_desired = {4, 4, 6, 6, 8, 8};
  e = attribute_episodes(r, config(1));
  REQUIRE(e.size() == 1);
  CHECK(e[0].cause == "under_forecast");
}

TEST_CASE("attribution: pending_nodes when instances waited for room, before every other cause",
          "[attribution]") {
  RunResult r = run_of({0, 25, 25, 0});
  ServiceSeries s = steady("svc", 4, 4, 4);
  s.needed_instances = {4, 8, 8, 4};
  s.instances_desired = {4, 7, 7, 7};
  s.instances_pending = {0, 0, 3, 0};
  r.services.push_back(s);
  // A scale-in from 8 shortly before would make it overshoot, and its need (8) exceeds max_instances (7):
  // pending wins.
  decides_for(r, 0, 0, 8, 4);
  decides_for(r, 0, 60, 4, 7);
  AttributionConfig c = config(1);
  c.services[0].max_instances = 7;
  std::vector<EpisodeRow> e = attribute_episodes(r, c);
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 60);
  CHECK(e[0].end_s == 180);
  CHECK(e[0].cause == "pending_nodes");
  CHECK(e[0].peak_shortfall == 4);
  // Nothing pending: the cap comes next, before the overshoot; without the cap, the overshoot.
  r.services[0].instances_pending = {0, 0, 0, 0};
  CHECK(attribute_episodes(r, c).at(0).cause == "bottleneck_elsewhere");
  c.services[0].max_instances = 8;
  CHECK(attribute_episodes(r, c).at(0).cause == "overshoot_flapping");
}

TEST_CASE("attribution: bottleneck_elsewhere: a service the controller does not scale, or one at its maximum",
          "[attribution]") {
  RunResult r = run_of({0, 50, 0});
  r.services.push_back(steady("web", 3, 6, 5));  // scaled, enough ready
  ServiceSeries db = steady("db", 3, 1, 1);
  db.needed_instances = {1, 2, 1};  // short by one: relative 0.5
  r.services.push_back(db);
  decides_for(r, 0);  // the controller decides only for web
  std::vector<EpisodeRow> e = attribute_episodes(r, config(2));
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 60);
  CHECK(e[0].end_s == 120);
  CHECK(e[0].service == 1);
  CHECK(e[0].cause == "bottleneck_elsewhere");

  // The most short by relative shortfall: web short by 2 of 10 (0.2) against db 1 of 2 (0.5).
  r.services[0].needed_instances = {5, 10, 5};
  r.services[0].instances_ready = {6, 8, 6};
  e = attribute_episodes(r, config(2));
  REQUIRE(e.size() == 1);
  CHECK(e[0].service == 1);

  // The scaled tier alone short, its need (12) above its max_instances (8).
  RunResult m = run_of({0, 50, 0});
  ServiceSeries web = steady("web", 3, 8, 8);
  web.needed_instances = {8, 12, 8};
  m.services.push_back(web);
  decides_for(m, 0, 0, 8, 8);
  AttributionConfig c = config(1);
  c.services[0].max_instances = 8;
  e = attribute_episodes(m, c);
  REQUIRE(e.size() == 1);
  CHECK(e[0].cause == "bottleneck_elsewhere");
  CHECK(e[0].peak_shortfall == 4);
  c.services[0].max_instances = 12;  // 12 would do: never asked
  CHECK(attribute_episodes(m, c).at(0).cause == "under_forecast");
}

TEST_CASE("attribution: a database with every connection in use and no service short of CPU",
          "[attribution]") {
  RunResult r = run_of({0, 40, 0});
  r.services.push_back(steady("web", 3, 6, 5));
  ServiceSeries db = steady("db", 3, 1, 1);
  db.queue_depth = {0, 35, 0};  // queries waiting for a connection
  r.services.push_back(db);
  decides_for(r, 0);
  AttributionConfig c = config(2);
  CHECK(attribute_episodes(r, c).at(0).cause == "unexplained");  // not declared a database
  c.services[1].database = true;
  std::vector<EpisodeRow> e = attribute_episodes(r, c);
  REQUIRE(e.size() == 1);
  CHECK(e[0].cause == "bottleneck_elsewhere");
  CHECK(e[0].service == 1);
  CHECK(e[0].peak_shortfall == 0);
}

TEST_CASE("attribution: overshoot_flapping when capacity it then needed was removed", "[attribution]") {
  RunResult r = run_of({0, 0, 0, 0, 0, 30, 0});
  ServiceSeries s = steady("svc", 7, 6, 3);
  s.needed_instances = {3, 3, 3, 3, 3, 6, 3};
  s.instances_desired = {6, 6, 3, 3, 3, 3, 3};
  s.instances_ready = {6, 6, 6, 3, 3, 3, 3};
  r.services.push_back(s);
  decides_for(r, 0, 90, 6, 3);  // 210 s before the episode [300, 360], from 6 >= its peak need 6
  std::vector<EpisodeRow> e = attribute_episodes(r, config(1));
  REQUIRE(e.size() == 1);
  CHECK(e[0].start_s == 300);
  CHECK(e[0].end_s == 360);
  CHECK(e[0].cause == "overshoot_flapping");
  CHECK(e[0].peak_shortfall == 3);
  // Outside the lookback (300 - 200 = 100 > 90): never asked.
  AttributionConfig c = config(1);
  c.lookback_s = 200;
  CHECK(attribute_episodes(r, c).at(0).cause == "under_forecast");
  // A scale-in from a count below the episode's need did not remove what it needed.
  r.decisions.clear();
  decides_for(r, 0, 90, 5, 3);
  CHECK(attribute_episodes(r, config(1)).at(0).cause == "under_forecast");
  // A reversal inside the episode: 3 -> 6 -> 3 within it.
  r.decisions.clear();
  decides_for(r, 0, 310, 3, 6);
  decides_for(r, 0, 340, 6, 3);
  CHECK(attribute_episodes(r, config(1)).at(0).cause == "overshoot_flapping");
  // Overshoot before startup_lag: asked again, but what was removed is what it lacked.
  r.services[0].instances_desired[5] = 6;
  CHECK(attribute_episodes(r, config(1)).at(0).cause == "overshoot_flapping");
}

TEST_CASE("attribution: the per-cause summary metrics add the episodes' seconds", "[attribution]") {
  RunResult r = run_of({0, 30, 0, 30, 30, 0});
  ServiceSeries s = steady("svc", 6, 4, 4);
  s.needed_instances = {4, 6, 4, 4, 4, 4};  // the first episode short (under_forecast), the second not
  r.services.push_back(s);
  decides_for(r, 0);
  r.episodes = attribute_episodes(r, config(1));
  REQUIRE(r.episodes.size() == 2);
  RunTotals t;
  t.duration_s = 360;
  Summary sum = summarize(t, r, SummaryConfig{1.0});
  CHECK(find_metric(sum, "violation_episodes")->value == 2);
  CHECK(find_metric(sum, "violation_episodes")->integer);
  CHECK(find_metric(sum, "violation_s")->value == 180);
  CHECK(find_metric(sum, "violation_s_under_forecast")->value == 60);
  CHECK(find_metric(sum, "violation_s_unexplained")->value == 120);
  CHECK(find_metric(sum, "violation_s_startup_lag")->value == 0);
}

TEST_CASE("attribution: series of the wrong length are refused", "[attribution]") {
  RunResult r = run_of({0, 30});
  r.services.push_back(steady("svc", 3, 4, 4));
  CHECK_THROWS_AS(attribute_episodes(r, config(1)), std::invalid_argument);
  RunResult q = run_of({0, 30});
  q.sla_violations.pop_back();
  CHECK_THROWS_AS(sla_violation_fractions(q), std::invalid_argument);
  CHECK(attribute_episodes(RunResult{}, config(0)).empty());
}
