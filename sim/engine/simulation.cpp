// The exact-mode engine. SimGrid shares CPUs and network; everything else is driven from one loop without
// actors: the loop advances SimGrid with run_until() to the next of our own events (arrivals, lifecycle phase
// ends, scrapes, control ticks, recording), and request executions end through the global activity-completion
// callback, which frees the worker and starts the next queued request (see
// ../shared/design/simgrid-performance.md).
#include "sim/engine/simulation.hpp"

#include <simgrid/s4u.hpp>
// version.h needs the declarations s4u.hpp brings in first.
#include <simgrid/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>

#include "controllers/registry.hpp"
#include "controllers/base/error.hpp"
#include "sim/core/monitoring.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/traffic.hpp"

namespace sg = simgrid::s4u;

namespace autoscale {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();

enum class State : uint8_t {
  launching,     // API call accepted, waiting for the launch latency
  pending,       // no node/host with room
  provisioning,  // capacity found: VM being created / image pulled
  booting,
  initializing,  // application init
  probing,       // waiting for the readiness probe to succeed
  warming,       // ready, in the load balancer, capacity ramping up
  in_service,
  draining,  // out of the load balancer, finishing in-flight requests
  terminated,
  count
};
constexpr int kStates = static_cast<int>(State::count);
const char* kStateNames[kStates] = {"launching", "pending", "provisioning", "booting",  "initializing",
                                    "probing",   "warming", "in_service",   "draining", "terminated"};

bool is_ready(State s) {
  return s == State::warming || s == State::in_service;
}
bool is_starting(State s) {
  return s == State::launching || s == State::provisioning || s == State::booting ||
         s == State::initializing || s == State::probing;
}

// Activity tags: what a completed SimGrid activity was, packed into its user data.
enum class Tag : uintptr_t { request_exec = 1, init_exec = 2, call_comm = 3, reply_comm = 4 };
// Layout: kind in bits 0-2, slot index above.
void* make_tag(Tag t, uint32_t index) {
  return reinterpret_cast<void*>((static_cast<uintptr_t>(index) << 3) | static_cast<uintptr_t>(t));
}

struct Node {
  sg::VirtualMachine* vm = nullptr;
  int host = -1;
  int pool = -1;
  int vcpu = 0;
  double memory_gib = 0;
  double cpu_free = 0;
  double mem_free = 0;
  double price_per_s = 0;
  double billed_from = -1;   // < 0: not billed yet
  double billed_until = -1;  // < 0: still running
  int comms_in_flight = 0;   // messages from or to this node: its VM is destroyed only when none is left
  bool dedicated = false;
};

struct Instance {
  int service = 0;
  int node = -1;
  State state = State::launching;
  uint32_t epoch = 0;  // bumped on every transition: a scheduled phase end for an older epoch is stale
  double launched_at = 0;
  double phases_s[4] = {0, 0, 0, 0};  // launch, provision, boot, init (drawn at launch, in this order)
  double boot_end = 0;
  double init_end_timer = -1;  // init wall time elapsed
  bool init_cpu_done = true;
  bool terminating = false;
  double warm_start = 0;
  int busy = 0;  // requests holding a worker
  std::deque<uint32_t> queue;
  int active_execs = 0;  // CPU activities running (requests and init)
  double max_usage_cores = 0;
  double capacity_cores = 0;
  double busy_core_s = 0;  // CPU time used so far (integral of usage_level), for per-instance metrics
  double busy_since = 0;
  double ready_time = -1;  // last transition to ready
  sg::ExecPtr init_exec;
  int outstanding() const { return busy + static_cast<int>(queue.size()); }
};

struct Request {
  double arrival = 0;       // at this service
  double root_arrival = 0;  // of the end-user request
  double started = -1;      // a worker took it
  uint32_t parent = kNone;
  uint32_t parent_gen = 0;
  uint32_t gen = 0;  // bumped when the slot is freed
  int instance = -1;
  int service = 0;
  int pending_children = 0;
  bool failed = false;
  bool running = false;
  bool during_scaling = false;
  bool live = false;
  sg::ExecPtr exec;
  sg::CommPtr comm;            // the call to this request's service, then its reply to the caller
  int comm_nodes[2] = {0, 0};  // the nodes it connects
  double reply_bytes = 0;      // size of its answer to the caller
};

struct Service {
  const ServiceSpec* spec = nullptr;
  Rng work_rng;
  Rng startup_rng;
  Rng route_rng;
  int desired = 0;
  std::vector<int> instances;  // every instance ever launched (ids), in launch order
  std::vector<int> routable;   // ready instances, in launch order
  size_t rr_next = 0;
  int state_count[kStates] = {};
  double work_flops_mean = 0;
  double usable_cores = 0;  // per instance, in cores of reference speed: min(workers, cores) x speed ratio
  double cpu_request_cores =
      0;  // what utilization is relative to: pod cpu_request, or a dedicated node's vCPUs
  // Integrals over ready instances (cumulative), for utilization.
  double busy_level = 0, cap_level = 0;
  double busy_core_s = 0, capacity_core_s = 0, level_since = 0;
  // Cumulative counters and the current scrape's / record's latency samples.
  double arrivals = 0, completions = 0, failures = 0;
  double in_service = 0;  // requests holding a worker, total
  double queued = 0;
  std::vector<double> scrape_latencies;
  // Record interval accumulators.
  double rec_arrivals = 0, rec_completions = 0;
  std::vector<double> failures_by_interval;  // filled as failures are seen, possibly into past intervals
  double rec_busy0 = 0, rec_cap0 = 0;
  std::vector<double> rec_latencies;
  double cost_usd = 0;  // closed dedicated nodes
  std::vector<int> desired_history;
  Service(const ServiceSpec& s, uint64_t seed)
      : spec(&s),
        work_rng(seed, "service/" + s.name),
        startup_rng(seed, "startup/" + s.name),
        route_rng(seed, "routing/" + s.name) {}
};

struct Event {
  double t;
  uint64_t seq;
  enum Type : uint8_t { phase_end, drain_timeout, scrape, control, record, init_timer } type;
  int instance;
  uint32_t epoch;
  bool operator>(const Event& o) const { return t > o.t || (t == o.t && seq > o.seq); }
};

class Simulation {
 public:
  Simulation(const RunSpec& run, const SimulationOptions& opts)
      : run_(run),
        opts_(opts),
        graph_(run, opts.file),
        arrivals_(run.traffic, run.seed),
        monitoring_(run.monitoring, database_flags(run)) {}

