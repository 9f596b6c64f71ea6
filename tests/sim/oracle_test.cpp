// The oracle in the simulator: the foresight the engine gives is the truth (the startup samples the fleet
// then draws, the rate the arrivals follow), and on a deterministic step it can cover the oracle never
// violates the SLA, where CPU simple scaling on the same arrivals does, at less than a fleet sized for the
// peak. Each TEST_CASE runs in its own process (one SimGrid engine each); runs compared in one test case run
// in children.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "sim/core/presets.hpp"
#include "sim/engine/simulation.hpp"
#include "tests/sim/support.hpp"

using namespace autoscale;
using namespace autoscale::test;

namespace {

// One service on 2-vCPU VMs: constant work of 0.1 CPU-s (20 rps fill an instance), round robin, 20 rps until
// 1200 s, 60 rps until 2400 s, 20 rps after. Startup exactly 120 s: provision 20, boot 60, init 40, a probe
// every second (ready at the end of init). Monitoring 15 s scrapes, 15 s late, 60 s windows.
RunSpec step_run() {
  QueuePreset p;
  p.duration_s = 3600;
  p.arrival_rps = 20;
  p.instances = 2;
  p.hosts = 4;
  p.host_cores = 8;
  p.queue_limit = 50;
  p.client_timeout_s = 30;
  p.seed = 7;
  RunSpec run = single_queue(p);
  ServiceSpec& s = run.services[0];
  s.work_cpu_s = Distribution::constant(0.1);
  s.min_instances = 1;
  s.max_instances = 12;
  constant_phases(s.startup, 0, 20, 60, 40, 1);
  TrafficComponent peak;  // x3 over [1200, 2400), no ramp
  peak.kind = TrafficComponent::Kind::scheduled;
  peak.name = "peak";
  peak.shape = true;
  peak.start_s = 1200;
  peak.duration_s = 1200;
  peak.multiplier = 3;
  peak.ramp_s = 0;
  run.traffic.components.push_back(peak);
  return run;
}

std::shared_ptr<Controller> controller(const std::string& kind, std::map<std::string, MapParams::Value> v) {
  MapParams p(std::move(v));
  return make_controller(kind, p, ControllerContext{{"svc"}});
}

// Sized from the capacity the simulator derives: 2 cores / 0.1 CPU-s = 20 rps, at the default 60 % target
// 12 rps per instance: 20 rps need 2, 60 rps need 5.
std::shared_ptr<Controller> oracle() {
  return controller("oracle", {{"interval_s", 60.0}});
}

// CPU simple scaling as the shipped scenarios configure it: +1 above 70 %, -1 below 30 %, 60 s cooldown.
std::shared_ptr<Controller> threshold() {
  return controller(
      "threshold",
      {{"interval_s", 60.0}, {"scale_out_above", 0.7}, {"scale_in_below", 0.3}, {"cooldown_s", 60.0}});
}

// A controller that wants the future and writes down what it is shown: at 60 s the next three startups of
// "svc" and the peak rate over a few windows; then it orders 3 more instances.
class ForesightProbe : public Controller {
 public:
  Decision decide(const Observation& obs) override {
    Decision d;
    if (obs.time_s == 60) {
      for (int k = 0; k < 3; ++k) startups.push_back(foresight_->startup_s("svc", k));
      peaks = {foresight_->peak_rps("svc", 60, 1200), foresight_->peak_rps("svc", 60, 1201),
               foresight_->peak_rps("svc", 1199, 1200.5), foresight_->peak_rps("svc", 2400, 3000),
               foresight_->peak_rps("nosuch", 60, 1201)};
      d.services.push_back({"svc", obs.find("svc")->desired + 3, "", 0, "probe"});
    }
    return d;
  }
  double interval_s() const override { return 60; }
  bool wants_foresight() const override { return true; }
  void set_foresight(Foresight& f) override { foresight_ = &f; }

