// The production controllers (controllers/hpa, kpa, aws, wrappers) in the simulator: each property is one
// that upstream documents, checked on the decisions of a real run (the decisions table, and each Decision's
// diagnostics, which the table does not keep, through a wrapper that logs them). Every expected time is
// worked by hand in a comment; each TEST_CASE runs in its own process (one SimGrid engine each).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;
using namespace autoscale::test;

namespace {

using Values = std::map<std::string, MapParams::Value>;
MapParams::Table table(Values v) {
  return std::make_shared<MapParams>(std::move(v));
}

// A real controller, built by its kind as a scenario's [controller] section builds it, whose every Decision
// (with its diagnostics) is kept by tick.
class DecisionLog : public Controller {
 public:
  DecisionLog(const std::string& kind, Values settings) {
    MapParams p(std::move(settings));
    inner_ = make_controller(kind, p, ControllerContext{{"svc"}});
  }
  Decision decide(const Observation& obs) override {
    Decision d = inner_->decide(obs);
    for (const auto& sd : d.services)
      if (sd.service == "svc") log.emplace_back(obs.time_s, sd);
    return d;
  }
  double interval_s() const override { return inner_->interval_s(); }
  std::vector<std::string> scale_to_zero_services() const override {
    return inner_->scale_to_zero_services();
  }

  std::vector<std::pair<double, ServiceDecision>> log;

 private:
  std::unique_ptr<Controller> inner_;
};

// The decisions that changed "svc"'s desired count: (time, current, desired).
struct Change {
  double time_s;
  int current, desired;
};
std::vector<Change> changes(const RunResult& r) {
  std::vector<Change> out;
  for (const auto& d : r.decisions)
    if (d.service == 0 && d.desired != d.current) out.push_back({d.time_s, d.current, d.desired});
  return out;
}

// A load multiplied by `multiplier` over [start_s, start_s + duration_s), with no ramp.
TrafficComponent burst(double start_s, double duration_s, double multiplier) {
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::scheduled;
  c.name = "burst";
  c.shape = true;
  c.start_s = start_s;
  c.duration_s = duration_s;
  c.multiplier = multiplier;
  c.ramp_s = 0;
  return c;
}

// Kubernetes-style: "svc" is pods requesting `cpu_request` cores / 1 GiB on a fixed pool of `nodes` nodes of
// 8 vCPU / 32 GiB (4 hosts of 32 cores), starting in about 10 s (launch 1, image pull 4, container start 1,
// init 4, a probe every 2 s). Poisson arrivals at `rps`, exponential work of 50 ms.
RunSpec pods_run(double duration_s, double rps, int initial, double cpu_request, int nodes) {
  QueuePreset p;
  p.duration_s = duration_s;
  p.arrival_rps = rps;
  p.instances = initial;
  p.hosts = 4;
  p.host_cores = 32;
  p.workers = 8;
  p.queue_limit = 100;
  p.client_timeout_s = 10;
  RunSpec run = single_queue(p);
  run.instance_types = {{"node8", 8, 32, 0.384}};
  NodePool pool;
  pool.name = "pool";
  pool.instance_type = "node8";
  pool.dedicated = false;
  pool.nodes = nodes;
  run.node_pools = {pool};
  ServiceSpec& s = run.services[0];
  s.node_pool = "pool";
  s.cpu_request = cpu_request;
  s.memory_request_gib = 1;
  s.min_instances = 1;
  s.max_instances = 90;
  s.routing = RoutingPolicy::least_outstanding;
  constant_phases(s.startup, 1, 4, 1, 4, 2);
  return run;
}

}  // namespace

// ---------------------------------------------------------------- HPA: downscale stabilization

namespace {
// 20 rps of 50 ms (1 core) on pods requesting 0.5 core, ×4 over [300, 900): 4 cores. The HPA aims at 60 % of
// the request (0.3 core a pod): ceil(1 / 0.3) = 4 pods before and after, ceil(4 / 0.3) = 14 at the peak.
// metrics-server-like monitoring: 15 s scrapes, 15 s late, 30 s windows; a sync every 15 s.
RunSpec hpa_run() {
  RunSpec run = pods_run(1800, 20, 4, 0.5, 8);
  run.traffic.components.push_back(burst(300, 600, 4));
  run.monitoring = {15, 15, 30};
  return run;
}
Values hpa_settings(std::optional<double> downscale_window_s) {
  Values target{{"type", std::string("Utilization")}, {"averageUtilization", 60L}};
  Values resource{{"name", std::string("cpu")}, {"target", table(target)}};
  Values metric{{"type", std::string("Resource")}, {"resource", table(resource)}};
  Values v{
      {"minReplicas", 2L}, {"maxReplicas", 30L}, {"metrics", std::vector<MapParams::Table>{table(metric)}}};
  if (downscale_window_s) v["downscaleStabilizationWindowSeconds"] = *downscale_window_s;
  return v;
}
// The first scale-down at or after t (-1: none).
double first_scale_down_after(const RunResult& r, double t) {
  for (const Change& c : changes(r))
    if (c.time_s >= t && c.desired < c.current) return c.time_s;
  return -1;
}
}  // namespace