  RunResult run();

 private:
  static std::vector<bool> database_flags(const RunSpec& run) {
    std::vector<bool> v;
    for (const auto& s : run.services) v.push_back(s.database);
    return v;
  }
  void build_platform();
  int find_host(const InstanceType& type) const;  // first host with room for a VM of this type, or -1
  void destroy_idle_vms();
  int create_node(int pool, int host, const std::string& name);
  void schedule(double t, Event::Type type, int instance = -1, uint32_t epoch = 0) {
    events_.push(Event{t, seq_++, type, instance, epoch});
  }
  // Lifecycle
  void set_desired(int s, int n, bool initial = false);
  void reconcile(int s, bool initial = false);
  void launch(int s, bool ready_now = false);
  void enter(int id, State st);
  void on_phase_end(int id, uint32_t epoch);
  void try_place(int id);
  bool place(int id, bool start_phases = true);
  void start_init(int id);
  void maybe_init_done(int id);
  void begin_probing(int id);
  void begin_drain(int id);
  void terminate(int id, double t);
  void retry_pending();
  // Requests
  void on_root_arrival(double t);
  uint32_t new_request(int service, double t, double root_arrival, uint32_t parent);
  void dispatch(uint32_t r, double t);
  void admit(uint32_t r, int id, double t);
  int route(int s);
  void start_request(uint32_t r, int inst, double t);
  void on_exec_done(uint32_t r, bool ok, double t);
  void issue_calls(uint32_t r, double t);
  void finish_request(uint32_t r, double t);
  void child_done(uint32_t parent, uint32_t parent_gen, bool failed, double t);
  void send(uint32_t r, int from_node, int to_node, double bytes, Tag tag);
  void landed(uint32_t r);
  void release_worker(int inst, double t);
  void free_request(uint32_t r);
  void on_completion(const sg::Activity& a);
  // CPU accounting
  void touch_service(int s, double t) {
    Service& sv = services_[s];
    sv.busy_core_s += sv.busy_level * (t - sv.level_since);
    sv.capacity_core_s += sv.cap_level * (t - sv.level_since);
    sv.level_since = t;
  }
  void touch_instance(Instance& in, double t) {
    in.busy_core_s += usage_level(in) * (t - in.busy_since);
    in.busy_since = t;
  }
  static int starting_count(const Service& sv) {
    int n = 0;
    for (int st = 0; st < kStates; ++st)
      if (is_starting(static_cast<State>(st))) n += sv.state_count[st];
    return n;
  }
  double usage_level(const Instance& in) const {
    return std::min(static_cast<double>(in.active_execs), in.max_usage_cores);
  }
  void change_execs(int id, int delta, double t);
  // Monitoring, control, recording
  void take_scrape(double t);
  void control(double t);
  void record(double t);
  double node_cost(const Node& n, double t) const;
  void finalize(double t, RunResult& out);

  const RunSpec& run_;
  SimulationOptions opts_;
  ServiceGraph graph_;
  ArrivalProcess arrivals_;
  MonitoringPipeline monitoring_;
  std::shared_ptr<Controller> controller_;
  std::vector<Service> services_;
  std::vector<Instance> instances_;
  std::vector<Node> nodes_;
  std::vector<sg::Host*> hosts_;
  std::vector<double> host_free_cores_;  // vCPU slots left: cores x cpu_overcommit
  std::vector<double> host_free_mem_;
  std::vector<Request> requests_;
  std::vector<uint32_t> free_requests_;
  std::vector<sg::ActivityPtr> graveyard_;  // released after run_until returns (never inside the callback)
  std::vector<int> vms_to_destroy_;         // nodes
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> events_;
  uint64_t seq_ = 0;
  double now_ = 0;
  double ref_flops_ = 1e9;
  int scaling_in_progress_ = 0;  // instances pending, starting or draining, all services
  // Root request accounting (end-user view).
  long roots_total_ = 0, roots_failed_ = 0, roots_completed_ = 0, roots_slow_ = 0;
  std::vector<double> root_latencies_, root_latencies_scaling_;
  double instance_seconds_closed_ = 0;
  double closed_node_cost_ = 0;
  RunResult result_;
};

void Simulation::build_platform() {
  const HostSpec& h = run_.hosts;
  auto* zone = sg::create_star_zone("cluster");
  const double bw = run_.network.bandwidth_gbps * 1e9 / 8;
  for (int i = 0; i < h.count; ++i) {
    std::string name = "host-" + std::to_string(i);
    sg::Host* host = zone->create_host(name, h.speed_gflops * 1e9)->set_core_count(h.cores)->seal();
    const sg::Link* link = zone->create_split_duplex_link("link-" + std::to_string(i), bw)
                               ->set_latency(run_.network.latency_s)
                               ->seal();
    zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                    {{link, sg::LinkInRoute::Direction::UP}, {link, sg::LinkInRoute::Direction::DOWN}}, true);
    hosts_.push_back(host);
    host_free_cores_.push_back(h.cores * h.cpu_overcommit);
    host_free_mem_.push_back(h.memory_gib);
  }
  zone->seal();
  // Fixed node pools start at time 0.
  for (size_t p = 0; p < run_.node_pools.size(); ++p) {
    const NodePool& pool = run_.node_pools[p];
    if (pool.dedicated) continue;
    const InstanceType& type = run_.instance_type(pool.instance_type);
    for (int k = 0; k < pool.nodes; ++k) {
      int host = find_host(type);
      if (host < 0)
        throw InputError(opts_.file, 0, "node_pools." + pool.name + ".nodes",
                         "the hosts have no room for node " + std::to_string(k + 1) + " of this pool (" +
                             std::to_string(pool.nodes) + " nodes of " + std::to_string(type.vcpu) +
                             " vCPU); expected fewer nodes or more hosts");
      nodes_[create_node(static_cast<int>(p), host, pool.name + "-" + std::to_string(k))].billed_from = 0;
    }
  }
}

