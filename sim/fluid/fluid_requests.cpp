#include "sim/fluid/fluid_requests.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "sim/backend/fast_backend.hpp"
#include "sim/fluid/queueing.hpp"

namespace autoscale {

namespace {
// The squared coefficient of variation of a distribution: its own where known, else the pool's.
double squared_cv(const Distribution& d, const std::vector<double>& pool) {
  using K = Distribution::Kind;
  switch (d.kind) {
    case K::constant:
      return 0;
    case K::exponential:
      return 1;
    case K::lognormal:
      return d.cv * d.cv;
    case K::uniform: {
      const double m = (d.min + d.max) / 2;
      return m > 0 ? (d.max - d.min) * (d.max - d.min) / 12 / (m * m) : 0;
    }
    default:
      break;
  }
  double sum = 0, sum2 = 0;
  for (double x : pool) {
    sum += x;
    sum2 += x * x;
  }
  const double n = static_cast<double>(pool.size()), m = sum / n;
  return m > 0 ? std::max(0.0, sum2 / n - m * m) / (m * m) : 0;
}

// The work at quantile u where the distribution's inverse is at hand; a plain draw otherwise.
double work_quantile(const Distribution& d, double u, Rng& rng) {
  using K = Distribution::Kind;
  switch (d.kind) {
    case K::constant:
      return d.mean;
    case K::exponential:
      return -d.mean * std::log1p(-u);
    case K::uniform:
      return d.min + (d.max - d.min) * u;
    case K::empirical:  // values sorted
      return d.values[std::min(d.values.size() - 1,
                               static_cast<size_t>(u * static_cast<double>(d.values.size())))];
    default:
      return d.sample(rng);
  }
}

// The first multiple of grid_s after t.
double next_multiple(double t, double grid_s) {
  return (std::floor(t / grid_s + 1e-9) + 1) * grid_s;
}
}  // namespace

FluidRequests::FluidRequests(const RunSpec& run, const ServiceGraph& graph, Fleet& fleet,
                             double speed_flops_per_core)
    : run_(run),
      graph_(graph),
      fleet_(fleet),
      rate_(run.traffic, run.seed),
      speed_ratio_(speed_flops_per_core / (run.reference_speed_gflops * 1e9)),
      step_s_(run.fluid_step_s),
      resolution_s_(run.traffic.resolution_s),
      timeout_s_(run.traffic.client_timeout_s),
      svc_(run.services.size()),
      gauge_rng_(run.seed, "fluid/gauges"),
      counters_(run.services.size()) {
  const size_t n = run.services.size();
  // Callers before callees (the graph is acyclic): Kahn's order.
  std::vector<int> indegree(n, 0);
  for (size_t s = 0; s < n; ++s)
    for (const CallEdge& e : graph.calls_from(static_cast<int>(s))) ++indegree[static_cast<size_t>(e.to)];
  std::vector<int> ready;
  for (size_t s = 0; s < n; ++s)
    if (indegree[s] == 0) ready.push_back(static_cast<int>(s));
  while (!ready.empty()) {
    int s = ready.back();
    ready.pop_back();
    order_.push_back(s);
    for (const CallEdge& e : graph.calls_from(s))
      if (--indegree[static_cast<size_t>(e.to)] == 0) ready.push_back(e.to);
  }
  const double route_latency_s = 2 * run.network.latency_s;
  const double rate_bytes_s = std::min(FastBackend::kBandwidthFactor * run.network.bandwidth_gbps * 1e9 / 8,
                                       route_latency_s > 0 ? FastBackend::kTcpGamma / (2 * route_latency_s)
                                                           : std::numeric_limits<double>::infinity());
  auto message_s = [&](double bytes) {
    return FastBackend::kLatencyFactor * route_latency_s + bytes / rate_bytes_s;
  };
  const size_t intervals =
      std::max<size_t>(1, static_cast<size_t>(std::ceil(run.duration_s / run.record_interval_s - 1e-9)));
  for (size_t s = 0; s < n; ++s) {
    const ServiceSpec& spec = run.services[s];
    Service& sv = svc_[s];
    sv.activator = spec.activator;
    Rng rng(run.seed, "fluid/" + spec.name);
    // Stratified uniforms, shuffled: every window of the rotation covers the distributions' tails evenly.
    auto strata = [&rng] {
      std::vector<double> u(kPool);
      std::vector<size_t> order(kPool);
      std::iota(order.begin(), order.end(), size_t{0});
      for (size_t i = kPool - 1; i > 0; --i)
        std::swap(order[i], order[static_cast<size_t>(rng.uniform() * static_cast<double>(i + 1)) % (i + 1)]);
      for (size_t j = 0; j < kPool; ++j) u[j] = (static_cast<double>(order[j]) + rng.uniform()) / kPool;
      return u;
    };
    const std::vector<double> work_u = strata();
    Distribution work = spec.work_cpu_s;
    std::sort(work.values.begin(), work.values.end());
    sv.work_s.resize(kPool);
    double sum = 0;
    for (size_t j = 0; j < kPool; ++j) {
      sv.work_s[j] = work_quantile(work, work_u[j], rng);
      sum += sv.work_s[j];
    }
    // The pool's mean made the distribution's own (the draws' noise stays in its shape only).
    sv.work_mean_s = spec.work_cpu_s.expected();
    if (sum > 0)
      for (double& w : sv.work_s) w *= sv.work_mean_s * kPool / sum;
    sv.cs2 = squared_cv(spec.work_cpu_s, sv.work_s);
    const std::vector<double> wait_u = strata();
    sv.expo.resize(kPool);
    for (size_t j = 0; j < kPool; ++j) sv.expo[j] = -std::log1p(-wait_u[j]);
    sv.pick.resize(kPool);
    for (double& u : sv.pick) u = rng.uniform();
    for (const CallEdge& e : graph.calls_from(static_cast<int>(s))) {
      std::vector<double> u(kPool);
      for (double& x : u) x = rng.uniform();
      sv.edge_u.push_back(std::move(u));
      sv.edge_net_s.push_back(message_s(e.request_bytes) + message_s(e.response_bytes));
    }
    sv.latency_s.assign(kLatencySamples, 0.0);
    counters_[s].failures_by_interval.assign(intervals, 0.0);
  }
  roots_.arrived_by_interval.assign(intervals, 0.0);
  roots_.violated_by_interval = roots_.arrived_by_interval;
}

FluidRequests::InstanceState& FluidRequests::state(int id) {
  if (inst_.size() <= static_cast<size_t>(id)) inst_.resize(static_cast<size_t>(id) + 1);
  return inst_[static_cast<size_t>(id)];
}

size_t FluidRequests::interval(double t) const {
  return std::min(static_cast<size_t>(std::max(0.0, t) / run_.record_interval_s),
                  roots_.arrived_by_interval.size() - 1);
}

void FluidRequests::advance_to(double t) {
  while (now_ < t - 1e-9) {
    const double next = std::min({t, next_multiple(now_, step_s_), next_multiple(now_, resolution_s_)});
    step(now_, next);
    now_ = next;
  }
  now_ = std::max(now_, t);
}

void FluidRequests::step(double t0, double t1) {
  const double dt = t1 - t0;
  const long k = static_cast<long>(std::floor(t0 / resolution_s_ + 1e-9));
  while (rate_step_ < k) {  // every step's rate, in order, as the arrival process reads them
    ++rate_step_;
    rate_rps_ = rate_.rate(static_cast<double>(rate_step_) * resolution_s_);
  }
  ++step_index_;
  const int entry = graph_.entry();
  Service& front = svc_[static_cast<size_t>(entry)];
  pods_on_node_.assign(pods_on_node_.size(), 0);
  for (size_t s = 0; s < svc_.size(); ++s)
    for (int id : fleet_.routable(static_cast<int>(s))) {
      const int node = fleet_.instance(id).placement.node;
      if (node < 0) continue;
      if (pods_on_node_.size() <= static_cast<size_t>(node))
        pods_on_node_.resize(static_cast<size_t>(node) + 1);
      ++pods_on_node_[static_cast<size_t>(node)];
    }
  // The activator's requests go to the instances now ready (they join their queues).
  std::deque<Waiting>& released = released_;
  released.clear();
  if (!waiting_.empty() && !fleet_.routable(entry).empty()) {
    released.swap(waiting_);
    for (const Waiting& w : released) front.release += static_cast<double>(w.n);
    counters_[static_cast<size_t>(entry)].activator_queued = 0;
  }

  for (Service& sv : svc_) sv.inflow_rps = 0;
  front.inflow_rps = rate_rps_;
  for (int s : order_) {
    Service& sv = svc_[static_cast<size_t>(s)];
    serve(s, sv.inflow_rps, t0, dt);
    const double admitted_rps = sv.inflow_rps * (1 - sv.own_fail);
    for (const CallEdge& e : graph_.calls_from(s))
      svc_[static_cast<size_t>(e.to)].inflow_rps += admitted_rps * e.probability * e.calls;
  }
  // Callees before callers: failure fractions and latencies down the graph, then the counters.
  for (auto it = order_.rbegin(); it != order_.rend(); ++it) {
    const int s = *it;
    Service& sv = svc_[static_cast<size_t>(s)];
    double ok_down = 1;
    for (const CallEdge& e : graph_.calls_from(s)) {
      // A fan-out's calls reach the callee together and see the same state (a full queue, no ready
      // instance): they fail together, not independently.
      ok_down *= 1 - e.probability * svc_[static_cast<size_t>(e.to)].fail;
    }
    sv.fail = 1 - (1 - sv.own_fail) * ok_down;
    sample_latencies(s);
    ServiceCounters& c = counters_[static_cast<size_t>(s)];
    const double done = sv.served * ok_down;
    c.completions += done;
    c.rec_completions += done;
    if (s != entry) {
      const double arrived = sv.inflow_rps * dt;
      const double failed = sv.blocked + sv.served * (1 - ok_down);
      c.arrivals += arrived;
      c.rec_arrivals += arrived;
      c.failures += failed;
      c.failures_by_interval[interval(t0)] += failed;
    }
    // Latency samples for the series and monitoring: one per completion (whole ones, by an accumulator),
    // within the client timeout; at most the step's distinct samples (the rate hardly changes over a scrape
    // or record interval, so the steps stay about equally weighted).
    sv.completion_acc += done;
    const auto whole = static_cast<long>(std::floor(sv.completion_acc));
    sv.completion_acc -= static_cast<double>(whole);
    for (long i = 0; i < std::min<long>(whole, kLatencySamples); ++i) {
      const double l = sv.latency_s[static_cast<size_t>(i) % kLatencySamples];
      if (l > timeout_s_) continue;
      c.scrape_latencies_s.push_back(l);
      c.rec_latencies_s.push_back(l);
    }
  }

  // End-user requests: whole ones, by an accumulator on the rate.
  arrival_acc_ += rate_rps_ * dt;
  const auto n = static_cast<long>(std::floor(arrival_acc_));
  arrival_acc_ -= static_cast<double>(n);
  roots_.total += n;
  roots_.arrived_by_interval[interval(t0)] += static_cast<double>(n);
  ServiceCounters& c = counters_[static_cast<size_t>(entry)];
  c.arrivals += static_cast<double>(n);
  c.rec_arrivals += static_cast<double>(n);
  for (const Waiting& w : released) {
    const double waited = t0 - w.arrival_s;
    if (waited > timeout_s_)
      fail_roots(w.n, w.arrival_s, w.arrival_s + timeout_s_);
    else
      resolve_roots(w.n, w.arrival_s, waited, t0);
  }
  if (!fleet_.routable(entry).empty()) {
    resolve_roots(n, t0, 0, t0);
  } else if (front.activator && n > 0) {
    double held = 0;
    for (const Waiting& w : waiting_) held += static_cast<double>(w.n);
    const long room =
        std::max(0L, run_.services[static_cast<size_t>(entry)].activator_capacity - static_cast<long>(held));
    const long take = std::min(n, room);
    if (take > 0) waiting_.push_back({t0, take});
    c.activator_queued = held + static_cast<double>(take);
    fail_roots(n - take, t0, t0);
    if (front.cold_start_since < 0) front.cold_start_since = t0;
  } else {
    fail_roots(n, t0, t0);
  }
  // The next step's samples start after the last one used: the pools are used evenly at any rate.
  offset_ = (offset_ + std::clamp<size_t>(cursor_, 1, kLatencySamples)) % kPool;
  cursor_ = 0;
}

namespace {
// One queueing station over a step: steady state while it keeps up and holds no backlog, else a fluid
// backlog.
struct Solved {
  double blocked = 0, served = 0, waiting = 0, backlog = 0;
  bool backlogged = false;
  double p_wait = 0, decay_rps = 0, backlog_wait_s = 0;
  double p_over = 0;      // P(more requests than servers)
  double rho = 0;         // steady state: utilization (the number waiting is geometric beyond the servers)
  double max_wait_s = 0;  // a full queue's wait
  double variance = 0;    // backlog: of the number waiting
  double spread_s = 0;    // backlog: half-width of the wait around its mean (uniform)
};
Solved solve(double lambda, int servers, double mu, double g, double max_waiting, double backlog,
             double variance, double dt) {
  Solved r;
  const double capacity = servers * mu;
  r.max_wait_s = max_waiting / capacity;
  if (backlog <= 0 && lambda < capacity) {
    const double pw = fluid::erlang_c(servers, lambda / mu);
    const double rho = lambda / capacity;
    // P(all servers busy and max_waiting waiting) = C rho^max_waiting: those are rejected.
    r.blocked = lambda * dt * pw * std::pow(rho, max_waiting);
    r.served = lambda * dt - r.blocked;
    r.waiting = std::min(max_waiting, g * pw * rho / (1 - rho));
    r.p_wait = pw;
    r.decay_rps = (capacity - lambda) / g;
    r.p_over = std::min(1.0, pw * rho);
    r.rho = rho;
    return r;
  }
  fluid::Backlog b = fluid::fluid_backlog(backlog, lambda, capacity, dt, max_waiting);
  // Near capacity the fluid queue would stay where it is; the real one wanders, and a full one falls towards
  // the finite queue's steady state (losing requests at the top): relaxed towards it over the diffusion
  // time max_waiting^2 / (lambda (ca^2 + cs^2)).
  const double target = fluid::finite_queue_mean(lambda / capacity, max_waiting);
  if (b.end > target && lambda > 0) {
    const double tau_s = max_waiting * max_waiting / (lambda * 2 * g);
    const double shed = (b.end - target) * -std::expm1(-dt / tau_s);
    b.end -= shed;
    b.mean -= shed / 2;
    b.overflow += shed;
  }
  r.blocked = b.overflow;
  r.served = b.completions;
  r.waiting = b.mean;
  // Back to the steady state once the backlog is down to it.
  r.backlog = lambda < capacity && b.end <= target + 0.5 ? 0 : b.end;
  // Its spread: arrivals and services add variance (lambda ca^2 + mu cs^2 per second, Brownian), within what
  // the queue's bounds leave around its level (at capacity, uniform over the whole queue in the end).
  if (r.backlog > 0) {
    const double room = std::min(b.end, max_waiting - b.end);
    r.variance = std::min(variance + (lambda + capacity) * g * dt, room * room / 3);
    r.spread_s = std::sqrt(3 * r.variance) / capacity;
  }
  r.backlogged = true;
  r.backlog_wait_s = b.mean / capacity;
  r.p_over = 1;
  return r;
}
}  // namespace

// One service over [t0, t0 + dt): its arrivals split over its routable instances. Round robin: each
// instance is a station of its own, fed every n-th request (arrivals less variable than Poisson: squared
// CV 1/n, Allen-Cunneen); least outstanding keeps the instances about equally loaded, close to one pooled
// station with all their servers (join-the-shortest-queue), so the service is solved as one.
void FluidRequests::serve(int s, double lambda_rps, double t0, double dt) {
  Service& sv = svc_[static_cast<size_t>(s)];
  const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
  ServiceCounters& c = counters_[static_cast<size_t>(s)];
  const std::vector<int>& ready = fleet_.routable(s);
  sv.stations.clear();
  sv.cum_share.clear();
  sv.blocked = sv.served = 0;
  c.in_service = c.queued = 0;
  if (ready.empty()) {
    sv.own_fail = 1;
    sv.blocked = lambda_rps * dt;
    sv.release = 0;
    return;
  }
  const bool pods = !run_.node_pool(spec.node_pool).dedicated;
  const double w = spec.workers;
  const auto n = static_cast<double>(ready.size());
  caps_.clear();
  double total_cap = 0, pooled_waiting = 0, pooled_backlog = 0, pooled_variance = 0;
  int pooled_servers = 0;
  bool worker_bound = false;
  const double release_each = sv.release / n;
  for (int id : ready) {
    const Instance& in = fleet_.instance(id);
    const double speed = speed_ratio_ * fleet_.speed_factor(id, t0);
    double cores = in.placement.max_cores > 0 ? in.placement.max_cores : 1;
    if (pods && spec.cpu_limit <= 0 && in.placement.node >= 0)
      cores = std::min(
          cores, std::max(spec.cpu_request, cores / pods_on_node_[static_cast<size_t>(in.placement.node)]));
    const double k = std::min(w, cores);
    const int servers = std::max(1, static_cast<int>(std::ceil(k - 1e-9)));
    const double service_s = sv.work_mean_s / (speed * k / servers);
    const double holding_s = service_s + sv.downstream_s;
    CapacityRow cap{servers,   1 / service_s, service_s, k, spec.queue_limit + std::max(0.0, w - servers),
                    holding_s, speed};
    // Workers held through the downstream calls run out before the cores do: the workers are the servers.
    if (sv.downstream_s > 0 && w / holding_s < servers / service_s) {
      cap = {spec.workers, 1 / holding_s, service_s, k, static_cast<double>(spec.queue_limit),
             holding_s,    speed};
      worker_bound = true;
    }
    const double capacity_rps = cap.servers * cap.mu_rps;
    cap.max_waiting = std::min(cap.max_waiting, capacity_rps * timeout_s_);
    InstanceState& st = state(id);
    if (st.last_step != step_index_ - 1)
      st.backlog = st.variance = 0;  // out of service meanwhile: left empty
    st.last_step = step_index_;
    st.backlog += release_each;
    caps_.push_back(cap);
    total_cap += capacity_rps;
    pooled_servers += cap.servers;
    pooled_waiting += cap.max_waiting;
    pooled_backlog += st.backlog;
    pooled_variance += st.variance;
  }
  sv.release = 0;
  const double work_g = worker_bound ? 1.0 : sv.cs2;  // squared CV of the time a server is held
  const bool pooled = spec.routing != RoutingPolicy::round_robin;
  Solved pool;
  if (pooled)
    pool = solve(lambda_rps, pooled_servers, total_cap / pooled_servers, (1 + work_g) / 2, pooled_waiting,
                 pooled_backlog, pooled_variance, dt);
  double cum = 0, last_lambda = -1, pow_rho = -1, pow_sharing = -1, pow_value = 1;
  Solved last;
  for (size_t i = 0; i < ready.size(); ++i) {
    const int id = ready[i];
    const CapacityRow& cp = caps_[i];
    InstanceState& st = state(id);
    const double capacity_rps = cp.servers * cp.mu_rps;
    double share = 1 / n;
    Solved r;
    if (pooled) {
      share = capacity_rps / total_cap;
      r = pool;
      r.blocked *= share;
      r.served *= share;
      r.waiting *= share;
      r.backlog *= share;
      r.variance *= share;
    } else {
      const double lambda = lambda_rps * share;
      // Instances alike get the same answer: solved once.
      if (lambda != last_lambda || i == 0 || cp.servers != caps_[i - 1].servers ||
          cp.mu_rps != caps_[i - 1].mu_rps || st.backlog > 0 || last.backlogged)
        last = solve(lambda, cp.servers, cp.mu_rps, (1 / n + work_g) / 2, cp.max_waiting, st.backlog,
                     st.variance, dt);
      last_lambda = lambda;
      r = last;
    }
    st.backlog = r.backlog;
    st.variance = r.variance;
    st.backlogged = r.backlogged;
    const double throughput = r.served / dt;
    fleet_.instance(id).cpu_done_core_s += std::min(cp.cores, throughput * sv.work_mean_s / cp.speed) * dt;
    // Of those waiting for a server, the first w - servers hold a worker (sharing the cores); the rest queue.
    const double sharing = std::max(0.0, w - cp.servers);
    if (!r.backlogged && (r.rho != pow_rho || sharing != pow_sharing)) {
      pow_rho = r.rho;
      pow_sharing = sharing;
      pow_value = std::pow(r.rho, sharing);
    }
    st.queued = r.backlogged ? std::max(0.0, r.waiting - sharing) : r.waiting * pow_value;
    st.busy = std::min(w, throughput * cp.holding_s + r.waiting - st.queued);
    st.completed += r.served;
    if (spec.cpu_limit > 0 && w > spec.cpu_limit) st.throttled_s += r.p_over * dt;
    c.in_service += st.busy;
    c.queued += st.queued;
    sv.blocked += r.blocked;
    sv.served += r.served;
    Station stn;
    stn.work_scale = cp.service_s / sv.work_mean_s;
    stn.backlogged = r.backlogged;
    stn.p_wait = r.p_wait;
    stn.decay_rps = r.decay_rps;
    stn.backlog_wait_s = r.backlog_wait_s;
    stn.max_wait_s = r.max_wait_s;
    stn.spread_s = r.spread_s;
    stn.servers = cp.servers;
    stn.sharing = sharing;
    stn.capacity_rps = capacity_rps;
    cum += share;
    if (!sv.stations.empty() && sv.stations.back().same_as(stn)) {  // instances alike: one station
      sv.cum_share.back() = cum;
      continue;
    }
    stn.log_p_wait = r.p_wait > 0 ? std::log(r.p_wait) : 0;
    sv.cum_share.push_back(cum);
    sv.stations.push_back(stn);
  }
  const double arrived = lambda_rps * dt + release_each * n;
  sv.own_fail = arrived > 0 ? sv.blocked / arrived : 0;
}

// This step's latency samples of service s: its own sojourn and, per edge a sample takes, the slowest of its
// calls (callees' samples are this step's, computed first) and the network.
void FluidRequests::sample_latencies(int s) {
  Service& sv = svc_[static_cast<size_t>(s)];
  if (sv.stations.empty()) {
    std::fill(sv.latency_s.begin(), sv.latency_s.end(), 0.0);
    return;
  }
  const std::vector<CallEdge>& edges = graph_.calls_from(s);
  double down_sum = 0;
  for (size_t j = 0; j < kLatencySamples; ++j) {
    const size_t p = (offset_ + j) % kPool;
    size_t i = 0;
    if (sv.stations.size() > 1)
      i = std::min(static_cast<size_t>(std::upper_bound(sv.cum_share.begin(), sv.cum_share.end(),
                                                        sv.pick[p] * sv.cum_share.back()) -
                                       sv.cum_share.begin()),
                   sv.stations.size() - 1);
    const Station& st = sv.stations[i];
    double wait = 0;
    if (st.backlogged)  // its mean wait, spread uniformly (the stratified uniform behind expo[p])
      wait = std::max(0.0, st.backlog_wait_s + st.spread_s * (1 + 2 * std::expm1(-sv.expo[p])));
    else if (st.p_wait > 0)  // the queue's length bounds the wait
      wait = std::min(st.max_wait_s, std::max(0.0, sv.expo[p] + st.log_p_wait) / st.decay_rps);
    double down = 0;
    for (size_t e = 0; e < edges.size(); ++e) {
      if (!(sv.edge_u[e][p] < edges[e].probability)) continue;
      const std::vector<double>& callee = svc_[static_cast<size_t>(edges[e].to)].latency_s;
      double slowest = 0;
      for (int k = 0; k < edges[e].calls; ++k)
        slowest = std::max(slowest, callee[(j + 1 + static_cast<size_t>(k) * 7 + e * 3) % kLatencySamples]);
      down += slowest + sv.edge_net_s[e];
    }
    double work = sv.work_s[p] * st.work_scale;
    if (st.sharing > 0 && wait > 0) {
      // Processor sharing: of the wait, the part behind the sharing workers is spent queued; the rest is
      // spent in service, sharing the cores with those ahead (as many as an independent draw of the wait
      // finds, fixed over its work; the wait's own draw would tie the two and exaggerate the tail).
      const double ahead_s = st.backlogged ? wait : sv.expo[(p + kPool / 2) % kPool] / st.decay_rps;
      const double sharers = std::min(ahead_s * st.capacity_rps + st.servers, st.servers + st.sharing);
      work *= sharers / st.servers;
      wait = std::max(0.0, wait - st.sharing / st.capacity_rps);
    }
    sv.latency_s[j] = wait + work + down;
    down_sum += down;
  }
  sv.downstream_s = down_sum / kLatencySamples;
}

void FluidRequests::fail_roots(long n, double arrival_s, double seen_s) {
  if (n <= 0) return;
  const auto x = static_cast<double>(n);
  roots_.failed += n;
  roots_.violated_by_interval[interval(arrival_s)] += x;
  ServiceCounters& c = counters_[static_cast<size_t>(graph_.entry())];
  c.failures += x;
  c.failures_by_interval[interval(seen_s)] += x;
}

// n end-user requests that arrived at arrival_s and reached the instances after waited_s: a share fails
// down the graph, the others take this step's latency samples in turn.
void FluidRequests::resolve_roots(long n, double arrival_s, double waited_s, double t) {
  if (n <= 0) return;
  const Service& front = svc_[static_cast<size_t>(graph_.entry())];
  fail_acc_ += static_cast<double>(n) * front.fail;
  const long failed = std::min(n, static_cast<long>(std::floor(fail_acc_)));
  fail_acc_ -= static_cast<double>(failed);
  fail_roots(failed, arrival_s, t);
  // The survivors take the samples from cursor_ on, in turn: each sample's verdict is worked out once.
  const long taking = n - failed;
  std::vector<double>& out = roots_.latencies_s;
  if (out.size() + static_cast<size_t>(taking) > out.capacity()) {
    // Room for the whole run at the rate seen so far (a few reallocations of a large vector otherwise), up
    // to 1 GiB more at once.
    const double projected = static_cast<double>(roots_.total) * run_.duration_s / (t + step_s_);
    const double most = static_cast<double>(out.size()) + (1 << 27);
    out.reserve(std::max({out.size() + static_cast<size_t>(taking), out.capacity() + out.capacity() / 2,
                          static_cast<size_t>(std::min(1.05 * projected, most))}));
  }
  // Request i takes sample (cursor_ + i) mod kLatencySamples: each sample's count, its verdict worked out
  // once. They go in in increasing order (the order means nothing, and a vector of sorted runs is quick to
  // select quantiles from).
  const long base = taking / kLatencySamples, extra = taking % kLatencySamples;
  std::array<std::pair<double, long>, kLatencySamples> take;
  for (long j = 0; j < kLatencySamples; ++j) {
    const long from_cursor =
        (j - static_cast<long>(cursor_ % kLatencySamples) + kLatencySamples) % kLatencySamples;
    take[static_cast<size_t>(j)] = {waited_s + front.latency_s[static_cast<size_t>(j)],
                                    base + (from_cursor < extra ? 1 : 0)};
  }
  cursor_ += static_cast<size_t>(taking);
  std::sort(take.begin(), take.end());
  const bool scaling = fleet_.scaling() > 0;
  double& violated = roots_.violated_by_interval[interval(arrival_s)];
  long timed_out = 0, late = 0;
  for (const auto& [l, count] : take) {
    if (count == 0) continue;
    if (l > timeout_s_) {
      timed_out += count;
      continue;
    }
    out.push_back(l);
    roots_.latency_counts.push_back(static_cast<double>(count));
    if (scaling) {
      roots_.scaling_latencies_s.push_back(l);
      roots_.scaling_latency_counts.push_back(static_cast<double>(count));
    }
    if (l > run_.sla.latency_s) late += count;
  }
  violated += static_cast<double>(late);
  fail_roots(timed_out, arrival_s, arrival_s + timeout_s_);
}

void FluidRequests::on_ready(int s, double t) {
  Service& sv = svc_[static_cast<size_t>(s)];
  if (sv.cold_start_since >= 0) {
    counters_[static_cast<size_t>(s)].cold_start_waits_s.push_back(t - sv.cold_start_since);
    sv.cold_start_since = -1;
  }
}

void FluidRequests::expire_waiting(double t) {
  ServiceCounters& c = counters_[static_cast<size_t>(graph_.entry())];
  while (!waiting_.empty() && t - waiting_.front().arrival_s > timeout_s_) {
    const Waiting w = waiting_.front();
    waiting_.pop_front();
    c.activator_queued -= static_cast<double>(w.n);
    fail_roots(w.n, w.arrival_s, w.arrival_s + timeout_s_);
  }
}

void FluidRequests::fail_instance(int id, double t) {
  InstanceState& st = state(id);
  ServiceCounters& c = counters_[static_cast<size_t>(fleet_.instance(id).service)];
  // A draining instance left empty (outstanding() is 0 once out of service); a ready one loses what it held.
  const double lost = is_ready(fleet_.instance(id).state) ? st.busy + st.queued : 0;
  c.failures += lost;
  c.failures_by_interval[interval(t)] += lost;
  st.backlog = st.busy = st.queued = st.variance = 0;
}

// A scrape reads a count at an instant, not a mean: in steady state the number of requests an instance holds
// is drawn, once per step, from a Poisson law of the mean (busy up to the workers, the rest queued), so that
// controllers reading instantaneous gauges see them fluctuate as in exact mode; a backlog is its mean.
const FluidRequests::InstanceState& FluidRequests::gauges(int id) const {
  InstanceState& st = inst_[static_cast<size_t>(id)];
  if (st.seen_step == step_index_) return st;
  st.seen_step = step_index_;
  if (st.backlogged) {
    st.busy_seen = st.busy;
    st.queued_seen = st.queued;
    return st;
  }
  const double mean = st.busy + st.queued;
  double n = 0;
  if (mean > 30) {
    n = std::max(0.0, std::round(mean + std::sqrt(mean) * gauge_rng_.normal()));
  } else {  // Knuth: count uniforms until their product falls below e^-mean
    const double limit = std::exp(-mean);
    for (double product = gauge_rng_.uniform(); product > limit; product *= gauge_rng_.uniform()) n += 1;
  }
  const double workers = run_.services[static_cast<size_t>(fleet_.instance(id).service)].workers;
  st.busy_seen = std::min(workers, n);
  st.queued_seen = n - st.busy_seen;
  return st;
}

int FluidRequests::outstanding(int id) const {
  return static_cast<int>(std::lround(busy(id) + queued(id)));
}

double FluidRequests::busy(int id) const {
  if (static_cast<size_t>(id) >= inst_.size() || !is_ready(fleet_.instance(id).state)) return 0;
  return gauges(id).busy_seen;
}

double FluidRequests::queued(int id) const {
  if (static_cast<size_t>(id) >= inst_.size() || !is_ready(fleet_.instance(id).state)) return 0;
  return gauges(id).queued_seen;
}

double FluidRequests::completed(int id) const {
  return static_cast<size_t>(id) < inst_.size() ? inst_[static_cast<size_t>(id)].completed : 0;
}

double FluidRequests::throttled_s(int id, double) const {
  return static_cast<size_t>(id) < inst_.size() ? inst_[static_cast<size_t>(id)].throttled_s : 0;
}

std::vector<double> FluidRequests::roots_in_flight() const {
  std::vector<double> out;
  for (const Waiting& w : waiting_) out.insert(out.end(), static_cast<size_t>(w.n), w.arrival_s);
  return out;
}

}  // namespace autoscale