TEST_CASE("hpa: with the default behavior no scale-down within 300 s of a peak recommendation",
          "[sim][controllers][hpa]") {
  // The legacy normalization (no `behavior`): at a sync at t the count is the highest raw recommendation of
  // the syncs in [t - 300, t] (one exactly 300 s old still counts). So a scale-down at t goes no lower than
  // any raw recommendation of the last 300 s, and none comes within 300 s of the last sync that recommended
  // the peak P (the count never exceeds P): syncs are 15 s apart, the first can come 315 s after it.
  // The drop at 900: the sync at 915 sees [870, 900], all peak (~14); at 930 it sees [885, 915], half of it
  // after the drop (2.5 cores: ceil(14 × 2.5 / (14 × 0.5 × 0.6)) = 9); from 945 ~4. Without the window
  // (0 s) the HPA scales down at 930 (945 at the latest); with it, not below the recommendation of 915
  // before 915 + 315 = 1230 (a partial scale-down after an earlier, higher peak recommendation may come
  // sooner).
  RunSpec run = hpa_run();
  std::vector<double> no_window = in_child([&] {
    RunResult r = run_with(run, std::make_shared<DecisionLog>("hpa", hpa_settings(0.0)));
    return std::vector<double>{first_scale_down_after(r, 900)};
  });
  auto hpa = std::make_shared<DecisionLog>("hpa", hpa_settings(std::nullopt));
  RunResult r = run_with(run, hpa);

  // Every sync's raw recommendation (a diagnostic: not in the decisions table), by time.
  std::map<double, int> raw;
  for (const auto& [t, sd] : hpa->log) {
    auto it = sd.diagnostics.find("raw_recommendation");
    if (it != sd.diagnostics.end()) raw[t] = static_cast<int>(it->second);
  }
  REQUIRE(raw.size() >= 115);  // a sync every 15 s for 1800 s (the first ones have no CPU sample yet)
  int peak = 0;
  double last_peak = 0;
  for (const auto& [t, n] : raw)
    if (n >= peak) {
      peak = n;
      last_peak = t;
    }
  INFO("peak recommendation " << peak << ", last at " << last_peak);
  CHECK(peak >= 14);
  CHECK(last_peak >= 300);
  CHECK(last_peak <= 915);
  CHECK(raw[915] >= 13);
  CHECK(raw[945] <= 5);

  std::vector<Change> downs;
  for (const Change& c : changes(r))
    if (c.desired < c.current) downs.push_back(c);
  REQUIRE(downs.size() >= 2);  // after the peak recommendation, and after the drop
  for (const Change& c : downs) {
    INFO("scale-down at " << c.time_s << " to " << c.desired);
    for (const auto& [t, n] : raw)
      if (t >= c.time_s - 300 && t <= c.time_s) CHECK(n <= c.desired);
    if (c.time_s > last_peak) CHECK(c.time_s - last_peak >= 315);
  }
  double with_window = -1;  // the first scale-down below the last all-peak recommendation
  for (const Change& c : downs)
    if (c.time_s > 915 && c.desired < raw[915]) {
      with_window = c.time_s;
      break;
    }
  REQUIRE(no_window.size() == 1);
  INFO("first scale-down below " << raw[915] << ": " << with_window
                                 << " s with the window; first after the drop " << no_window[0]
                                 << " s without");
  CHECK(with_window >= 1230);
  CHECK(no_window[0] >= 930);
  CHECK(no_window[0] <= 945);
}

// ---------------------------------------------------------------- KPA: panic mode