void Simulation::destroy_idle_vms() {
  std::vector<int> keep;
  for (int n : vms_to_destroy_) {
    if (nodes_[n].comms_in_flight > 0) {
      keep.push_back(n);
      continue;
    }
    nodes_[n].vm->destroy();
    nodes_[n].vm = nullptr;
  }
  vms_to_destroy_.swap(keep);
}

int Simulation::find_host(const InstanceType& type) const {
  for (size_t i = 0; i < hosts_.size(); ++i)
    if (host_free_cores_[i] + 1e-9 >= type.vcpu && host_free_mem_[i] >= type.memory_gib)
      return static_cast<int>(i);
  return -1;
}

int Simulation::create_node(int pool, int host, const std::string& name) {
  const InstanceType& type = run_.instance_type(run_.node_pools[pool].instance_type);
  host_free_cores_[host] -= type.vcpu;
  host_free_mem_[host] -= type.memory_gib;
  Node n;
  n.host = host;
  n.pool = pool;
  n.vcpu = type.vcpu;
  n.memory_gib = type.memory_gib;
  n.cpu_free = type.vcpu;
  n.mem_free = type.memory_gib;
  n.price_per_s = type.price_per_hour_usd / 3600.0;
  n.dedicated = run_.node_pools[pool].dedicated;
  n.vm = hosts_[host]->create_vm(name, type.vcpu);
  n.vm->start();
  nodes_.push_back(n);
  return static_cast<int>(nodes_.size()) - 1;
}

// ---------------------------------------------------------------- lifecycle

void Simulation::set_desired(int s, int n, bool initial) {
  services_[s].desired = n;
  reconcile(s, initial);
}

// `initial`: the fleet at time 0, in service at once.
void Simulation::reconcile(int s, bool initial) {
  Service& sv = services_[s];
  int active = 0;
  for (int id : sv.instances) {
    State st = instances_[id].state;
    if (st != State::draining && st != State::terminated) ++active;
  }
  for (; active < sv.desired; ++active) launch(s, initial);
  if (active <= sv.desired) return;
  int excess = active - sv.desired;
  // Abort launches first (newest first): pending, then starting; then drain ready instances by the victim
  // policy.
  for (auto it = sv.instances.rbegin(); it != sv.instances.rend() && excess > 0; ++it) {
    Instance& in = instances_[*it];
    if (in.state == State::pending || is_starting(in.state)) {
      terminate(*it, now_);
      --excess;
    }
  }
  while (excess-- > 0) {
    int victim = -1;
    for (int id : sv.instances) {
      const Instance& in = instances_[id];
      if (!is_ready(in.state)) continue;
      if (victim < 0) {
        victim = id;
        continue;
      }
      const Instance& v = instances_[victim];
      switch (sv.spec->scale_in_victim) {
        case VictimPolicy::newest:
          victim = id;  // launch order: the last ready one is the newest
          break;
        case VictimPolicy::oldest:
          break;
        case VictimPolicy::least_loaded:
          if (in.outstanding() < v.outstanding()) victim = id;
          break;
      }
    }
    if (victim < 0) break;
    begin_drain(victim);
  }
}

// `ready_now`: the initial fleet, already in service at time 0 (an Auto Scaling group that has been running).
void Simulation::launch(int s, bool ready_now) {
  Service& sv = services_[s];
  int id = static_cast<int>(instances_.size());
  instances_.emplace_back();
  Instance& in = instances_.back();
  in.service = s;
  in.launched_at = now_;
  const StartupSpec& st = sv.spec->startup;
  in.phases_s[0] = st.launch_s.sample(sv.startup_rng);
  in.phases_s[1] = st.provision_s.sample(sv.startup_rng);
  in.phases_s[2] = st.boot_s.sample(sv.startup_rng);
  in.phases_s[3] = st.init_s.sample(sv.startup_rng);
  sv.instances.push_back(id);
  ++sv.state_count[static_cast<int>(State::launching)];
  ++scaling_in_progress_;
  if (ready_now && place(id, false)) {
    Instance& placed = instances_[id];
    if (nodes_[placed.node].dedicated) nodes_[placed.node].billed_from = now_;
    enter(id, State::in_service);
    return;
  }
  result_.events.push_back({now_, id, s, kStateNames[static_cast<int>(State::launching)]});
  schedule(now_ + in.phases_s[0], Event::phase_end, id, in.epoch);
}

void Simulation::enter(int id, State st) {
  Instance& in = instances_[id];
  Service& sv = services_[in.service];
  bool was_ready = is_ready(in.state);
  bool was_scaling = in.state == State::pending || is_starting(in.state) || in.state == State::draining;
  touch_service(in.service, now_);
  --sv.state_count[static_cast<int>(in.state)];
  ++sv.state_count[static_cast<int>(st)];
  in.state = st;
  ++in.epoch;
  bool ready = is_ready(st);
  bool scaling = st == State::pending || is_starting(st) || st == State::draining;
  scaling_in_progress_ += (scaling ? 1 : 0) - (was_scaling ? 1 : 0);
  if (was_ready != ready) {
    double sign = ready ? 1 : -1;
    sv.busy_level += sign * usage_level(in);
    sv.cap_level += sign * in.capacity_cores;
    if (ready) {
      in.ready_time = now_;
      sv.routable.push_back(id);
    } else {
      sv.routable.erase(std::find(sv.routable.begin(), sv.routable.end(), id));
    }
  }
  result_.events.push_back({now_, id, in.service, kStateNames[static_cast<int>(st)]});
}

