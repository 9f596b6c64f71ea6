// Exact mode: the parts wired together and driven by one clock. The loop advances the execution backend
// (SimGrid) to the next of our own events (arrivals, lifecycle phase ends, scrapes, control ticks, records);
// request and init work end through the backend's completion handler. The parts know only the parts below
// them (sim/engine/clock, sim/backend, sim/cluster, sim/fleet, sim/requests; sim/observe reads them all);
// what goes upward is a hook this file connects. Fluid mode (sim/fluid) has no arrivals: its request model
// integrates the offered rate up to each event instead (RequestModel::advance_to).
#include "sim/engine/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <map>
#include <sstream>

#include "controllers/registry.hpp"
#include "sim/backend/make_backend.hpp"
#include "sim/cluster/cluster.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/startup.hpp"
#include "sim/core/traffic.hpp"
#include "sim/engine/clock.hpp"
#include "sim/fleet/fleet.hpp"
#include "sim/fluid/fluid_requests.hpp"
#include "sim/observe/observer.hpp"
#include "sim/requests/request_path.hpp"

namespace autoscale {

namespace {
// The true future a clairvoyant controller is given. The rate: a second RateFunction on the same traffic and
// seed (deterministic), queried where the arrival process queries it, at k x resolution_s, each step's rate
// holding until the next; it is computed forward only, so the steps from now on are kept. The startups: the
// fleet's own samples, drawn ahead.
class EngineForesight : public Foresight {
 public:
  EngineForesight(const RunSpec& run, const ServiceGraph& graph, Fleet& fleet, const double& now)
      : run_(run), graph_(graph), fleet_(fleet), now_(now), rate_(run.traffic, run.seed) {}

  double peak_rps(const std::string& service, double t0_s, double t1_s) override {
    int s = run_.service_index(service);
    if (s < 0 || !(t1_s > t0_s)) return 0;
    const double res = run_.traffic.resolution_s;
    const long current = static_cast<long>(std::floor(now_ / res));
    for (; first_ < current && !steps_.empty(); ++first_) steps_.pop_front();
    if (steps_.empty()) first_ = std::max(first_, current);  // past steps never asked for are skipped
    const long k1 = static_cast<long>(std::ceil(t1_s / res));
    double peak = 0;
    for (long k = std::max(first_, static_cast<long>(std::floor(t0_s / res))); k < k1; ++k) {
      while (first_ + static_cast<long>(steps_.size()) <= k)
        steps_.push_back(rate_.rate(static_cast<double>(first_ + static_cast<long>(steps_.size())) * res));
      peak = std::max(peak, steps_[static_cast<size_t>(k - first_)]);
    }
    return peak * graph_.visits()[static_cast<size_t>(s)];
  }

  double startup_s(const std::string& service, int k) override {
    int s = run_.service_index(service);
    return s < 0 ? 0 : fleet_.upcoming_startup_s(s, k);
  }

  // As the engine runs a request: one core each (an execution on the instance's host, VM or container), its
  // work_cpu_s scaled by reference over host speed; the cores as placement gives them (sim/cluster), the same
  // that sim/observe's needed instances count.
  double capacity_rps(const std::string& service) override {
    int s = run_.service_index(service);
    if (s < 0) return 0;
    const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
    const double work_s = spec.work_cpu_s.expected();
    if (!(work_s > 0)) return 0;
    const NodePool& pool = run_.node_pool(spec.node_pool);
    const double cores = pool.dedicated       ? run_.instance_type(pool.instance_type).vcpu
                         : spec.cpu_limit > 0 ? spec.cpu_limit
                                              : spec.cpu_request;
    return std::min<double>(cores, spec.workers) * run_.hosts.speed_gflops / run_.reference_speed_gflops /
           work_s;
  }

