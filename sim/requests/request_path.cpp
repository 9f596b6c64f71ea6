#include "sim/requests/request_path.hpp"

#include <algorithm>
#include <cmath>

namespace autoscale {

namespace {
// Labels of a request's own draws.
constexpr uint64_t kWorkLabel = 1;
constexpr uint64_t kCallLabel = 2;
}  // namespace

RequestPath::RequestPath(const RunSpec& run, const ServiceGraph& graph, Fleet& fleet,
                         ExecutionBackend& backend, Hooks hooks, RunResult& result)
    : run_(run),
      graph_(graph),
      fleet_(fleet),
      backend_(backend),
      hooks_(std::move(hooks)),
      result_(result),
      ref_flops_(run.reference_speed_gflops * 1e9),
      speed_(backend.speed_flops_per_core()),
      request_key_(run.seed ^ fnv1a64("requests")),
      rr_next_(run.services.size(), 0),
      services_(run.services.size()),
      activator_on_(run.services.size(), false),
      in_path_(run.services.size(), false),
      activator_(run.services.size()),
      cold_start_since_(run.services.size(), -1.0) {
  for (size_t s = 0; s < run.services.size(); ++s) {
    route_rng_.emplace_back(run.seed, "routing/" + run.services[s].name);
    std::vector<uint64_t> labels;
    for (const CallEdge& e : graph.calls_from(static_cast<int>(s)))
      labels.push_back(fnv1a64(run.services[static_cast<size_t>(e.to)].name));
    edge_labels_.push_back(labels);
    activator_on_[s] = run.services[s].activator;
    services_[s].failures_by_interval.assign(
        std::max<size_t>(1, static_cast<size_t>(std::ceil(run.duration_s / run.record_interval_s - 1e-9))),
        0.0);
  }
  roots_.arrived_by_interval.assign(services_.empty() ? 1 : services_[0].failures_by_interval.size(), 0.0);
  roots_.violated_by_interval = roots_.arrived_by_interval;
}

RequestPath::Slot& RequestPath::slot(int id) {
  if (slots_.size() <= static_cast<size_t>(id)) slots_.resize(static_cast<size_t>(id) + 1);
  return slots_[static_cast<size_t>(id)];
}

int RequestPath::outstanding(int id) const {
  if (static_cast<size_t>(id) >= slots_.size()) return 0;
  const Slot& sl = slots_[static_cast<size_t>(id)];
  return sl.busy + static_cast<int>(sl.queue.size());
}
double RequestPath::busy(int id) const {
  return static_cast<size_t>(id) < slots_.size() ? slots_[static_cast<size_t>(id)].busy : 0;
}
double RequestPath::queued(int id) const {
  return static_cast<size_t>(id) < slots_.size()
             ? static_cast<int>(slots_[static_cast<size_t>(id)].queue.size())
             : 0;
}

double RequestPath::completed(int id) const {
  return static_cast<size_t>(id) < slots_.size() ? slots_[static_cast<size_t>(id)].completed : 0;
}

double RequestPath::throttled_s(int id, double t) const {
  if (static_cast<size_t>(id) >= slots_.size()) return 0;
  const Slot& sl = slots_[static_cast<size_t>(id)];
  double limit = run_.services[static_cast<size_t>(fleet_.instance(id).service)].cpu_limit;
  return sl.throttled_s + (limit > 0 && sl.execs > limit ? t - sl.execs_since : 0);
}

void RequestPath::change_execs(int id, int delta, double t) {
  Slot& sl = slot(id);
  double limit = run_.services[static_cast<size_t>(fleet_.instance(id).service)].cpu_limit;
  if (limit > 0 && sl.execs > limit) sl.throttled_s += t - sl.execs_since;
  sl.execs += delta;
  sl.execs_since = t;
}

double RequestPath::running_core_s(int id) const {
  if (static_cast<size_t>(id) >= slots_.size()) return 0;
  double flops = 0;
  for (uint32_t r : slots_[static_cast<size_t>(id)].holding)
    if (requests_[r].exec_running) flops += backend_.exec_done_flops({ActivityKind::request_exec, r});
  return flops / speed_;
}

std::vector<double> RequestPath::roots_in_flight() const {
  std::vector<double> out;
  for (const Request& q : requests_)
    if (q.live && q.parent == kNone) out.push_back(q.arrival);
  return out;
}

uint32_t RequestPath::new_request(int service, double t, double root_arrival, uint32_t parent, uint64_t key) {
  uint32_t r;
  if (!free_.empty()) {
    r = free_.back();
    free_.pop_back();
  } else {
    r = static_cast<uint32_t>(requests_.size());
    requests_.emplace_back();
  }
  Request& q = requests_[r];
  uint32_t gen = q.gen;
  q = Request{};
  q.gen = gen;
  q.arrival = t;
  q.root_arrival = root_arrival;
  q.parent = parent;
  q.parent_gen = parent == kNone ? 0 : requests_[parent].gen;
  q.service = service;
  q.key = key;
  q.live = true;
  ServiceCounters& sv = services_[static_cast<size_t>(service)];
  sv.arrivals += 1;
  sv.rec_arrivals += 1;
  return r;
}

void RequestPath::free_request(uint32_t r) {
  Request& q = requests_[r];
  q.live = false;
  ++q.gen;
  free_.push_back(r);
}

void RequestPath::on_root_arrival(double t) {
  uint32_t r =
      new_request(graph_.entry(), t, t, kNone, derive_key(request_key_, static_cast<uint64_t>(roots_.total)));
  requests_[r].during_scaling = fleet_.scaling() > 0;
  ++roots_.total;
  roots_.arrived_by_interval[std::min(static_cast<size_t>(t / run_.record_interval_s),
                                      roots_.arrived_by_interval.size() - 1)] += 1;
  dispatch(r, t);
}

int RequestPath::route(int s) {
  const std::vector<int>& ready = fleet_.routable(s);
  if (ready.empty()) return -1;
  if (run_.services[static_cast<size_t>(s)].routing == RoutingPolicy::round_robin) {
    size_t& next = rr_next_[static_cast<size_t>(s)];
    if (next >= ready.size()) next = 0;
    return ready[next++];
  }
  // Least outstanding requests; ties go to the first in launch order after a random offset (no herd on index
  // 0).
  size_t n = ready.size();
  size_t start =
      static_cast<size_t>(route_rng_[static_cast<size_t>(s)].uniform() * static_cast<double>(n)) % n;
  int best = -1;
  for (size_t k = 0; k < n; ++k) {
    int id = ready[(start + k) % n];
    if (best < 0 || outstanding(id) < outstanding(best)) best = id;
  }
  return best;
}

int RequestPath::free_worker(int s) const {
  const int workers = run_.services[static_cast<size_t>(s)].workers;
  int best = -1;
  for (int id : fleet_.routable(s))
    if (busy(id) < workers && (best < 0 || outstanding(id) < outstanding(best))) best = id;
  return best;
}

void RequestPath::set_activator_in_path(int s, bool in_path, double t) {
  if (in_path_[static_cast<size_t>(s)] == in_path) return;
  in_path_[static_cast<size_t>(s)] = in_path;
  if (!in_path) on_ready(s, t);  // what it buffered goes to the pods as usual
}

// The activator in the path hands buffered requests to free workers, oldest first.
void RequestPath::drain_activator(int s, double t) {
  auto& waiting = activator_[static_cast<size_t>(s)];
  while (!waiting.empty()) {
    int id = free_worker(s);
    if (id < 0) return;
    uint32_t r = waiting.front();
    waiting.pop_front();
    services_[static_cast<size_t>(s)].activator_queued -= 1;
    if (t - requests_[r].root_arrival > run_.traffic.client_timeout_s) {  // its client gave up meanwhile
      requests_[r].failed = true;
      finish_request(r, t);
      continue;
    }
    admit(r, id, t);
  }
}

void RequestPath::dispatch(uint32_t r, double t) {
  const int s = requests_[r].service;
  int id = in_path_[static_cast<size_t>(s)] ? free_worker(s) : route(s);
  if (id < 0 && in_path_[static_cast<size_t>(s)] && !fleet_.routable(s).empty()) {
    // Every ready pod is busy: the activator buffers it until a worker frees up.
    auto& waiting = activator_[static_cast<size_t>(s)];
    if (waiting.size() < static_cast<size_t>(run_.services[static_cast<size_t>(s)].activator_capacity)) {
      waiting.push_back(r);
      services_[static_cast<size_t>(s)].activator_queued += 1;
      return;
    }
    requests_[r].failed = true;
    finish_request(r, t);
    return;
  }
  if (id < 0) {
    auto& waiting = activator_[static_cast<size_t>(s)];
    const auto capacity = static_cast<size_t>(run_.services[static_cast<size_t>(s)].activator_capacity);
    if ((activator_on_[static_cast<size_t>(s)] || in_path_[static_cast<size_t>(s)]) &&
        waiting.size() < capacity) {
      // The activator holds it until an instance is ready (a cold start begins with the first one waiting).
      waiting.push_back(r);
      services_[static_cast<size_t>(s)].activator_queued += 1;
      if (cold_start_since_[static_cast<size_t>(s)] < 0) cold_start_since_[static_cast<size_t>(s)] = t;
      return;
    }
    // No ready instance (and no room at the activator): the load balancer answers 503.
    requests_[r].failed = true;
    finish_request(r, t);
    return;
  }
  admit(r, id, t);
}

void RequestPath::on_ready(int s, double t) {
  auto& waiting = activator_[static_cast<size_t>(s)];
  double& since = cold_start_since_[static_cast<size_t>(s)];
  if (since >= 0) {
    services_[static_cast<size_t>(s)].cold_start_waits_s.push_back(t - since);
    since = -1;
  }
  if (in_path_[static_cast<size_t>(s)]) {
    drain_activator(s, t);
    return;
  }
  while (!waiting.empty() && !fleet_.routable(s).empty()) {
    uint32_t r = waiting.front();
    waiting.pop_front();
    services_[static_cast<size_t>(s)].activator_queued -= 1;
    if (t - requests_[r].root_arrival > run_.traffic.client_timeout_s) {  // its client gave up meanwhile
      requests_[r].failed = true;
      finish_request(r, t);
      continue;
    }
    admit(r, route(s), t);
  }
}

void RequestPath::expire_waiting(double t) {
  for (size_t s = 0; s < activator_.size(); ++s) {
    auto& waiting = activator_[s];
    for (auto it = waiting.begin(); it != waiting.end();) {
      uint32_t r = *it;
      if (t - requests_[r].root_arrival <= run_.traffic.client_timeout_s) {
        ++it;
        continue;
      }
      it = waiting.erase(it);
      services_[s].activator_queued -= 1;
      requests_[r].failed = true;
      finish_request(r, t);
    }
  }
}

// A request reaches an instance: a free worker takes it, or it waits in the queue, or the full queue rejects
// it.
void RequestPath::admit(uint32_t r, int id, double t) {
  const ServiceSpec& spec = run_.services[static_cast<size_t>(fleet_.instance(id).service)];
  Slot& sl = slot(id);
  requests_[r].instance = id;
  if (sl.busy < spec.workers) {
    start_request(r, id, t);
  } else if (static_cast<int>(sl.queue.size()) < spec.queue_limit) {
    sl.queue.push_back(r);
    services_[static_cast<size_t>(requests_[r].service)].queued += 1;
  } else {
    requests_[r].failed = true;
    requests_[r].instance = -1;
    finish_request(r, t);
  }
}

void RequestPath::start_request(uint32_t r, int id, double t) {
  Slot& sl = slot(id);
  Request& q = requests_[r];
  const ServiceSpec& spec = run_.services[static_cast<size_t>(q.service)];
  q.started = t;
  q.holding_pos = static_cast<int>(sl.holding.size());
  sl.holding.push_back(r);
  ++sl.busy;
  services_[static_cast<size_t>(q.service)].in_service += 1;
  Rng work(derive_key(q.key, kWorkLabel));
  q.flops = spec.work_cpu_s.sample(work) * ref_flops_ / fleet_.speed_factor(id, t);
  q.exec_running = true;
  change_execs(id, +1, t);
  backend_.start_exec({ActivityKind::request_exec, r}, fleet_.instance(id).placement.context, q.flops);
}

void RequestPath::on_completion(ActivityId id, bool ok, double t) {
  uint32_t r = id.index;
  switch (id.kind) {
    case ActivityKind::request_exec:
      on_exec_done(r, ok, t);
      break;
    case ActivityKind::call_comm: {
      Request& q = requests_[r];
      int target = q.instance;
      q.instance = -1;
      // The callee was chosen when the call left; if it stopped taking requests meanwhile, route again.
      if (target >= 0 && is_ready(fleet_.instance(target).state))
        admit(r, target, t);
      else
        dispatch(r, t);
      break;
    }
    case ActivityKind::reply_comm: {
      Request& q = requests_[r];
      child_done(q.parent, q.parent_gen, false, t);
      free_request(r);
      break;
    }
    case ActivityKind::init_exec:
      break;
  }
}

void RequestPath::on_exec_done(uint32_t r, bool ok, double t) {
  Request& q = requests_[r];
  q.exec_running = false;
  change_execs(q.instance, -1, t);
  fleet_.instance(q.instance).cpu_done_core_s += q.flops / speed_;
  if (!ok) {
    q.failed = true;
    int id = q.instance;
    finish_request(r, t);
    release_worker(r, id, t);
    return;
  }
  issue_calls(r, t);
}

void RequestPath::issue_calls(uint32_t r, double t) {
  int s = requests_[r].service;
  const std::vector<CallEdge>& edges = graph_.calls_from(s);
  std::vector<uint32_t> unroutable;
  for (size_t k = 0; k < edges.size(); ++k) {
    const CallEdge& e = edges[k];
    uint64_t edge_key =
        derive_key(derive_key(requests_[r].key, kCallLabel), edge_labels_[static_cast<size_t>(s)][k]);
    if (e.probability < 1 && !Rng(edge_key).bernoulli(e.probability)) continue;
    for (int c = 0; c < e.calls; ++c) {
      uint32_t child = new_request(e.to, t, requests_[r].root_arrival, r,
                                   derive_key(edge_key, static_cast<uint64_t>(c) + 1));
      ++requests_[r].pending_children;
      int target = route(e.to);
      if (target < 0) {
        unroutable.push_back(child);
        continue;
      }
      // The call crosses the network from the caller's node to the callee's.
      requests_[child].instance = target;
      requests_[child].reply_bytes = e.response_bytes;
      backend_.start_comm({ActivityKind::call_comm, child},
                          fleet_.instance(requests_[r].instance).placement.context,
                          fleet_.instance(target).placement.context, e.request_bytes);
    }
  }
  // Every call is out; now the ones with nowhere to go fail (the parent hears of each).
  for (uint32_t child : unroutable) {
    requests_[child].failed = true;
    finish_request(child, t);
  }
  Request& q = requests_[r];
  if (q.live && q.pending_children == 0) {
    int id = q.instance;
    finish_request(r, t);
    release_worker(r, id, t);
  }
}

// A request is over (success or failure): account for it and tell its parent, if any.
void RequestPath::finish_request(uint32_t r, double t) {
  Request& q = requests_[r];
  ServiceCounters& sv = services_[static_cast<size_t>(q.service)];
  double latency = t - q.arrival;
  const double give_up = q.root_arrival + run_.traffic.client_timeout_s;
  bool timed_out = t > give_up;
  bool failed = q.failed || timed_out;
  if (!failed && q.instance >= 0) slot(q.instance).completed += 1;
  if (failed) {
    // Monitoring counts a failure when the system notices it; the recorded series, when the client saw it.
    sv.failures += 1;
    double seen = timed_out ? give_up : t;
    sv.failures_by_interval[std::min(static_cast<size_t>(seen / run_.record_interval_s),
                                     sv.failures_by_interval.size() - 1)] += 1;
    if (timed_out) latency = give_up - q.arrival;
  } else {
    sv.completions += 1;
    sv.rec_completions += 1;
    sv.scrape_latencies_s.push_back(latency);
    sv.rec_latencies_s.push_back(latency);
  }
  if (q.parent == kNone) {
    if (failed || latency > run_.sla.latency_s)
      roots_.violated_by_interval[std::min(static_cast<size_t>(q.arrival / run_.record_interval_s),
                                           roots_.violated_by_interval.size() - 1)] += 1;
    if (failed) {
      ++roots_.failed;
    } else {
      roots_.latencies_s.push_back(latency);
      if (q.during_scaling) roots_.scaling_latencies_s.push_back(latency);
    }
    if (run_.record_requests)
      result_.requests.push_back(
          {q.arrival, latency, q.started >= 0 ? q.started - q.arrival : -1.0, static_cast<uint8_t>(failed)});
  } else {
    uint32_t parent = q.parent;
    uint32_t pgen = q.parent_gen;
    int from = q.instance;
    const Request& p = requests_[parent];
    if (!failed && from >= 0 && p.live && p.gen == pgen && p.instance >= 0) {
      // The reply crosses the network back to the caller; the slot is freed when it lands.
      q.instance = -1;
      backend_.start_comm({ActivityKind::reply_comm, r}, fleet_.instance(from).placement.context,
                          fleet_.instance(p.instance).placement.context, q.reply_bytes);
      return;
    }
    child_done(parent, pgen, failed, t);
  }
  free_request(r);
}

void RequestPath::child_done(uint32_t parent, uint32_t parent_gen, bool failed, double t) {
  Request& p = requests_[parent];
  if (!p.live || p.gen != parent_gen) return;  // the parent already failed (its instance was terminated)
  if (failed) p.failed = true;
  if (--p.pending_children > 0) return;
  int id = p.instance;
  finish_request(parent, t);
  if (id >= 0) release_worker(parent, id, t);
}

// Request r (finished) gives its worker back; the next queued request takes it.
void RequestPath::release_worker(uint32_t r, int id, double t) {
  Slot& sl = slot(id);
  const ServiceSpec& spec = run_.services[static_cast<size_t>(fleet_.instance(id).service)];
  ServiceCounters& sv = services_[static_cast<size_t>(fleet_.instance(id).service)];
  int pos = requests_[r].holding_pos;
  sl.holding[static_cast<size_t>(pos)] = sl.holding.back();
  requests_[sl.holding[static_cast<size_t>(pos)]].holding_pos = pos;
  sl.holding.pop_back();
  --sl.busy;
  sv.in_service -= 1;
  while (!sl.queue.empty() && sl.busy < spec.workers) {
    uint32_t next = sl.queue.front();
    sl.queue.pop_front();
    sv.queued -= 1;
    if (t - requests_[next].root_arrival >
        run_.traffic.client_timeout_s) {  // the client gave up: not worth serving
      requests_[next].failed = true;
      requests_[next].instance = -1;
      finish_request(next, t);
      continue;
    }
    start_request(next, id, t);
  }
  const int s = fleet_.instance(id).service;
  if (in_path_[static_cast<size_t>(s)] && is_ready(fleet_.instance(id).state)) drain_activator(s, t);
  if (sl.busy == 0 && sl.queue.empty()) hooks_.idle(id, t);
}

void RequestPath::fail_instance(int id, double t) {
  Slot& sl = slot(id);
  ServiceCounters& sv = services_[static_cast<size_t>(fleet_.instance(id).service)];
  while (!sl.queue.empty()) {
    uint32_t r = sl.queue.front();
    sl.queue.pop_front();
    sv.queued -= 1;
    requests_[r].failed = true;
    requests_[r].instance = -1;
    finish_request(r, t);
  }
  std::vector<uint32_t> held = sl.holding;
  for (uint32_t r : held) {
    Request& q = requests_[r];
    if (q.exec_running) {
      fleet_.instance(id).cpu_done_core_s +=
          backend_.exec_done_flops({ActivityKind::request_exec, r}) / speed_;
      backend_.cancel({ActivityKind::request_exec, r});
      q.exec_running = false;
      change_execs(id, -1, t);
    }
    q.failed = true;
    q.instance = -1;
    finish_request(r, t);
    release_worker(r, id, t);
  }
}

}  // namespace autoscale