void Simulation::on_phase_end(int id, uint32_t epoch) {
  Instance& in = instances_[id];
  if (in.epoch != epoch) return;
  const StartupSpec& st = services_[in.service].spec->startup;
  switch (in.state) {
    case State::launching:
      try_place(id);
      break;
    case State::provisioning:
      enter(id, State::booting);
      if (nodes_[in.node].dedicated) nodes_[in.node].billed_from = now_;
      schedule(now_ + in.phases_s[2], Event::phase_end, id, in.epoch);
      break;
    case State::booting:
      in.boot_end = now_;
      start_init(id);
      break;
    case State::probing:
      enter(id, st.warmup_s > 0 ? State::warming : State::in_service);
      in.warm_start = now_;
      if (st.warmup_s > 0) schedule(now_ + st.warmup_s, Event::phase_end, id, in.epoch);
      break;
    case State::warming:
      enter(id, State::in_service);
      break;
    default:
      break;
  }
}

void Simulation::try_place(int id) {
  if (place(id)) return;
  if (instances_[id].state != State::pending) enter(id, State::pending);
}

// Finds room (a host for a dedicated node, a node for a pod); `start_phases`: go on to provisioning.
bool Simulation::place(int id, bool start_phases) {
  Instance& in = instances_[id];
  const ServiceSpec& spec = *services_[in.service].spec;
  int pool_index = 0;
  for (size_t p = 0; p < run_.node_pools.size(); ++p)
    if (run_.node_pools[p].name == spec.node_pool) pool_index = static_cast<int>(p);
  const NodePool& pool = run_.node_pools[pool_index];
  const InstanceType& type = run_.instance_type(pool.instance_type);
  if (pool.dedicated) {
    int host = find_host(type);
    if (host < 0) return false;
    in.node = create_node(pool_index, host, spec.name + "-" + std::to_string(id));
    in.max_usage_cores = type.vcpu;
    in.capacity_cores = type.vcpu;
  } else {
    int best = -1;
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (n.pool == pool_index && n.cpu_free + 1e-9 >= spec.cpu_request &&
          n.mem_free + 1e-9 >= spec.memory_request_gib) {
        best = static_cast<int>(i);
        break;
      }
    }
    if (best < 0) return false;
    nodes_[best].cpu_free -= spec.cpu_request;
    nodes_[best].mem_free -= spec.memory_request_gib;
    in.node = best;
    in.max_usage_cores = nodes_[best].vcpu;
    in.capacity_cores = spec.cpu_request;
  }
  if (start_phases) {
    enter(id, State::provisioning);
    schedule(now_ + in.phases_s[1], Event::phase_end, id, in.epoch);
  }
  return true;
}

void Simulation::start_init(int id) {
  Instance& in = instances_[id];
  const StartupSpec& st = services_[in.service].spec->startup;
  enter(id, State::initializing);
  in.init_end_timer = -1;
  schedule(now_ + in.phases_s[3], Event::init_timer, id, in.epoch);
  in.init_cpu_done = st.init_cpu_s <= 0;
  if (!in.init_cpu_done) {
    in.init_exec =
        sg::Exec::init()->set_flops_amount(st.init_cpu_s * ref_flops_)->set_host(nodes_[in.node].vm);
    in.init_exec->set_data(make_tag(Tag::init_exec, static_cast<uint32_t>(id)));
    in.init_exec->start();
    change_execs(id, +1, now_);
  }
}

void Simulation::maybe_init_done(int id) {
  Instance& in = instances_[id];
  if (in.state != State::initializing || in.init_end_timer < 0 || !in.init_cpu_done) return;
  begin_probing(id);
}

void Simulation::begin_probing(int id) {
  Instance& in = instances_[id];
  const StartupSpec& st = services_[in.service].spec->startup;
  enter(id, State::probing);
  // Probes run every period from boot end + initial delay; the first one after init succeeds, and the
  // instance turns ready after success_threshold consecutive successes.
  double first = in.boot_end + st.readiness_initial_delay_s;
  double k = std::max(0.0, std::ceil((now_ - first) / st.readiness_period_s - 1e-9));
  double ready_at = first + (k + st.readiness_success_threshold - 1) * st.readiness_period_s;
  schedule(std::max(ready_at, now_), Event::phase_end, id, in.epoch);
}

void Simulation::begin_drain(int id) {
  enter(id, State::draining);
  Instance& in = instances_[id];
  if (in.outstanding() == 0) {
    terminate(id, now_);
    return;
  }
  schedule(now_ + services_[in.service].spec->drain_timeout_s, Event::drain_timeout, id, in.epoch);
}