 private:
  const RunSpec& run_;
  const ServiceGraph& graph_;
  Fleet& fleet_;
  const double& now_;
  RateFunction rate_;
  std::deque<double> steps_;  // the rate of steps first_, first_ + 1, ...
  long first_ = 0;
};
}  // namespace

struct Simulation::Impl {
  Impl(const RunSpec& run, const SimulationOptions& opts)
      : run_(run),
        opts_(opts),
        graph_(run, opts.file),
        arrivals_(run.traffic, run.seed),
        backend_ptr_(make_backend(run)),
        backend_(*backend_ptr_),
        cluster_(run, backend_, clock_, opts.file),
        fleet_(
            run, cluster_, backend_, clock_,
            Fleet::Hooks{[this](int id, State from, State to, double t) { on_transition(id, from, to, t); },
                         [this](int id, double t) { requests_.fail_instance(id, t); },
                         [this](int id) { return requests_.outstanding(id); }}),
        requests_ptr_(run.fidelity == Fidelity::fluid
                          ? std::unique_ptr<RequestModel>(std::make_unique<FluidRequests>(
                                run, graph_, fleet_, backend_.speed_flops_per_core()))
                          : std::make_unique<RequestPath>(
                                run, graph_, fleet_, backend_,
                                RequestPath::Hooks{[this](int id, double t) { fleet_.on_idle(id, t); }},
                                result_)),
        requests_(*requests_ptr_),
        observer_(run, fleet_, requests_, cluster_, result_) {
    backend_.set_completion_handler([this](ActivityId id, bool ok, double t) {
      now_ = std::max(now_, t);  // one clock: never behind an event already handled
      if (id.kind == ActivityKind::init_exec)
        fleet_.on_init_cpu_done(static_cast<int>(id.index), now_);
      else
        requests_.on_completion(id, ok, now_);
    });
    ControllerContext ctx;
    for (const auto& s : run.services) ctx.services.push_back(s.name);
    ctx.base_dir = run.controller.base_dir;
    ctx.startup_samples_s = startup_samples_s(run);
    if (run.monitoring.history_s > 0) {
      std::vector<double> entry =
          rate_history(run.traffic, run.seed, run.monitoring.history_s, run.monitoring.history_step_s);
      ctx.history_step_s = run.monitoring.history_step_s;
      for (size_t s = 0; s < run.services.size(); ++s) {
        std::vector<double>& h = ctx.history_arrival_rps[run.services[s].name];
        for (double v : entry) h.push_back(v * graph_.visits()[s]);
      }
    }
    controller_ =
        opts.controller ? opts.controller : make_controller(run.controller.kind, *run.controller.params, ctx);
    if (controller_->wants_foresight()) {
      foresight_ = std::make_unique<EngineForesight>(run, graph_, fleet_, now_);
      controller_->set_foresight(*foresight_);
    }
    for (const std::string& name : controller_->scale_to_zero_services()) {
      int s = run.service_index(name);
      if (s >= 0) requests_.enable_activator(s);
    }
    for (size_t s = 0; s < run.services.size(); ++s) {
      int n = run.services[s].initial_instances;
      observer_.on_desired(static_cast<int>(s), n);
      fleet_.set_desired(static_cast<int>(s), n, 0, true);
    }
    observer_.scrape(0);  // of the fleet as it is at time 0: the initial instances are in service
    clock_.every(run.monitoring.scrape_interval_s, EventKind::scrape, run.duration_s);
    clock_.every(controller_->interval_s(), EventKind::control, run.duration_s);
    if (!run.node_autoscaler.config.kind.empty()) {
      node_autoscaler_ = make_node_autoscaler(run.node_autoscaler.config);
      clock_.every(run.node_autoscaler.interval_s, EventKind::node_control, run.duration_s);
    }
    bool sampled = false;
    for (const auto& [name, windows] : controller_->metric_windows()) {
      int s = run.service_index(name);
      if (s < 0) continue;
      observer_.average_over(s, windows);
      sampled = true;
    }
    if (sampled) clock_.every(1.0, EventKind::sample, run.duration_s);
    clock_.every(run.record_interval_s, EventKind::record, run.duration_s, true);
    // Fluid mode has no arrivals: its requests integrate the rate up to each event (step_until).
    next_arrival_ = run.fidelity == Fidelity::fluid ? std::numeric_limits<double>::infinity()
                                                    : arrivals_.next(run.duration_s);
  }