TEST_CASE("kpa: a 3x burst puts it in panic, and it never scales down while panicking",
          "[sim][controllers][kpa]") {
  // 100 rps of 50 ms on pods of 4 workers (no CPU limit: 12 nodes of 8 cores leave each pod room): ~5
  // requests in flight. Target 0.5 a pod: stable desire ceil(5 / 0.5) = 10-11 pods. Concurrency sampled at
  // every 2 s tick (2 s scrapes, 2 s late), panic window 6 s: the samples of the last 3 ticks. ×3 from 300:
  // the scrape at 302 shows ~15 in flight. Tick 304: (5 + 5 + 15) / 3 = 8.3, desire 17 < 2 × 11 ready; tick
  // 306: (5 + 15 + 15) / 3 = 11.7, desire 24 >= 200 % of 11: panic at 306 (a tick either way with the
  // noise). Panic takes the larger desire and never goes below its maximum; it ends a stable window (60 s)
  // after the threshold was last met, then the stable desire (~31) rules.
  RunSpec run = pods_run(900, 100, 10, 1.0, 12);
  run.services[0].workers = 4;
  run.traffic.components.push_back(burst(300, 300, 3));
  run.monitoring = {2, 2, 2};
  auto kpa = std::make_shared<DecisionLog>("kpa", Values{{"target", 0.5}});
  RunResult r = run_with(run, kpa);

  std::map<double, bool> panicking;  // the decider's panic flag by tick (a diagnostic)
  for (const auto& [t, sd] : kpa->log) {
    auto it = sd.diagnostic_flags.find("panic");
    panicking[t] = it != sd.diagnostic_flags.end() && it->second;
  }
  std::vector<std::pair<double, double>> episodes;  // [entry, exit) of each panic
  double entry = -1;
  for (const auto& [t, p] : panicking) {
    if (p && entry < 0) entry = t;
    if (!p && entry >= 0) {
      episodes.emplace_back(entry, t);
      entry = -1;
    }
  }
  if (entry >= 0) episodes.emplace_back(entry, 1e9);
  // Before the burst the count settles (a panic or two in the first minutes, as the first samples come in);
  // from then on, the burst's panic alone.
  std::vector<std::pair<double, double>> burst_panics;
  for (const auto& e : episodes) {
    CHECK((e.first < 120 || e.first >= 300));
    if (e.first >= 300) burst_panics.push_back(e);
  }
  REQUIRE(burst_panics.size() == 1);
  const auto [enter, leave] = burst_panics[0];
  INFO("panic over [" << enter << ", " << leave << ")");
  CHECK(enter >= 304);
  CHECK(enter <= 310);
  CHECK(leave - enter >= 62);  // at least a stable window after the entry
  CHECK(leave < 600);          // the scaled-out fleet ends it before the burst does

  // In the decisions table: rules "panic" / "panic_hold" in panic and nowhere else; the desired count never
  // decreases from a panic's entry to its exit.
  auto in_panic = [&](double t) {
    for (const auto& e : episodes)
      if (t >= e.first && t < e.second) return true;
    return false;
  };
  int prev = -1, highest = 0;
  for (const auto& d : r.decisions) {
    if (d.service != 0) continue;
    INFO("t = " << d.time_s << ": " << d.current << " -> " << d.desired << " (" << d.rule << ")");
    bool panic_rule = d.rule.rfind("panic", 0) == 0;  // "panic", "panic_hold" (",max_instances" appended)
    if (!in_panic(d.time_s)) {
      CHECK_FALSE(panic_rule);
      prev = -1;
      continue;
    }
    // In the burst's panic the decider's rule stands; in the start-up panic (a KPA created with ten ready
    // pods starts in panic, as upstream's does) the reconciler's "activating" may take precedence.
    if (d.time_s >= enter && d.time_s < leave) CHECK(panic_rule);
    if (prev >= 0) CHECK(d.desired >= prev);
    prev = d.desired;
    if (d.time_s >= enter && d.time_s < leave) highest = std::max(highest, d.desired);
  }
  CHECK(highest >= 31);  // at least the stable desire at the burst, ~15 / 0.5 = 30-31
}

// ---------------------------------------------------------------- AWS target tracking: 3 of 3