void Simulation::terminate(int id, double t) {
  Instance& in = instances_[id];
  if (in.state == State::terminated || in.terminating) return;
  in.terminating = true;  // failing its requests below releases workers: no second termination from there
  now_ = t;
  // Whatever is still queued or running fails (the drain timeout expired, or a launch was aborted).
  while (!in.queue.empty()) {
    uint32_t r = in.queue.front();
    in.queue.pop_front();
    services_[in.service].queued -= 1;
    requests_[r].failed = true;
    finish_request(r, t);
  }
  if (in.busy > 0) {
    for (uint32_t r = 0; r < requests_.size(); ++r) {
      Request& q = requests_[r];
      if (!q.live || q.instance != id || !q.running) continue;
      if (q.exec) {
        q.exec->set_data(nullptr);
        q.exec->cancel();
        graveyard_.push_back(std::move(q.exec));
        change_execs(id, -1, t);
      }
      q.failed = true;
      q.instance = -1;
      finish_request(r, t);
      release_worker(id, t);
    }
  }
  if (in.init_exec) {
    in.init_exec->set_data(nullptr);
    in.init_exec->cancel();
    graveyard_.push_back(std::move(in.init_exec));
    change_execs(id, -1, t);
  }
  enter(id, State::terminated);
  instance_seconds_closed_ += t - in.launched_at;
  if (in.node >= 0) {
    Node& n = nodes_[in.node];
    const ServiceSpec& spec = *services_[in.service].spec;
    if (n.dedicated) {
      n.billed_until = t;
      double c = node_cost(n, t);
      closed_node_cost_ += c;
      services_[in.service].cost_usd += c;
      host_free_cores_[n.host] += n.vcpu;
      host_free_mem_[n.host] += n.memory_gib;
      // Destroyed once SimGrid has retired its activities and no message to or from it is in flight.
      vms_to_destroy_.push_back(in.node);
    } else {
      n.cpu_free += spec.cpu_request;
      n.mem_free += spec.memory_request_gib;
    }
  }
  retry_pending();
}

void Simulation::retry_pending() {
  for (size_t id = 0; id < instances_.size(); ++id)
    if (instances_[id].state == State::pending) place(static_cast<int>(id));
}

// ---------------------------------------------------------------- requests

uint32_t Simulation::new_request(int service, double t, double root_arrival, uint32_t parent) {
  uint32_t r;
  if (!free_requests_.empty()) {
    r = free_requests_.back();
    free_requests_.pop_back();
  } else {
    r = static_cast<uint32_t>(requests_.size());
    requests_.emplace_back();
  }
  Request& q = requests_[r];
  q.arrival = t;
  q.root_arrival = root_arrival;
  q.parent = parent;
  q.parent_gen = parent == kNone ? 0 : requests_[parent].gen;
  q.instance = -1;
  q.service = service;
  q.pending_children = 0;
  q.started = -1;
  q.failed = false;
  q.running = false;
  q.during_scaling = false;
  q.live = true;
  Service& sv = services_[service];
  sv.arrivals += 1;
  sv.rec_arrivals += 1;
  return r;
}

void Simulation::free_request(uint32_t r) {
  Request& q = requests_[r];
  q.live = false;
  ++q.gen;
  if (q.exec) graveyard_.push_back(std::move(q.exec));
  if (q.comm) graveyard_.push_back(std::move(q.comm));
  free_requests_.push_back(r);
}

void Simulation::on_root_arrival(double t) {
  uint32_t r = new_request(graph_.entry(), t, t, kNone);
  requests_[r].during_scaling = scaling_in_progress_ > 0;
  ++roots_total_;
  dispatch(r, t);
}

int Simulation::route(int s) {
  Service& sv = services_[s];
  if (sv.routable.empty()) return -1;
  if (sv.spec->routing == RoutingPolicy::round_robin) {
    if (sv.rr_next >= sv.routable.size()) sv.rr_next = 0;
    return sv.routable[sv.rr_next++];
  }
  // Least outstanding requests; ties go to the first in launch order after a random offset (no herd on index
  // 0).
  size_t n = sv.routable.size();
  size_t start = static_cast<size_t>(sv.route_rng.uniform() * static_cast<double>(n)) % n;
  int best = -1;
  for (size_t k = 0; k < n; ++k) {
    int id = sv.routable[(start + k) % n];
    if (best < 0 || instances_[id].outstanding() < instances_[best].outstanding()) best = id;
  }
  return best;
}

void Simulation::dispatch(uint32_t r, double t) {
  int s = requests_[r].service;
  int id = route(s);
  if (id < 0) {  // no ready instance: the load balancer answers 503
    requests_[r].failed = true;
    finish_request(r, t);
    return;
  }
  admit(r, id, t);
}

// A request reaches an instance: a free worker takes it, or it waits in the queue, or the full queue rejects
// it.
void Simulation::admit(uint32_t r, int id, double t) {
  Instance& in = instances_[id];
  Service& sv = services_[in.service];
  requests_[r].instance = id;
  if (in.busy < sv.spec->workers) {
    start_request(r, id, t);
  } else if (static_cast<int>(in.queue.size()) < sv.spec->queue_limit) {
    in.queue.push_back(r);
    sv.queued += 1;
  } else {
    requests_[r].failed = true;
    requests_[r].instance = -1;
    finish_request(r, t);
  }
}

void Simulation::start_request(uint32_t r, int id, double t) {
  Instance& in = instances_[id];
  Service& sv = services_[in.service];
  const StartupSpec& st = sv.spec->startup;
  double factor = 1;
  if (in.state == State::warming && st.warmup_s > 0) {
    double f = std::clamp((t - in.warm_start) / st.warmup_s, 0.0, 1.0);
    factor = st.warmup_initial_capacity + (1 - st.warmup_initial_capacity) * f;
  }
  Request& q = requests_[r];
  q.running = true;
  q.started = t;
  ++in.busy;
  sv.in_service += 1;
  q.exec = sg::Exec::init();
  q.exec->set_flops_amount(sv.spec->work_cpu_s.sample(sv.work_rng) * ref_flops_ / factor);
  q.exec->set_host(nodes_[in.node].vm);
  q.exec->set_data(make_tag(Tag::request_exec, r));
  q.exec->start();
  change_execs(id, +1, t);
}

void Simulation::change_execs(int id, int delta, double t) {
  Instance& in = instances_[id];
  touch_instance(in, t);
  if (is_ready(in.state)) {
    touch_service(in.service, t);
    double before = usage_level(in);
    in.active_execs += delta;
    services_[in.service].busy_level += usage_level(in) - before;
  } else {
    in.active_execs += delta;
  }
}

void Simulation::on_exec_done(uint32_t r, bool ok, double t) {
  Request& q = requests_[r];
  graveyard_.push_back(std::move(q.exec));
  change_execs(q.instance, -1, t);
  if (!ok) {
    q.failed = true;
    finish_request(r, t);
    release_worker(q.instance, t);
    return;
  }
  issue_calls(r, t);
}