  std::vector<double> startups;
  std::vector<double> peaks;

 private:
  Foresight* foresight_ = nullptr;
};

// A controller that wants the future and writes down the capacity it shows for each of `services` when it is
// handed over; it never orders anything.
class CapacityProbe : public Controller {
 public:
  explicit CapacityProbe(std::vector<std::string> services) : services_(std::move(services)) {}
  Decision decide(const Observation&) override { return {}; }
  double interval_s() const override { return 60; }
  bool wants_foresight() const override { return true; }
  void set_foresight(Foresight& f) override {
    for (const auto& s : services_) capacities.push_back(f.capacity_rps(s));
  }

  std::vector<double> capacities;

 private:
  std::vector<std::string> services_;
};

// One instance of "svc" (2 vCPU, exponential work of mean 0.1 CPU-s) flooded at `arrival_rps`, 600 s.
RunSpec flooded(int workers, double arrival_rps) {
  QueuePreset p;
  p.duration_s = 600;
  p.arrival_rps = arrival_rps;
  p.work_mean_s = 0.1;
  p.instances = 1;
  p.vcpu = 2;
  p.workers = workers;
  p.hosts = 2;
  p.host_cores = 8;
  p.queue_limit = 5;
  p.seed = 11;
  return single_queue(p);
}

// The capacity shown for "svc" and for a service that does not exist, and what "svc" served (completed
// requests per second over the run).
std::vector<double> capacity_and_served(const RunSpec& run) {
  auto probe = std::make_shared<CapacityProbe>(std::vector<std::string>{"svc", "nosuch"});
  RunResult r = run_with(run, probe);
  REQUIRE(probe->capacities.size() == 2);
  return {probe->capacities[0], probe->capacities[1], metric(r, "requests_completed") / run.duration_s};
}

// Launch request to ready (warming or in service) of each instance launched after time 0, in id order.
std::vector<double> startup_durations(const RunResult& r) {
  std::map<int, double> launched, ready;
  for (const auto& e : r.events) {
    if (e.transition == "launching" && e.time_s > 0 && !launched.count(e.instance))
      launched[e.instance] = e.time_s;
    if ((e.transition == "warming" || e.transition == "in_service") && launched.count(e.instance) &&
        !ready.count(e.instance))
      ready[e.instance] = e.time_s - launched[e.instance];
  }
  std::vector<double> out;
  for (const auto& [id, s] : ready) out.push_back(s);
  return out;
}

}  // namespace

TEST_CASE("oracle: the foresight shows the startups the fleet then draws and the rate the arrivals follow",
          "[sim][oracle]") {
  // Random startups (every phase a distribution, a probe every 5 s after a 3 s delay): the durations shown
  // at 60 s for the next three launches are those of the three instances launched at 60 s.
  RunSpec run = step_run();
  StartupSpec& st = run.services[0].startup;
  st.launch_s = Distribution::exponential_mean(3);
  st.provision_s = Distribution::exponential_mean(20);
  st.boot_s = Distribution::exponential_mean(40);
  st.init_s = Distribution::exponential_mean(30);
  st.readiness_initial_delay_s = 3;
  st.readiness_period_s = 5;
  st.readiness_success_threshold = 2;
  run.duration_s = 600;
  // The same launches without anyone looking ahead: the samples drawn ahead are the ones launches take.
  std::vector<double> unobserved = in_child([&] {
    return startup_durations(
        run_with(run, std::make_shared<ScriptedController>(60, std::map<double, int>{{60, 5}})));
  });
  auto probe = std::make_shared<ForesightProbe>();
  RunResult r = run_with(run, probe);
  std::vector<double> actual = startup_durations(r);
  REQUIRE(actual.size() == 3);
  REQUIRE(probe->startups.size() == 3);
  for (size_t k = 0; k < 3; ++k) {
    INFO("launch " << k);
    CHECK(probe->startups[k] == Approx(actual[k]).margin(1e-9));
  }
  CHECK(unobserved == actual);
  // 20 rps before 1200, 60 from 1200 (a 1-second resolution: [1199, 1200.5) holds both steps), 20 after 2400;
  // a service that does not exist has none.
  CHECK(probe->peaks == std::vector<double>{20, 60, 60, 20, 0});
}