TEST_CASE("aws_target_tracking: the first scale-out comes at the third breaching minute, not before",
          "[sim][controllers][aws]") {
  // 4 VMs of 2 vCPU, 30 rps of 50 ms: 1.5 of 8 cores (19 %) against a 50 % target; from t0 = 150, 130 rps:
  // 6.5 cores (81 %). One datapoint a minute (ticks at 60, 120, ...); monitoring: 30 s scrapes, 30 s late,
  // 60 s windows, so the tick at t sees [t - 90, t - 30]. t = 180: [90, 150], all before the step: no breach;
  // t = 240: [150, 210], all after: breach 1; 300: breach 2; 360: breach 3, AlarmHigh. The earliest
  // scale-out is at 360 = t0 + 210 (>= t0 + 180, the lag adding a tick), never before; it asks for
  // ceil(4 × metric / 50) = ceil(4 × 81 / 50) = 7.
  QueuePreset p;
  p.duration_s = 480;
  p.arrival_rps = 30;
  p.instances = 4;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 20;
  TrafficComponent step;
  step.kind = TrafficComponent::Kind::step;
  step.name = "step";
  step.before_rps = 0;
  step.rate_rps = 100;
  step.start_s = 150;
  run.traffic.components.push_back(step);
  run.monitoring = {30, 30, 60};
  auto tt = std::make_shared<DecisionLog>(
      "aws_target_tracking", Values{{"EstimatedInstanceWarmup", 120.0},
                                    {"TargetTrackingConfiguration", table({{"TargetValue", 50.0}})}});
  RunResult r = run_with(run, tt);

  std::map<double, const DecisionRow*> at;
  for (const auto& d : r.decisions) at[d.time_s] = &d;
  REQUIRE(at.size() == 8);
  // The tick at 60 sees the scrapes at 0 (the initial four VMs in service) and 30: [0, 30], before the step.
  for (double t : {60.0, 120.0, 180.0}) {
    INFO("t = " << t);
    CHECK(at[t]->metric_value < 25);
    CHECK(at[t]->rule.rfind("ok high 0/3", 0) == 0);
  }
  CHECK(at[240]->metric_value > 75);
  CHECK(at[240]->rule.rfind("ok high 1/3", 0) == 0);
  CHECK(at[300]->rule.rfind("ok high 2/3", 0) == 0);
  CHECK(at[360]->rule == "high_alarm 3/3");
  CHECK(at[360]->desired == static_cast<int>(std::ceil(4 * at[360]->metric_value / 50)));
  CHECK(at[360]->desired == 7);
  std::vector<Change> ch = changes(r);
  REQUIRE(!ch.empty());
  CHECK(ch.front().time_s == 360);
  CHECK(ch.front().current == 4);
}

// ---------------------------------------------------------------- scheduled: a floor before the peak

TEST_CASE("scheduled: an action raises the floor before a known peak, the inner controller works above it",
          "[sim][controllers][scheduled]") {
  // VMs of 2 vCPU ready 20 s after launch; 20 rps of 50 ms (1 core). Inside: aws_simple on CPU (out above
  // 70 % by 2, in below 30 % by 2, 60 s cooldown, a tick a minute), which goes from 2 VMs to 1 at once. The
  // action "before_peak" (one-off at 00:05, t = 300, a tick) sets MinSize 6: at 300 the count jumps to 6.
  // The peak, ×15 (15 cores) over [900, 1500), needs ceil(15 / (2 × 0.7)) = 11 VMs at 70 %: the inner
  // controller scales out above the floor, then back in to it after the peak, and no lower while the action
  // holds. "after_peak" at 2100 lowers MinSize to 1: the count falls below 6 (the floor held it, not the
  // controller).
  QueuePreset p;
  p.duration_s = 2700;
  p.arrival_rps = 20;
  p.instances = 2;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 20;
  constant_phases(run.services[0].startup, 0, 0, 20, 0, 1);
  run.traffic.components.push_back(burst(900, 600, 15));
  auto action = [](const char* name, const char* at, long min_size) {
    return table(
        {{"ScheduledActionName", std::string(name)}, {"StartTime", std::string(at)}, {"MinSize", min_size}});
  };
  Values inner{{"kind", std::string("aws_simple")},
               {"metric", std::string("cpu_utilization")},
               {"scale_out_above", 0.7},
               {"scale_in_below", 0.3},
               {"scale_out_adjustment", 2.0},
               {"scale_in_adjustment", 2.0},
               {"cooldown_s", 60.0},
               {"interval_s", 60.0}};
  auto sched = std::make_shared<DecisionLog>(
      "scheduled",
      Values{{"actions", std::vector<MapParams::Table>{action("before_peak", "1970-01-01T00:05:00Z", 6),
                                                       action("after_peak", "1970-01-01T00:35:00Z", 1)}},
             {"inner", table(inner)}});
  RunResult r = run_with(run, sched);

  // The floor the schedule sets, by tick (a diagnostic), and the decisions table.
  std::map<double, double> floor;
  for (const auto& [t, sd] : sched->log)
    floor[t] = sd.diagnostics.count("min_size") ? sd.diagnostics.at("min_size") : -1;
  int above = 0, below_after = 100;
  bool held = false;
  for (const auto& d : r.decisions) {
    INFO("t = " << d.time_s << ": " << d.current << " -> " << d.desired << " (" << d.rule << ")");
    if (d.time_s < 300) {
      CHECK(d.desired <= 2);
      CHECK(floor[d.time_s] == 1);  // the service's own min_instances
    } else if (d.time_s == 300) {
      CHECK(d.current < 6);
      CHECK(d.desired == 6);
      CHECK(d.rule == "scheduled_min_size");
    } else if (d.time_s < 2100) {
      CHECK(floor[d.time_s] == 6);
      CHECK(d.desired >= 6);
      above = std::max(above, d.desired);
      // After the peak the inner controller wants fewer: its own clamp to the floor it is shown.
      if (d.time_s >= 1500 && d.desired == 6 && d.current == 6) held = held || d.rule == "min_instances";
    } else {
      CHECK(floor[d.time_s] == 1);
      below_after = std::min(below_after, d.desired);
    }
  }
  CHECK(above >= 11);
  CHECK(held);
  CHECK(below_after < 6);
}