void Simulation::issue_calls(uint32_t r, double t) {
  int s = requests_[r].service;
  Service& sv = services_[s];
  for (const CallEdge& e : graph_.calls_from(s)) {
    if (e.probability < 1 && !sv.route_rng.bernoulli(e.probability)) continue;
    for (int c = 0; c < e.calls; ++c) {
      uint32_t child = new_request(e.to, t, requests_[r].root_arrival, r);
      ++requests_[r].pending_children;
      int target = route(e.to);
      if (target < 0) {
        requests_[child].failed = true;
        finish_request(child, t);
        continue;
      }
      // The call crosses the network from the caller's node to the callee's.
      requests_[child].instance = target;
      requests_[child].reply_bytes = e.response_bytes;
      send(child, instances_[requests_[r].instance].node, instances_[target].node, e.request_bytes,
           Tag::call_comm);
    }
  }
  if (requests_[r].pending_children == 0) {
    int inst = requests_[r].instance;
    finish_request(r, t);
    release_worker(inst, t);
  }
}

// A request is over (success or failure): account for it and tell its parent, if any.
void Simulation::finish_request(uint32_t r, double t) {
  Request& q = requests_[r];
  Service& sv = services_[q.service];
  double latency = t - q.arrival;
  const double give_up = q.root_arrival + run_.traffic.client_timeout_s;
  bool timed_out = t > give_up;
  bool failed = q.failed || timed_out;
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
    sv.scrape_latencies.push_back(latency);
    sv.rec_latencies.push_back(latency);
  }
  if (q.parent == kNone) {
    if (failed) {
      ++roots_failed_;
    } else {
      ++roots_completed_;
      root_latencies_.push_back(latency);
      if (q.during_scaling) root_latencies_scaling_.push_back(latency);
      if (latency > run_.sla.latency_s) ++roots_slow_;
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
      q.running = false;
      q.instance = -1;
      send(r, instances_[from].node, instances_[p.instance].node, q.reply_bytes, Tag::reply_comm);
      return;
    }
    child_done(parent, pgen, failed, t);
  }
  free_request(r);
}

// A message of request r between two nodes (a call or its reply), as a SimGrid communication.
void Simulation::send(uint32_t r, int from_node, int to_node, double bytes, Tag tag) {
  Request& q = requests_[r];
  q.comm = sg::Comm::sendto_init(nodes_[from_node].vm, nodes_[to_node].vm);
  q.comm->set_payload_size(static_cast<uint64_t>(bytes));
  q.comm->set_data(make_tag(tag, r));
  q.comm_nodes[0] = from_node;
  q.comm_nodes[1] = to_node;
  ++nodes_[from_node].comms_in_flight;
  ++nodes_[to_node].comms_in_flight;
  q.comm->start();
}

void Simulation::landed(uint32_t r) {
  Request& q = requests_[r];
  graveyard_.push_back(std::move(q.comm));
  for (int n : q.comm_nodes) --nodes_[n].comms_in_flight;
}

void Simulation::child_done(uint32_t parent, uint32_t parent_gen, bool failed, double t) {
  Request& p = requests_[parent];
  if (!p.live || p.gen != parent_gen) return;  // the parent already failed (its instance was terminated)
  if (failed) p.failed = true;
  if (--p.pending_children > 0) return;
  int inst = p.instance;
  finish_request(parent, t);
  if (inst >= 0) release_worker(inst, t);
}

void Simulation::release_worker(int id, double t) {
  Instance& in = instances_[id];
  Service& sv = services_[in.service];
  --in.busy;
  sv.in_service -= 1;
  while (!in.queue.empty() && in.busy < sv.spec->workers) {
    uint32_t r = in.queue.front();
    in.queue.pop_front();
    sv.queued -= 1;
    if (t - requests_[r].root_arrival >
        run_.traffic.client_timeout_s) {  // the client gave up: not worth serving
      requests_[r].failed = true;
      requests_[r].instance = -1;
      finish_request(r, t);
      continue;
    }
    start_request(r, id, t);
  }
  if (in.state == State::draining && in.outstanding() == 0) terminate(id, t);
}

void Simulation::on_completion(const sg::Activity& a) {
  auto tag = reinterpret_cast<uintptr_t>(a.get_data<void>());
  if (tag == 0) return;
  auto kind = static_cast<Tag>(tag & 7);
  auto index = static_cast<uint32_t>((tag >> 3) & 0xffffffffu);
  double t = sg::Engine::get_clock();
  now_ = t;  // handlers run at the completion's date, inside run_until()
  bool ok = a.get_state() == sg::Activity::State::FINISHED;
  switch (kind) {
    case Tag::request_exec:
      on_exec_done(index, ok, t);
      break;
    case Tag::init_exec: {
      Instance& in = instances_[index];
      graveyard_.push_back(std::move(in.init_exec));
      change_execs(static_cast<int>(index), -1, t);
      in.init_cpu_done = true;
      maybe_init_done(static_cast<int>(index));
      break;
    }
    case Tag::call_comm: {
      landed(index);
      Request& q = requests_[index];
      int target = q.instance;
      q.instance = -1;
      // The callee was chosen when the call left; if it stopped taking requests meanwhile, route again.
      if (target >= 0 && is_ready(instances_[target].state))
        admit(index, target, t);
      else
        dispatch(index, t);
      break;
    }
    case Tag::reply_comm: {
      landed(index);
      Request& q = requests_[index];
      child_done(q.parent, q.parent_gen, false, t);
      free_request(index);
      break;
    }
  }
}

// ---------------------------------------------------------------- monitoring, control, recording