TEST_CASE("oracle: never violates the SLA on a deterministic step it can cover", "[sim][oracle]") {
  // The step to 60 rps at 1200 needs 5 instances; with a 120 s startup the oracle launches 3 at 1080 (the
  // tick whose window [1080, 1080 + 60 + 120) first reaches 1200), ready at 1200 exactly, and lets them go
  // at 2400 when the window holds 20 rps only. The threshold policy on the same arrivals sees the overload
  // only when it happens, and waits 120 s for each launch: its queues overflow. A static fleet of 5 (the
  // peak) covers it too, at a higher cost.
  RunSpec run = step_run();
  std::vector<double> reactive = in_child([&] {
    RunResult r = run_with(run, threshold());
    return std::vector<double>{metric(r, "sla_violation_fraction"), metric(r, "cost_usd")};
  });
  std::vector<double> peak = in_child([&] {
    RunSpec fixed = run;
    fixed.services[0].initial_instances = 5;
    RunResult r = run_with(fixed, controller("static", {{"instances", 5L}}));
    return std::vector<double>{metric(r, "sla_violation_fraction"), metric(r, "cost_usd")};
  });
  RunResult r = run_with(run, oracle());

  std::vector<std::pair<double, int>> changes;
  for (const auto& d : r.decisions)
    if (d.desired != d.current) changes.emplace_back(d.time_s, d.desired);
  CHECK(changes == std::vector<std::pair<double, int>>{{1080, 5}, {2400, 2}});
  CHECK(count(r, "requests_failed") == 0);
  CHECK(metric(r, "sla_violation_fraction") == 0);
  INFO("threshold: violations " << reactive[0] << ", cost " << reactive[1] << "; static 5: violations "
                                << peak[0] << ", cost " << peak[1] << "; oracle cost "
                                << metric(r, "cost_usd"));
  CHECK(reactive[0] > 0.02);
  CHECK(peak[0] == 0);
  CHECK(metric(r, "cost_usd") < 0.75 * peak[1]);
  CHECK(metric(r, "cost_usd") <= reactive[1]);
}

