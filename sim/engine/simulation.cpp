// Exact mode: the parts wired together and driven by one clock. The loop advances the execution backend
// (SimGrid) to the next of our own events (arrivals, lifecycle phase ends, scrapes, control ticks, records);
// request and init work end through the backend's completion handler. The parts know only the parts below
// them (sim/engine/clock, sim/backend, sim/cluster, sim/fleet, sim/requests); what goes upward is a hook
// this file connects.
#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "controllers/registry.hpp"
#include "sim/backend/simgrid_backend.hpp"
#include "sim/cluster/cluster.hpp"
#include "sim/core/monitoring.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/traffic.hpp"
#include "sim/engine/clock.hpp"
#include "sim/fleet/fleet.hpp"
#include "sim/requests/request_path.hpp"

namespace autoscale {

namespace {
std::vector<bool> database_flags(const RunSpec& run) {
  std::vector<bool> v;
  for (const auto& s : run.services) v.push_back(s.database);
  return v;
}
}  // namespace

struct Simulation::Impl {
  // Per service: CPU of ready instances (for utilization), history and cost.
  struct ServiceState {
    double ready_busy_closed_core_s = 0;  // CPU delivered to instances while ready, periods that ended
    double cap_level = 0;                 // CPU requested by ready instances now (cores)
    double capacity_core_s = 0, level_since = 0;
    double rec_busy0 = 0, rec_cap0 = 0;  // at the previous record
    double work_flops_mean = 0;
    double usable_cores = 0;  // per instance, in cores of reference speed: min(workers, cores) x speed ratio
    double closed_cost_usd = 0;  // dedicated nodes of terminated instances
    std::vector<int> desired_history;
  };

  Impl(const RunSpec& run, const SimulationOptions& opts)
      : run_(run),
        opts_(opts),
        graph_(run, opts.file),
        arrivals_(run.traffic, run.seed),
        monitoring_(run.monitoring, database_flags(run)),
        backend_(run),
        cluster_(run, backend_, opts.file),
        fleet_(
            run, cluster_, backend_, clock_,
            Fleet::Hooks{[this](int id, State from, State to, double t) { on_transition(id, from, to, t); },
                         [this](int id, double t) { requests_.fail_instance(id, t); },
                         [this](int id) { return requests_.outstanding(id); }}),
        requests_(run, graph_, fleet_, backend_,
                  RequestPath::Hooks{[this](int id, double t) { fleet_.on_idle(id, t); }}, result_),
        services_(run.services.size()) {
    backend_.set_completion_handler([this](ActivityId id, bool ok, double t) {
      now_ = std::max(now_, t);  // one clock: never behind an event already handled
      if (id.kind == ActivityKind::init_exec)
        fleet_.on_init_cpu_done(static_cast<int>(id.index), now_);
      else
        requests_.on_completion(id, ok, now_);
    });
    ControllerContext ctx;
    for (const auto& s : run.services) ctx.services.push_back(s.name);
    controller_ =
        opts.controller ? opts.controller : make_controller(run.controller.kind, *run.controller.params, ctx);
    result_.name = run.name;
    result_.config_toml = run.config_toml;
    result_.record_interval_s = run.record_interval_s;
    const double ref_flops = run.reference_speed_gflops * 1e9;
    for (size_t s = 0; s < run.services.size(); ++s) {
      const ServiceSpec& spec = run.services[s];
      ServiceState& sv = services_[s];
      sv.work_flops_mean = spec.work_cpu_s.expected() * ref_flops;
      const NodePool& pool = run.node_pool(spec.node_pool);
      double cores = pool.dedicated ? run.instance_type(pool.instance_type).vcpu : spec.cpu_request;
      if (!pool.dedicated && spec.cpu_limit > 0) cores = std::max(cores, spec.cpu_limit);
      sv.usable_cores =
          std::min<double>(cores, spec.workers) * run.hosts.speed_gflops / run.reference_speed_gflops;
      result_.services.emplace_back();
      result_.services.back().name = spec.name;
    }
    take_scrape(0);
    for (size_t s = 0; s < run.services.size(); ++s) {
      services_[s].desired_history.push_back(spec_initial(s));
      fleet_.set_desired(static_cast<int>(s), spec_initial(s), 0, true);
    }
    clock_.every(run.monitoring.scrape_interval_s, EventKind::scrape, run.duration_s);
    clock_.every(controller_->interval_s(), EventKind::control, run.duration_s);
    clock_.every(run.record_interval_s, EventKind::record, run.duration_s, true);
    next_arrival_ = arrivals_.next(run.duration_s);
  }