void Simulation::take_scrape(double t) {
  Scrape sc;
  sc.time_s = t;
  sc.services.resize(services_.size());
  for (size_t s = 0; s < services_.size(); ++s) {
    touch_service(static_cast<int>(s), t);
    Service& sv = services_[s];
    ServiceSample& o = sc.services[s];
    o.arrivals = sv.arrivals;
    o.completions = sv.completions;
    o.failures = sv.failures;
    o.busy_core_s = sv.busy_core_s;
    o.capacity_core_s = sv.capacity_core_s;
    o.in_service = sv.in_service;
    o.queued = sv.queued;
    o.pending = sv.state_count[static_cast<int>(State::pending)];
    o.starting = starting_count(sv);
    o.warming = sv.state_count[static_cast<int>(State::warming)];
    o.in_service_instances = sv.state_count[static_cast<int>(State::in_service)];
    o.draining = sv.state_count[static_cast<int>(State::draining)];
    o.latencies_s.swap(sv.scrape_latencies);
    sv.scrape_latencies.clear();
    for (int id : sv.instances) {
      Instance& in = instances_[id];
      if (in.state == State::terminated) continue;
      touch_instance(in, t);
      o.instances.push_back({id, kStateNames[static_cast<int>(in.state)], is_ready(in.state),
                             in.state == State::draining, in.launched_at, in.ready_time, in.busy_core_s,
                             sv.cpu_request_cores, in.busy});
    }
  }
  monitoring_.add(std::move(sc));
}

void Simulation::control(double t) {
  Observation obs;
  obs.time_s = t;
  for (const auto& sv : services_) {
    ServiceObservation o;
    o.name = sv.spec->name;
    o.min_instances = sv.spec->min_instances;
    o.max_instances = sv.spec->max_instances;
    o.desired = sv.desired;
    obs.services.push_back(o);
  }
  monitoring_.observe(t, obs);
  auto w0 = std::chrono::steady_clock::now();
  Decision d = controller_->decide(obs);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  for (const auto& sd : d.services) {
    int s = run_.service_index(sd.service);
    if (s < 0) continue;
    Service& sv = services_[s];
    int want = std::clamp(sd.desired, sv.spec->min_instances, sv.spec->max_instances);
    std::string rule = sd.rule;
    if (want != sd.desired) rule += want > sd.desired ? ",min_instances" : ",max_instances";
    result_.decisions.push_back({t, s, sv.desired, want, sd.metric, sd.metric_value, rule, wall});
    if (want != sv.desired) {
      sv.desired_history.push_back(want);
      set_desired(s, want);
    }
  }
}

double Simulation::node_cost(const Node& n, double t) const {
  if (n.billed_from < 0) return 0;
  double end = n.billed_until >= 0 ? n.billed_until : t;
  double seconds = end - n.billed_from;
  const NodePool& pool = run_.node_pools[n.pool];
  if (n.dedicated && n.billed_until >= 0) seconds = std::max(seconds, pool.min_billed_s);
  return seconds * n.price_per_s;
}

void Simulation::record(double t) {
  double dt = run_.record_interval_s;
  if (!result_.time_s.empty())
    dt = t - result_.time_s.back();
  else
    dt = t;
  result_.time_s.push_back(t);
  double total_cost = closed_node_cost_;
  for (const auto& n : nodes_)
    if (n.billed_until < 0) total_cost += node_cost(n, t);
  result_.cost_usd.push_back(total_cost);
  for (size_t s = 0; s < services_.size(); ++s) {
    Service& sv = services_[s];
    ServiceSeries& o = result_.services[s];
    touch_service(static_cast<int>(s), t);
    o.arrival_rps.push_back(sv.rec_arrivals / dt);
    o.completed_rps.push_back(sv.rec_completions / dt);
    o.latency_p50_s.push_back(quantile(sv.rec_latencies, 0.50));
    o.latency_p95_s.push_back(quantile(sv.rec_latencies, 0.95));
    o.latency_p99_s.push_back(quantile(sv.rec_latencies, 0.99));
    double cap = sv.capacity_core_s - sv.rec_cap0;
    o.utilization.push_back(cap > 0 ? (sv.busy_core_s - sv.rec_busy0) / cap : 0);
    o.queue_depth.push_back(sv.queued);
    double offered_cores = sv.rec_arrivals / dt * sv.work_flops_mean / ref_flops_;  // at reference speed
    double per_instance = sv.usable_cores * run_.metrics.reference_utilization;
    o.needed_instances.push_back(std::ceil(offered_cores / per_instance - 1e-9));
    o.instances_desired.push_back(sv.desired);
    o.instances_pending.push_back(sv.state_count[static_cast<int>(State::pending)]);
    o.instances_starting.push_back(starting_count(sv));
    o.instances_ready.push_back(sv.state_count[static_cast<int>(State::warming)] +
                                sv.state_count[static_cast<int>(State::in_service)]);
    o.instances_draining.push_back(sv.state_count[static_cast<int>(State::draining)]);
    double cost = sv.cost_usd;
    for (int id : sv.instances) {
      const Instance& in = instances_[id];
      if (in.state != State::terminated && in.node >= 0 && nodes_[in.node].dedicated)
        cost += node_cost(nodes_[in.node], t);
    }
    o.cost_usd.push_back(cost);
    sv.rec_arrivals = sv.rec_completions = 0;
    sv.rec_latencies.clear();
    sv.rec_busy0 = sv.busy_core_s;
    sv.rec_cap0 = sv.capacity_core_s;
  }
}