  void on_transition(int id, State from, State to, double t) {
    observer_.on_transition(id, from, to, t);
    if (is_ready(to) && !is_ready(from)) requests_.on_ready(fleet_.instance(id).service, t);
  }

  // A decision's diagnostics as one string for the decisions table: "name=value; ...", in name order.
  static std::string details(const ServiceDecision& sd) {
    std::map<std::string, std::string> all;
    for (const auto& [k, v] : sd.diagnostics) {
      std::ostringstream o;
      o << v;
      all[k] = o.str();
    }
    for (const auto& [k, v] : sd.diagnostic_flags) all[k] = v ? "true" : "false";
    for (const auto& [k, v] : sd.diagnostic_strings) all[k] = v;
    std::string out;
    for (const auto& [k, v] : all) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
  }

  // The controller decides on what it is shown; the actuator clamps its orders and carries them out.
  void control(double t) {
    Observation obs = observer_.observe(t);
    auto w0 = std::chrono::steady_clock::now();
    Decision d = controller_->decide(obs);
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    last_observation_ = std::move(obs);
    for (const auto& sd : d.services) apply(sd, t, wall);
    apply_node_decisions(d.node_pools, t);
  }

  // One service's decision: the actuator clamps it to min/max, records it and carries it out.
  void apply(const ServiceDecision& sd, double t, double wall) {
    int s = run_.service_index(sd.service);
    if (s < 0) return;
    const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
    int current = fleet_.desired(s);
    int want = std::clamp(sd.desired, spec.min_instances, spec.max_instances);
    std::string rule = sd.rule;
    if (want != sd.desired) rule += want > sd.desired ? ",min_instances" : ",max_instances";
    result_.decisions.push_back({t, s, current, want, sd.metric, sd.metric_value, rule, details(sd), wall});
    if (want != current) {
      observer_.on_desired(s, want);
      fleet_.set_desired(s, want, t);
    }
    if (sd.activator_in_path) requests_.set_activator_in_path(s, *sd.activator_in_path, t);
  }

  // Orders for fixed pools (a node autoscaler's, or a controller's): nodes to remove are cordoned and their
  // pods evicted, new nodes of the given types added, then the count set; each order is recorded.
  void apply_node_decisions(const std::vector<NodePoolDecision>& orders, double t) {
    for (const NodePoolDecision& nd : orders) {
      const int p = run_.node_pool_index(nd.pool);
      if (p < 0 || run_.node_pools[static_cast<size_t>(p)].dedicated) continue;
      const NodePool& pool = run_.node_pools[static_cast<size_t>(p)];
      NodeDecisionRow row{t, nd.pool, cluster_.open_nodes(p), 0, "", "", nd.rule, nd.details};
      for (int id : nd.remove) {
        if (id < 0 || static_cast<size_t>(id) >= cluster_.nodes().size() ||
            cluster_.nodes()[static_cast<size_t>(id)].pool != p || !cluster_.cordon(id, t))
          continue;
        fleet_.evict_node(id, t, false);
        row.removed += (row.removed.empty() ? "" : ",") + std::to_string(id);
      }
      for (const std::string& type : nd.launch) {
        const bool allowed = type == pool.instance_type ||
                             std::find(pool.instance_types.begin(), pool.instance_types.end(), type) !=
                                 pool.instance_types.end();
        int k = -1;
        for (size_t i = 0; i < run_.instance_types.size(); ++i)
          if (run_.instance_types[i].name == type) k = static_cast<int>(i);
        if (allowed && k >= 0 && cluster_.add_node(p, k, t) >= 0)
          row.launched += (row.launched.empty() ? "" : ",") + type;
      }
      if (nd.desired_nodes >= 0) cluster_.resize_pool(p, nd.desired_nodes, t);
      row.desired = cluster_.open_nodes(p);
      result_.node_decisions.push_back(row);
      fleet_.retry_pending(t);
    }
  }