  int spec_initial(size_t s) const { return run_.services[s].initial_instances; }

  // CPU delivered to an instance so far (cores x s): finished work, and running work as far as it got.
  double usage_core_s(int id) const {
    return fleet_.instance(id).cpu_done_core_s + fleet_.init_running_core_s(id) +
           requests_.running_core_s(id);
  }

  void touch_capacity(ServiceState& sv, double t) {
    sv.capacity_core_s += sv.cap_level * (t - sv.level_since);
    sv.level_since = t;
  }

  void on_transition(int id, State from, State to, double t) {
    const Instance& in = fleet_.instance(id);
    ServiceState& sv = services_[static_cast<size_t>(in.service)];
    if (from != to && is_ready(from) != is_ready(to)) {
      touch_capacity(sv, t);
      double sign = is_ready(to) ? 1 : -1;
      sv.cap_level += sign * in.placement.cpu_request_cores;
      // Usage while ready: counted from the moment it turned ready.
      if (ready_usage_start_.size() <= static_cast<size_t>(id))
        ready_usage_start_.resize(static_cast<size_t>(id) + 1);
      double u = usage_core_s(id);
      if (is_ready(to))
        ready_usage_start_[static_cast<size_t>(id)] = u;
      else
        sv.ready_busy_closed_core_s += u - ready_usage_start_[static_cast<size_t>(id)];
    }
    if (to == State::terminated) {
      instance_seconds_closed_ += t - in.launched_at;
      sv.closed_cost_usd += in.bill_usd;
    }
    result_.events.push_back({t, id, in.service, state_name(to)});
  }

  double ready_busy_core_s(int s, double t) {
    (void)t;
    ServiceState& sv = services_[static_cast<size_t>(s)];
    double busy = sv.ready_busy_closed_core_s;
    for (int id : fleet_.routable(s)) busy += usage_core_s(id) - ready_usage_start_[static_cast<size_t>(id)];
    return busy;
  }

  void take_scrape(double t) {
    Scrape sc;
    sc.time_s = t;
    sc.services.resize(services_.size());
    for (size_t s = 0; s < services_.size(); ++s) {
      ServiceState& sv = services_[s];
      ServiceCounters& c = requests_.counters(static_cast<int>(s));
      int si = static_cast<int>(s);
      touch_capacity(sv, t);
      ServiceSample& o = sc.services[s];
      o.arrivals = c.arrivals;
      o.completions = c.completions;
      o.failures = c.failures;
      o.busy_core_s = ready_busy_core_s(si, t);
      o.capacity_core_s = sv.capacity_core_s;
      o.in_service = c.in_service;
      o.pending = fleet_.count(si, State::pending);
      o.starting = fleet_.starting(si);
      o.warming = fleet_.count(si, State::warming);
      o.in_service_instances = fleet_.count(si, State::in_service);
      o.draining = fleet_.count(si, State::draining);
      for (int id : fleet_.routable(si)) {
        o.in_service_ready += requests_.busy(id);
        o.queued_ready += requests_.queued(id);
      }
      o.latencies_s.swap(c.scrape_latencies_s);
      c.scrape_latencies_s.clear();
      const double limit = run_.services[s].cpu_limit;
      for (int id : fleet_.of_service(si)) {
        const Instance& in = fleet_.instance(id);
        if (in.state == State::terminated) continue;
        InstanceSample is;
        is.id = id;
        is.state = state_name(in.state);
        is.ready = is_ready(in.state);
        is.deleting = in.state == State::draining;
        is.start_time_s = in.launched_at;
        is.ready_time_s = in.ready_time;
        is.busy_core_s = usage_core_s(id);
        is.cpu_request_cores = in.placement.node >= 0 ? in.placement.cpu_request_cores : nominal_request(s);
        is.cpu_limit_cores = run_.node_pool(run_.services[s].node_pool).dedicated ? 0 : limit;
        is.throttled_s = requests_.throttled_s(id, t);
        is.in_service = requests_.busy(id);
        o.instances.push_back(std::move(is));
      }
    }
    monitoring_.add(std::move(sc));
  }