RunResult Simulation::run() {
  int argc = 2;
  char arg0[] = "autoscale";
  char arg1[] = "--log=root.thres:critical";
  char* argv[] = {arg0, arg1, nullptr};
  sg::Engine engine(&argc, argv);
  ref_flops_ = run_.reference_speed_gflops * 1e9;
  build_platform();
  sg::Activity::on_completion_cb([this](const sg::Activity& a) { on_completion(a); });

  ControllerContext ctx;
  for (const auto& s : run_.services) ctx.services.push_back(s.name);
  controller_ = opts_.controller ? opts_.controller
                                 : make_controller(run_.controller.kind, *run_.controller.params, ctx);

  result_.name = run_.name;
  result_.config_toml = run_.config_toml;
  result_.record_interval_s = run_.record_interval_s;
  for (const auto& s : run_.services) {
    services_.emplace_back(s, run_.seed);
    Service& sv = services_.back();
    sv.work_flops_mean = s.work_cpu_s.expected() * ref_flops_;
    const NodePool& pool = run_.node_pool(s.node_pool);
    double cores = pool.dedicated ? run_.instance_type(pool.instance_type).vcpu : s.cpu_request;
    sv.cpu_request_cores = cores;
    sv.usable_cores =
        std::min<double>(cores, s.workers) * run_.hosts.speed_gflops / run_.reference_speed_gflops;
    sv.failures_by_interval.assign(
        std::max<size_t>(1, static_cast<size_t>(std::ceil(run_.duration_s / run_.record_interval_s - 1e-9))),
        0.0);
    result_.services.emplace_back();
    result_.services.back().name = s.name;
  }
  take_scrape(0);
  for (size_t s = 0; s < services_.size(); ++s) {
    services_[s].desired_history.push_back(run_.services[s].initial_instances);
    set_desired(static_cast<int>(s), run_.services[s].initial_instances, true);
  }
  const double end = run_.duration_s;
  schedule(run_.monitoring.scrape_interval_s, Event::scrape);
  schedule(controller_->interval_s(), Event::control);
  schedule(std::min(run_.record_interval_s, end), Event::record);
  double next_arrival = arrivals_.next(end);
  long iter = 0;
  for (;;) {
    double t_ev = events_.empty() ? kInf : events_.top().t;
    double t_next = std::min(t_ev, next_arrival);
    if (t_next > end) break;
    engine.run_until(t_next);
    graveyard_.clear();
    if (!vms_to_destroy_.empty()) destroy_idle_vms();
    // An event scheduled from a completion callback may fall before the date run_until() just reached: it is
    // then handled at that date, so that time never runs backwards.
    now_ = std::max(now_, t_next);
    if (next_arrival <= t_ev) {
      on_root_arrival(t_next);
      next_arrival = arrivals_.next(end);
    } else {
      Event e = events_.top();
      events_.pop();
      switch (e.type) {
        case Event::phase_end:
          on_phase_end(e.instance, e.epoch);
          break;
        case Event::init_timer:
          if (instances_[e.instance].epoch == e.epoch) {
            instances_[e.instance].init_end_timer = now_;
            maybe_init_done(e.instance);
          }
          break;
        case Event::drain_timeout:
          if (instances_[e.instance].epoch == e.epoch) terminate(e.instance, now_);
          break;
        case Event::scrape:
          take_scrape(now_);
          schedule(now_ + run_.monitoring.scrape_interval_s, Event::scrape);
          break;
        case Event::control:
          control(now_);
          schedule(now_ + controller_->interval_s(), Event::control);
          break;
        case Event::record:
          record(now_);
          if (now_ < end) schedule(std::min(now_ + run_.record_interval_s, end), Event::record);
          break;
      }
    }
    if (opts_.progress && (++iter & 0x3fff) == 0) opts_.progress(now_ / end);
  }
  RunResult out;
  finalize(end, out);
  // Stop whatever is still running so the engine shuts down cleanly.
  for (auto& q : requests_) {
    if (q.exec) {
      q.exec->set_data(nullptr);
      q.exec->cancel();
    }
    if (q.comm) {
      q.comm->set_data(nullptr);
      q.comm->cancel();
    }
  }
  for (auto& in : instances_)
    if (in.init_exec) {
      in.init_exec->set_data(nullptr);
      in.init_exec->cancel();
    }
  engine.run_until(end);  // lets SimGrid retire the cancelled activities while its models still exist
  requests_.clear();
  for (auto& in : instances_) in.init_exec = nullptr;
  graveyard_.clear();
  return out;
}

void Simulation::finalize(double end, RunResult& out) {
  for (size_t k = 0; k < services_.size(); ++k) {
    std::vector<double>& failed = result_.services[k].failed_rps;
    for (size_t i = 0; i < result_.time_s.size(); ++i) {
      double dt = result_.time_s[i] - (i > 0 ? result_.time_s[i - 1] : 0.0);
      failed.push_back(
          i < services_[k].failures_by_interval.size() ? services_[k].failures_by_interval[i] / dt : 0);
    }
  }
  RunTotals totals;
  totals.requests_total = roots_total_;
  totals.requests_failed = roots_failed_;
  totals.completed_latencies_s = root_latencies_;
  totals.scaling_latencies_s = root_latencies_scaling_;
  for (const auto& q : requests_)
    if (q.live && q.parent == kNone) totals.in_flight_arrivals_s.push_back(q.arrival);
  totals.instance_seconds = instance_seconds_closed_;
  totals.cost_usd = closed_node_cost_;
  for (const auto& in : instances_)
    if (in.state != State::terminated) totals.instance_seconds += end - in.launched_at;
  for (const auto& n : nodes_)
    if (n.billed_until < 0) totals.cost_usd += node_cost(n, end);
  totals.duration_s = end;
  for (const auto& sv : services_) totals.desired_history.push_back(sv.desired_history);
  result_.summary = summarize(totals, result_, SummaryConfig{run_.sla.latency_s});
  out = std::move(result_);
}

}  // namespace

std::string simgrid_version() {
  return std::to_string(SIMGRID_VERSION_MAJOR) + "." + std::to_string(SIMGRID_VERSION_MINOR) + "." +
         std::to_string(SIMGRID_VERSION_PATCH);
}

RunResult run_simulation(const RunSpec& run, const SimulationOptions& opts) {
  Simulation sim(run, opts);
  return sim.run();
}

}  // namespace autoscale