  void node_control(double t) { apply_node_decisions(node_autoscaler_->decide(observer_.observe(t)), t); }

  // Node events from the cluster: a node started (pending pods try it), a spot notice (its pods drain; they
  // are replaced elsewhere), a reclamation (what is left is killed; the pool replaces the node unless
  // karpenter provisions for the pods instead).
  void node_event(const Event& e) {
    switch (e.kind) {
      case EventKind::node_ready:
        if (cluster_.on_node_ready(e.instance, now_)) fleet_.retry_pending(now_);
        break;
      case EventKind::spot_notice:
        if (cluster_.on_spot_notice(e.instance, now_)) fleet_.evict_node(e.instance, now_, false);
        break;
      default:
        fleet_.evict_node(e.instance, now_, true);
        cluster_.on_spot_reclaim(e.instance, now_, run_.node_autoscaler.config.kind != "karpenter");
        break;
    }
  }

  void handle(const Event& e) {
    switch (e.kind) {
      case EventKind::scrape:
        requests_.expire_waiting(now_);
        observer_.scrape(now_);
        break;
      case EventKind::sample:
        observer_.take_sample(now_);
        break;
      case EventKind::control:
        control(now_);
        break;
      case EventKind::record:
        observer_.record(now_);
        break;
      case EventKind::node_control:
        node_control(now_);
        break;
      case EventKind::node_ready:
      case EventKind::spot_notice:
      case EventKind::spot_reclaim:
        node_event(e);
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
      requests_.advance_to(t_next);
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
      requests_.advance_to(t_stop);
      backend_.advance_to(t_stop);
      now_ = t_stop;
    }
    return now_ < end;
  }

  RunResult finish() {
    step_until(run_.duration_s);
    observer_.finish(run_.duration_s);
    return std::move(result_);
  }

  const RunSpec& run_;
  SimulationOptions opts_;
  ServiceGraph graph_;
  ArrivalProcess arrivals_;
  std::unique_ptr<ExecutionBackend> backend_ptr_;
  ExecutionBackend& backend_;
  Clock clock_;
  Cluster cluster_;
  Fleet fleet_;
  std::unique_ptr<RequestModel> requests_ptr_;  // the request path, or fluid mode's formulas
  RequestModel& requests_;
  RunResult result_;
  Observer observer_;
  std::shared_ptr<Controller> controller_;
  std::unique_ptr<NodeAutoscaler> node_autoscaler_;  // [node_autoscaler], when there is one
  std::unique_ptr<Foresight> foresight_;             // for a controller that wants it
  Observation last_observation_;
  double now_ = 0;
  double next_arrival_ = 0;
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
void Simulation::apply_decision(const ServiceDecision& d) {
  impl_->apply(d, impl_->now_, 0);
}
int Simulation::desired(int service) const {
  return impl_->fleet_.desired(service);
}
Simulation::SoFar Simulation::so_far() const {
  SoFar f;
  f.cost_usd = impl_->cluster_.cost_usd(impl_->now_);
  const RootCounters& roots = impl_->requests_.roots();
  f.arrived = roots.total;
  f.failed = roots.failed;
  f.completed_latencies_s = &roots.latencies_s;
  f.completed_counts = &roots.latency_counts;
  return f;
}
RunResult Simulation::finish() {
  return impl_->finish();
}

RunResult run_simulation(const RunSpec& run, const SimulationOptions& opts) {
  Simulation sim(run, opts);
  return sim.finish();
}

}  // namespace autoscale