  // What an instance not placed yet will request: a pod's cpu_request, a dedicated node's vCPUs.
  double nominal_request(size_t s) const {
    const NodePool& pool = run_.node_pool(run_.services[s].node_pool);
    return pool.dedicated ? run_.instance_type(pool.instance_type).vcpu : run_.services[s].cpu_request;
  }

  void control(double t) {
    Observation obs;
    obs.time_s = t;
    std::vector<int> pending_by_pool(run_.node_pools.size(), 0);
    for (size_t s = 0; s < services_.size(); ++s) {
      const ServiceSpec& spec = run_.services[s];
      ServiceObservation o;
      o.name = spec.name;
      o.min_instances = spec.min_instances;
      o.max_instances = spec.max_instances;
      o.desired = fleet_.desired(static_cast<int>(s));
      obs.services.push_back(o);
      pending_by_pool[static_cast<size_t>(cluster_.pool_of_service(static_cast<int>(s)))] +=
          fleet_.count(static_cast<int>(s), State::pending);
    }
    obs.node_pools = cluster_.observe(pending_by_pool);
    monitoring_.observe(t, obs);
    auto w0 = std::chrono::steady_clock::now();
    Decision d = controller_->decide(obs);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    last_observation_ = std::move(obs);
    for (const auto& sd : d.services) {
      int s = run_.service_index(sd.service);
      if (s < 0) continue;
      const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
      int current = fleet_.desired(s);
      int want = std::clamp(sd.desired, spec.min_instances, spec.max_instances);
      std::string rule = sd.rule;
      if (want != sd.desired) rule += want > sd.desired ? ",min_instances" : ",max_instances";
      result_.decisions.push_back({t, s, current, want, sd.metric, sd.metric_value, rule, wall});
      if (want != current) {
        services_[static_cast<size_t>(s)].desired_history.push_back(want);
        fleet_.set_desired(s, want, t);
      }
    }
    for (const auto& nd : d.node_pools)
      for (size_t p = 0; p < run_.node_pools.size(); ++p)
        if (run_.node_pools[p].name == nd.pool && !run_.node_pools[p].dedicated) {
          cluster_.resize_pool(static_cast<int>(p), std::max(0, nd.desired_nodes), t);
          fleet_.retry_pending(t);
        }
  }

  void record(double t) {
    double dt = t - (result_.time_s.empty() ? 0.0 : result_.time_s.back());
    result_.time_s.push_back(t);
    result_.cost_usd.push_back(cluster_.cost_usd(t));
    const double ref_flops = run_.reference_speed_gflops * 1e9;
    for (size_t s = 0; s < services_.size(); ++s) {
      int si = static_cast<int>(s);
      ServiceState& sv = services_[s];
      ServiceCounters& c = requests_.counters(si);
      ServiceSeries& o = result_.services[s];
      touch_capacity(sv, t);
      double busy = ready_busy_core_s(si, t);
      o.arrival_rps.push_back(c.rec_arrivals / dt);
      o.completed_rps.push_back(c.rec_completions / dt);
      o.latency_p50_s.push_back(quantile(c.rec_latencies_s, 0.50));
      o.latency_p95_s.push_back(quantile(c.rec_latencies_s, 0.95));
      o.latency_p99_s.push_back(quantile(c.rec_latencies_s, 0.99));
      double cap = sv.capacity_core_s - sv.rec_cap0;
      o.utilization.push_back(cap > 0 ? (busy - sv.rec_busy0) / cap : 0);
      o.queue_depth.push_back(c.queued);
      double offered_cores = c.rec_arrivals / dt * sv.work_flops_mean / ref_flops;  // at reference speed
      double per_instance = sv.usable_cores * run_.metrics.reference_utilization;
      o.needed_instances.push_back(std::ceil(offered_cores / per_instance - 1e-9));
      o.instances_desired.push_back(fleet_.desired(si));
      o.instances_pending.push_back(fleet_.count(si, State::pending));
      o.instances_starting.push_back(fleet_.starting(si));
      o.instances_ready.push_back(fleet_.count(si, State::warming) + fleet_.count(si, State::in_service));
      o.instances_draining.push_back(fleet_.count(si, State::draining));
      double cost = sv.closed_cost_usd;
      for (int id : fleet_.of_service(si)) {
        const Instance& in = fleet_.instance(id);
        if (in.state != State::terminated && in.placement.node >= 0 &&
            cluster_.nodes()[static_cast<size_t>(in.placement.node)].dedicated)
          cost += cluster_.node_cost_usd(in.placement.node, t);
      }
      o.cost_usd.push_back(cost);
      c.rec_arrivals = c.rec_completions = 0;
      c.rec_latencies_s.clear();
      sv.rec_busy0 = busy;
      sv.rec_cap0 = sv.capacity_core_s;
    }
  }

