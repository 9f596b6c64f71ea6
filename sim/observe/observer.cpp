#include "sim/observe/observer.hpp"

#include <algorithm>
#include <cmath>

#include "sim/analysis/attribution.hpp"

namespace autoscale {

namespace {
std::vector<bool> database_flags(const RunSpec& run) {
  std::vector<bool> v;
  for (const auto& s : run.services) v.push_back(s.database);
  return v;
}
}  // namespace

Observer::Observer(const RunSpec& run, const Fleet& fleet, RequestModel& requests, const Cluster& cluster,
                   RunResult& result)
    : run_(run),
      fleet_(fleet),
      requests_(requests),
      cluster_(cluster),
      result_(result),
      monitoring_(run.monitoring, database_flags(run)),
      services_(run.services.size()),
      windows_(run.services.size()),
      samples_(run.services.size()) {
  result_.name = run.name;
  result_.config_toml = run.config_toml;
  result_.fidelity = fidelity_name(run.fidelity);
  result_.record_interval_s = run.record_interval_s;
  for (const NodePool& pool : run.node_pools)
    if (!pool.dedicated) result_.node_pools.push_back({pool.name, {}, {}, {}});
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
}

// CPU delivered to an instance so far (cores x s): finished work, and running work as far as it got.
double Observer::usage_core_s(int id) const {
  return fleet_.instance(id).cpu_done_core_s + fleet_.init_running_core_s(id) + requests_.running_core_s(id);
}

void Observer::touch_capacity(ServiceState& sv, double t) {
  sv.capacity_core_s += sv.cap_level * (t - sv.level_since);
  sv.level_since = t;
}

void Observer::on_transition(int id, State from, State to, double t) {
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
  result_.events.push_back({t, id, in.service, fleet_.event_name(id, to)});
}

double Observer::ready_busy_core_s(int s) const {
  const ServiceState& sv = services_[static_cast<size_t>(s)];
  double busy = sv.ready_busy_closed_core_s;
  for (int id : fleet_.routable(s)) busy += usage_core_s(id) - ready_usage_start_[static_cast<size_t>(id)];
  return busy;
}

// What an instance not placed yet will request: a pod's cpu_request, a dedicated node's vCPUs.
double Observer::nominal_request(size_t s) const {
  const NodePool& pool = run_.node_pool(run_.services[s].node_pool);
  return pool.dedicated ? run_.instance_type(pool.instance_type).vcpu : run_.services[s].cpu_request;
}

void Observer::scrape(double t) {
  Scrape sc;
  sc.time_s = t;
  sc.services.resize(services_.size());
  for (size_t s = 0; s < services_.size(); ++s) {
    int si = static_cast<int>(s);
    ServiceState& sv = services_[s];
    ServiceCounters& c = requests_.counters(si);
    touch_capacity(sv, t);
    ServiceSample& o = sc.services[s];
    o.arrivals = c.arrivals;
    o.completions = c.completions;
    o.failures = c.failures;
    o.busy_core_s = ready_busy_core_s(si);
    o.capacity_core_s = sv.capacity_core_s;
    o.in_service = c.in_service;
    o.activator_queued = c.activator_queued;
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
    const bool pods = !run_.node_pool(run_.services[s].node_pool).dedicated;
    for (int id : fleet_.of_service(si)) {
      const Instance& in = fleet_.instance(id);
      if (in.state == State::terminated || in.pool) continue;  // a warm pool is not in the group
      InstanceSample is;
      is.id = id;
      is.state = state_name(in.state);
      is.ready = is_ready(in.state);
      // Shadows and held terminations are out of service, as a draining instance is: ignored by an HPA.
      is.deleting = is_leaving(in.state);
      is.start_time_s = in.launched_at;
      is.ready_time_s = in.ready_time;
      is.busy_core_s = usage_core_s(id);
      is.cpu_request_cores = in.placement.node >= 0 ? in.placement.cpu_request_cores : nominal_request(s);
      is.in_service = static_cast<int>(std::lround(requests_.busy(id)));
      is.cpu_limit_cores = pods ? run_.services[s].cpu_limit : 0;
      is.throttled_s = requests_.throttled_s(id, t);
      is.completed = requests_.completed(id);
      o.instances.push_back(std::move(is));
    }
  }
  monitoring_.add(std::move(sc));
}

void Observer::take_sample(double t) {
  for (size_t s = 0; s < services_.size(); ++s) {
    if (!windows_[s]) continue;
    int si = static_cast<int>(s);
    const ServiceCounters& c = requests_.counters(si);
    double concurrency = c.activator_queued;
    for (int id : fleet_.routable(si)) concurrency += requests_.busy(id) + requests_.queued(id);
    auto& q = samples_[s];
    q.push_back({t, concurrency, c.arrivals});
    while (q.size() > 1 && q.front().time_s <= t - windows_[s]->stable_s - 1) q.pop_front();
  }
}

// The mean over the window (t - window_s, t] of the 1-second samples: concurrency, or requests per second.
double Observer::window_average(size_t s, double t, double window_s) const {
  const auto& q = samples_[s];
  double sum = 0, n = 0, arrivals_before = NAN;
  for (size_t i = 0; i < q.size(); ++i) {
    if (q[i].time_s <= t - window_s) {
      arrivals_before = q[i].arrivals;
      continue;
    }
    sum += q[i].concurrency;
    n += 1;
  }
  if (n == 0) return NAN;
  if (windows_[s]->metric == "rps") {
    double first = std::isnan(arrivals_before) ? 0 : arrivals_before;
    return (q.back().arrivals - first) / std::min(window_s, q.back().time_s - (t - window_s));
  }
  return sum / n;
}

Observation Observer::observe(double t) const {
  Observation obs;
  obs.time_s = t;
  std::vector<std::vector<PodRequest>> pending_by_pool(run_.node_pools.size());
  for (size_t s = 0; s < services_.size(); ++s) {
    const ServiceSpec& spec = run_.services[s];
    ServiceObservation o;
    o.name = spec.name;
    o.min_instances = spec.min_instances;
    o.max_instances = spec.max_instances;
    o.desired = fleet_.desired(static_cast<int>(s));
    obs.services.push_back(o);
    auto& pending = pending_by_pool[static_cast<size_t>(cluster_.pool_of_service(static_cast<int>(s)))];
    pending.insert(pending.end(), static_cast<size_t>(fleet_.count(static_cast<int>(s), State::pending)),
                   PodRequest{spec.cpu_request, spec.memory_request_gib});
  }
  obs.node_pools = cluster_.observe(pending_by_pool);
  monitoring_.observe(t, obs);
  for (size_t s = 0; s < obs.services.size(); ++s)
    if (windows_[s]) {
      obs.services[s].stable_value = window_average(s, t, windows_[s]->stable_s);
      obs.services[s].panic_value = window_average(s, t, windows_[s]->panic_s);
    }
  return obs;
}

void Observer::record(double t) {
  double dt = t - (result_.time_s.empty() ? 0.0 : result_.time_s.back());
  result_.time_s.push_back(t);
  result_.cost_usd.push_back(cluster_.cost_usd(t));
  for (NodePoolSeries& np : result_.node_pools) {
    const int p = run_.node_pool_index(np.name);
    int ready = 0, starting = 0, deleting = 0;
    for (const Node& n : cluster_.nodes()) {
      if (n.pool != p || !n.open) continue;
      if (n.deleting)
        ++deleting;
      else if (n.ready)
        ++ready;
      else
        ++starting;
    }
    np.nodes_ready.push_back(ready);
    np.nodes_starting.push_back(starting);
    np.nodes_deleting.push_back(deleting);
  }
  const double ref_flops = run_.reference_speed_gflops * 1e9;
  for (size_t s = 0; s < services_.size(); ++s) {
    int si = static_cast<int>(s);
    ServiceState& sv = services_[s];
    ServiceCounters& c = requests_.counters(si);
    ServiceSeries& o = result_.services[s];
    touch_capacity(sv, t);
    double busy = ready_busy_core_s(si);
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
    o.instances_warm_pool.push_back(fleet_.warm_pool_size(si));
    o.instances_shadow.push_back(fleet_.count(si, State::shadow));
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

void Observer::finish(double end) {
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
  totals.completed_counts = roots.latency_counts;
  totals.scaling_counts = roots.scaling_latency_counts;
  totals.in_flight_arrivals_s = requests_.roots_in_flight();
  totals.instance_seconds = instance_seconds_closed_;
  for (const Instance& in : fleet_.instances())
    if (in.state != State::terminated) totals.instance_seconds += end - in.launched_at;
  totals.cost_usd = cluster_.cost_usd(end);
  totals.duration_s = end;
  for (size_t k = 0; k < services_.size(); ++k) {
    const auto& w = requests_.counters(static_cast<int>(k)).cold_start_waits_s;
    totals.cold_start_waits_s.insert(totals.cold_start_waits_s.end(), w.begin(), w.end());
  }
  for (const auto& sv : services_) totals.desired_history.push_back(sv.desired_history);
  // The SLA by arrival interval, those still in flight too (as the summary counts them), then its episodes.
  const size_t n = result_.time_s.size();
  // One value per record interval (a count past the last record goes to the last).
  auto per_record = [n](const std::vector<double>& by_interval) {
    std::vector<double> v(n, 0.0);
    for (size_t i = 0; i < by_interval.size() && n > 0; ++i) v[std::min(i, n - 1)] += by_interval[i];
    return v;
  };
  result_.sla_requests = per_record(roots.arrived_by_interval);
  result_.sla_violations = per_record(roots.violated_by_interval);
  for (double arrival : totals.in_flight_arrivals_s)
    if (end - arrival > run_.sla.latency_s && n > 0)
      result_.sla_violations[std::min(static_cast<size_t>(arrival / run_.record_interval_s), n - 1)] += 1;
  AttributionConfig attribution{run_.sla.episode_threshold, run_.sla.episode_lookback_s, {}};
  for (const ServiceSpec& spec : run_.services)
    attribution.services.push_back({spec.max_instances, spec.database});
  result_.episodes = attribute_episodes(result_, attribution);
  result_.summary = summarize(totals, result_, SummaryConfig{run_.sla.latency_s});
}

}  // namespace autoscale