TEST_CASE("oracle: the capacity the foresight shows is the closed form and what a flooded instance serves",
          "[sim][oracle]") {
  // capacity_rps = min(cores, workers) x host speed / reference speed / E[work_cpu_s], checked against the
  // closed form and against the completions of one instance flooded at about three times it (+-5 %: a
  // Poisson count of 6000 or more).
  // 2 vCPU, 2 workers, work of mean 0.1 s: 20 rps.
  std::vector<double> two = in_child([] { return capacity_and_served(flooded(2, 60)); });
  CHECK(two[0] == Approx(20).epsilon(1e-12));
  CHECK(two[1] == 0);  // no such service
  CHECK(two[2] == Approx(20).epsilon(0.05));
  // One worker: one core busy at a time, 10 rps.
  std::vector<double> one = in_child([] { return capacity_and_served(flooded(1, 30)); });
  CHECK(one[0] == Approx(10).epsilon(1e-12));
  CHECK(one[2] == Approx(10).epsilon(0.05));
  // 8 workers on 2 vCPU: the cores bound it; hosts twice the reference speed; work a normal of mean 0.1 s and
  // cv 1 truncated at 0, whose mean is mu + sigma phi(1) / Phi(1) (alpha = -1).
  std::vector<double> fast = in_child([] {
    RunSpec run = flooded(8, 100);
    run.hosts.speed_gflops = 3;
    run.reference_speed_gflops = 1.5;
    Distribution& w = run.services[0].work_cpu_s;
    w.kind = Distribution::Kind::normal;
    w.mean = 0.1;
    w.cv = 1;
    return capacity_and_served(run);
  });
  const double phi1 = 0.3989422804014327 * std::exp(-0.5), cdf1 = 0.5 * std::erfc(-1 / std::sqrt(2.0));
  const double truncated_mean = 0.1 + 0.1 * phi1 / cdf1;  // 0.12876
  CHECK(truncated_mean == Approx(0.12876).epsilon(1e-4));
  CHECK(fast[0] == Approx(2 * 2 / truncated_mean).epsilon(1e-12));  // 31.07 rps
  CHECK(fast[2] == Approx(2 * 2 / truncated_mean).epsilon(0.05));
  // A pod with a 1.5-core limit on a 4-vCPU node of a fixed pool (1 core requested), 8 workers: 15 rps.
  std::vector<double> pod = in_child([] {
    RunSpec run = flooded(8, 45);
    run.instance_types[0] = {"vm", 4, 64, 0.05};
    run.node_pools[0].dedicated = false;
    run.node_pools[0].nodes = 1;
    run.hosts.count = 1;
    run.hosts.cores = 4;
    run.services[0].cpu_request = 1;
    run.services[0].cpu_limit = 1.5;
    return capacity_and_served(run);
  });
  CHECK(pod[0] == Approx(15).epsilon(1e-12));
  CHECK(pod[2] == Approx(15).epsilon(0.05));
  // Without a limit its capacity is what it requested, 1 core: 10 rps (alone on an idle node it bursts
  // beyond, up to the node's 4 cores).
  std::vector<double> burst = in_child([] {
    RunSpec run = flooded(8, 45);
    run.instance_types[0] = {"vm", 4, 64, 0.05};
    run.node_pools[0].dedicated = false;
    run.node_pools[0].nodes = 1;
    run.hosts.count = 1;
    run.hosts.cores = 4;
    run.services[0].cpu_request = 1;
    return capacity_and_served(run);
  });
  CHECK(burst[0] == Approx(10).epsilon(1e-12));
  CHECK(burst[2] > 10);
  // Work of mean 0: no capacity to derive, 0; and an oracle without rps_per_instance refuses to run.
  RunSpec free_work = flooded(2, 10);
  free_work.services[0].work_cpu_s = Distribution::constant(0);
  std::vector<double> none = in_child([&] { return capacity_and_served(free_work); });
  CHECK(none[0] == 0);
  std::vector<double> refused = in_child([&] {
    try {
      run_with(free_work, controller("oracle", {}));
    } catch (const InputError& e) {
      std::string m = e.what();
      return std::vector<double>{m.find("'rps_per_instance'") != std::string::npos &&
                                         m.find("service 'svc'") != std::string::npos
                                     ? 1.0
                                     : 0.0};
    }
    return std::vector<double>{};  // it ran
  });
  CHECK(refused == std::vector<double>{1});
}

TEST_CASE("oracle: inside a wrapper it is given the foresight and decides as it does alone",
          "[sim][oracle]") {
  // flapping_guard and composite around the oracle on the deterministic step: the same two changes as the
  // oracle alone ({1080, 5}, {2400, 2}: "never violates the SLA" above), no violation.
  auto inner = std::make_shared<MapParams>(
      std::map<std::string, MapParams::Value>{{"kind", std::string("oracle")}, {"interval_s", 60.0}});
  std::shared_ptr<Controller> guard =
      controller("flapping_guard", {{"inner", inner}, {"scaleOutThreshold", 1e9}});
  RunResult r = run_with(step_run(), guard);
  std::vector<std::pair<double, int>> changes;
  for (const auto& d : r.decisions)
    if (d.desired != d.current) changes.emplace_back(d.time_s, d.desired);
  CHECK(changes == std::vector<std::pair<double, int>>{{1080, 5}, {2400, 2}});
  CHECK(metric(r, "sla_violation_fraction") == 0);
}