  void handle(const Event& e) {
    switch (e.kind) {
      case EventKind::scrape:
        take_scrape(now_);
        break;
      case EventKind::control:
        control(now_);
        break;
      case EventKind::record:
        record(now_);
        break;
      default:
        fleet_.on_event(e, now_);
        break;
    }
  }

  bool step_until(double t_stop) {
    const double end = run_.duration_s;
    t_stop = std::min(t_stop, end);
    for (;;) {
      double t_ev = clock_.next_time();
      double t_next = std::min(t_ev, next_arrival_);
      if (t_next > t_stop) break;
      backend_.advance_to(t_next);
      // An event scheduled from a completion may fall before the date the backend just reached: it is handled
      // at that date, so that time never runs backwards.
      now_ = std::max(now_, t_next);
      if (next_arrival_ <= t_ev) {
        requests_.on_root_arrival(now_);
        next_arrival_ = arrivals_.next(end);
      } else {
        handle(clock_.pop());
      }
      if (opts_.progress && (++iterations_ & 0x3fff) == 0) opts_.progress(now_ / end);
    }
    if (t_stop > now_) {
      backend_.advance_to(t_stop);
      now_ = t_stop;
    }
    return now_ < end;
  }

  RunResult finish() {
    const double end = run_.duration_s;
    step_until(end);
    for (size_t k = 0; k < services_.size(); ++k) {
      std::vector<double>& failed = result_.services[k].failed_rps;
      const std::vector<double>& by_interval = requests_.counters(static_cast<int>(k)).failures_by_interval;
      for (size_t i = 0; i < result_.time_s.size(); ++i) {
        double dt = result_.time_s[i] - (i > 0 ? result_.time_s[i - 1] : 0.0);
        failed.push_back(i < by_interval.size() ? by_interval[i] / dt : 0);
      }
    }
    RunTotals totals;
    const RootCounters& roots = requests_.roots();
    totals.requests_total = roots.total;
    totals.requests_failed = roots.failed;
    totals.completed_latencies_s = roots.latencies_s;
    totals.scaling_latencies_s = roots.scaling_latencies_s;
    totals.in_flight_arrivals_s = requests_.roots_in_flight();
    totals.instance_seconds = instance_seconds_closed_;
    for (const Instance& in : fleet_.instances())
      if (in.state != State::terminated) totals.instance_seconds += end - in.launched_at;
    totals.cost_usd = cluster_.cost_usd(end);
    totals.duration_s = end;
    for (const auto& sv : services_) totals.desired_history.push_back(sv.desired_history);
    result_.summary = summarize(totals, result_, SummaryConfig{run_.sla.latency_s});
    return std::move(result_);
  }

  const RunSpec& run_;
  SimulationOptions opts_;
  ServiceGraph graph_;
  ArrivalProcess arrivals_;
  MonitoringPipeline monitoring_;
  SimgridBackend backend_;
  Clock clock_;
  Cluster cluster_;
  Fleet fleet_;
  RequestPath requests_;
  std::shared_ptr<Controller> controller_;
  std::vector<ServiceState> services_;
  std::vector<double> ready_usage_start_;  // per instance: its usage when it last turned ready
  RunResult result_;
  Observation last_observation_;
  double now_ = 0;
  double next_arrival_ = 0;
  double instance_seconds_closed_ = 0;
  long iterations_ = 0;
};

Simulation::Simulation(const RunSpec& run, const SimulationOptions& opts)
    : impl_(std::make_unique<Impl>(run, opts)) {}
Simulation::~Simulation() = default;
bool Simulation::step_until(double t_s) {
  return impl_->step_until(t_s);
}
double Simulation::now_s() const {
  return impl_->now_;
}
double Simulation::end_s() const {
  return impl_->run_.duration_s;
}
const Observation& Simulation::last_observation() const {
  return impl_->last_observation_;
}
RunResult Simulation::finish() {
  return impl_->finish();
}

RunResult run_simulation(const RunSpec& run, const SimulationOptions& opts) {
  Simulation sim(run, opts);
  return sim.finish();
}

}  // namespace autoscale