// ---------------------------------------------------------------- KEDA: cooldown and stabilization

TEST_CASE("keda: after the traffic stops, the HPA's stabilization and KEDA's cooldown give a cluster's delay",
          "[sim][controllers][keda]") {
  // 40 rps of 50 ms on pods until t = 600, then nothing. A prometheus-like trigger on arrival_rps, 4 per
  // replica (activation above 1), minReplicaCount 0, cooldownPeriod 300, polls every 30 s; the HPA KEDA
  // generates has no behavior: the legacy 300 s downscale stabilization. Monitoring: 15 s scrapes, 15 s late,
  // 30 s windows, so the rate seen at t covers [t - 45, t - 15]: the last non-zero rate is seen before 660,
  // the last active poll is at or before 660, and the last recommendation at the burst level (ceil(40 / 4) =
  // 10) before 660. With polls at 15, 45, ... (the first at the first decision): the poll at 615 sees [570,
  // 600], all traffic: active, and the HPA's recommendation at 615 is still the burst's; from 645 on,
  // nothing. Hence the first decrease after the traffic stops waits for the stabilization window after 615
  // (the HPA holds its highest recommendation of the last 300 s) and the step to zero for the cooldown after
  // the last active poll, 615: both at 915, so the count goes from the burst level to 0 at once (a cooldown
  // equal to the HPA's window), never before 900 = 600 + 300.
  QueuePreset p;
  p.instances = 1;
  p.duration_s = 1500;
  p.arrival_rps = 40;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 0;
  run.services[0].max_instances = 20;
  run.monitoring = {15, 15, 30};
  TrafficComponent quiet;
  quiet.kind = TrafficComponent::Kind::scheduled;
  quiet.name = "quiet";
  quiet.shape = true;
  quiet.start_s = 600;
  quiet.duration_s = 1e6;
  quiet.ramp_s = 0;
  quiet.multiplier = 0;
  run.traffic.components.push_back(quiet);
  Values metadata{{"query", std::string("arrival_rps")},
                  {"threshold", std::string("4")},
                  {"activationThreshold", std::string("1")}};
  Values trigger{{"type", std::string("prometheus")}, {"metadata", table(metadata)}};
  auto keda = std::make_shared<DecisionLog>(
      "keda", Values{{"minReplicaCount", 0L},
                     {"maxReplicaCount", 20L},
                     {"cooldownPeriod", 300L},
                     {"pollingInterval", 30L},
                     {"triggers", std::vector<MapParams::Table>{table(trigger)}}});
  RunResult r = run_with(run, keda);

  double to_zero = -1;
  int peak = 0, held = 1000;
  for (const auto& d : r.decisions) {
    if (d.time_s < 600) peak = std::max(peak, d.desired);
    if (d.time_s >= 600 && d.time_s < 900) held = std::min(held, d.desired);
    if (d.time_s >= 600 && to_zero < 0 && d.desired == 0) to_zero = d.time_s;
  }
  INFO("peak " << peak << ", lowest in [600, 900) " << held << ", to zero at " << to_zero);
  // The burst's recommendations are ceil(rate / 4) with the rate 40 +- a few over 30 s windows: 10 or 11.
  // Until 900 the HPA holds the highest of the last 300 s, all of them the burst's: never below 10.
  CHECK(peak >= 10);
  CHECK(held >= 10);
  REQUIRE(to_zero > 0);
  CHECK(to_zero >= 900);
  CHECK(to_zero <= 960);
  // From then on the count never goes up again (no request arrives to activate it).
  int last = peak;
  for (const auto& d : r.decisions)
    if (d.time_s >= 660) {
      CHECK(d.desired <= last);
      last = d.desired;
    }
}
