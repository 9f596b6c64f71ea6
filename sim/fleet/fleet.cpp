#include "sim/fleet/fleet.hpp"

#include <algorithm>
#include <cmath>

#include "sim/core/startup.hpp"

namespace autoscale {

namespace {
const char* kStateNames[kStates] = {"launching",      "pending",           "provisioning", "booting",
                                    "initializing",   "probing",           "warming",      "in_service",
                                    "draining",       "pending_wait",      "resuming",     "warmed_stopped",
                                    "warmed_running", "warmed_hibernated", "shadow",       "terminating_wait",
                                    "terminated"};

// Phases {launch, provision, boot, init} drawn in this order.
std::array<double, 4> draw_phases(const StartupSpec& st, Rng& rng) {
  std::array<double, 4> p;
  p[0] = st.launch_s.sample(rng);
  p[1] = st.provision_s.sample(rng);
  p[2] = st.boot_s.sample(rng);
  p[3] = st.init_s.sample(rng);
  return p;
}
}  // namespace

const char* state_name(State s) {
  return kStateNames[static_cast<int>(s)];
}

Fleet::Fleet(const RunSpec& run, Cluster& cluster, ExecutionBackend& backend, Clock& clock, Hooks hooks)
    : run_(run),
      cluster_(cluster),
      backend_(backend),
      clock_(clock),
      hooks_(std::move(hooks)),
      drawn_ahead_(run.services.size()),
      desired_(run.services.size(), 0),
      by_service_(run.services.size()),
      routable_(run.services.size()),
      counts_(run.services.size()),
      speed_(backend.speed_flops_per_core()) {
  for (const auto& s : run.services) {
    startup_rng_.emplace_back(run.seed, "startup/" + s.name);
    // Streams of their own: a scenario without a warm pool or hooks draws exactly what it drew before.
    warm_rng_.emplace_back(run.seed, "warm_pool/" + s.name);
    resume_rng_.emplace_back(run.seed, "warm_pool_resume/" + s.name);
    hook_rng_.emplace_back();
    for (const auto& h : s.lifecycle_hooks)
      hook_rng_.back().emplace_back(run.seed, "lifecycle_hook/" + s.name + "/" + h.name);
  }
  pool_counts_.resize(run.services.size());
  for (auto& c : counts_) c.fill(0);
  for (auto& c : pool_counts_) c.fill(0);
}

int Fleet::starting(int s) const {
  int n = 0;
  for (int st = 0; st < kStates; ++st)
    if (is_starting(static_cast<State>(st))) n += counts_[static_cast<size_t>(s)][st];
  return n;
}

double Fleet::speed_factor(int id, double t) const {
  const Instance& in = instance(id);
  const StartupSpec& st = run_.services[static_cast<size_t>(in.service)].startup;
  if (in.state != State::warming || st.warmup_s <= 0) return 1;
  double f = std::clamp((t - in.warm_start) / st.warmup_s, 0.0, 1.0);
  return st.warmup_initial_capacity + (1 - st.warmup_initial_capacity) * f;
}

double Fleet::init_running_core_s(int id) const {
  if (instance(id).init_cpu_done) return 0;
  return backend_.exec_done_flops({ActivityKind::init_exec, static_cast<uint32_t>(id)}) / speed_;
}

const std::array<double, 4>& Fleet::upcoming_phases(int s, size_t k) {
  const StartupSpec& st = run_.services[static_cast<size_t>(s)].startup;
  Rng& rng = startup_rng_[static_cast<size_t>(s)];
  auto& ahead = drawn_ahead_[static_cast<size_t>(s)];
  while (ahead.size() <= k) ahead.push_back(draw_phases(st, rng));
  return ahead[k];
}

double Fleet::upcoming_startup_s(int s, int k) {
  const StartupSpec& st = run_.services[static_cast<size_t>(s)].startup;
  const std::array<double, 4>& p = upcoming_phases(s, static_cast<size_t>(std::max(0, k)));
  return startup_ready_s(st, p, st.init_cpu_s * run_.reference_speed_gflops * 1e9 / speed_);
}

void Fleet::set_desired(int s, int n, double t, bool initial) {
  desired_[static_cast<size_t>(s)] = n;
  int active = 0;
  for (int id : by_service_[static_cast<size_t>(s)]) {
    const Instance& in = instance(id);
    if (!in.pool && !is_leaving(in.state)) ++active;
  }
  // Scale-out takes prepared instances from the warm pool first.
  for (; active < n; ++active)
    if (!take_from_pool(s, t)) launch(s, t, initial);
  int excess = active - n;
  // Abort launches first (newest first): pending, then starting; then drain ready instances by the victim
  // policy.
  const auto& ids = by_service_[static_cast<size_t>(s)];
  for (auto it = ids.rbegin(); it != ids.rend() && excess > 0; ++it) {
    State st = instance(*it).state;
    if (!instance(*it).pool && (st == State::pending || is_starting(st))) {
      terminate(*it, t);
      --excess;
    }
  }
  for (; excess > 0; --excess) {
    int victim = pick_victim(s);
    if (victim < 0) break;
    begin_drain(victim, t);
  }
  refill_pool(s, t, initial);
}

int Fleet::pick_victim(int s) const {
  int victim = -1;
  for (int id : by_service_[static_cast<size_t>(s)]) {
    if (!is_ready(instance(id).state)) continue;
    if (victim < 0) {
      victim = id;
      continue;
    }
    switch (run_.services[static_cast<size_t>(s)].scale_in_victim) {
      case VictimPolicy::newest:
        victim = id;  // launch order: the last ready one is the newest
        break;
      case VictimPolicy::oldest:
        break;
      case VictimPolicy::least_loaded:
        if (hooks_.outstanding(id) < hooks_.outstanding(victim)) victim = id;
        break;
    }
  }
  return victim;
}

void Fleet::launch(int s, double t, bool ready_now, bool pool) {
  int id = static_cast<int>(instances_.size());
  instances_.emplace_back();
  Instance& in = instances_.back();
  in.service = s;
  in.launched_at = t;
  in.pool = pool;
  if (pool) {
    const std::array<double, 4> phases =
        draw_phases(run_.services[static_cast<size_t>(s)].startup, warm_rng_[static_cast<size_t>(s)]);
    std::copy(phases.begin(), phases.end(), in.phases_s);
  } else {
    const std::array<double, 4>& phases = upcoming_phases(s, 0);
    std::copy(phases.begin(), phases.end(), in.phases_s);
    drawn_ahead_[static_cast<size_t>(s)].pop_front();
  }
  by_service_[static_cast<size_t>(s)].push_back(id);
  ++(pool ? pool_counts_ : counts_)[static_cast<size_t>(s)][static_cast<int>(State::launching)];
  if (!pool) ++scaling_;
  if (ready_now) {
    place(id, t, false);
    Instance& placed = instance(id);
    if (placed.placement.node >= 0) {
      const State w = pool ? warmed_state(s) : State::in_service;
      if (cluster_.nodes()[static_cast<size_t>(placed.placement.node)].dedicated) {
        if (w == State::warmed_stopped || w == State::warmed_hibernated)
          cluster_.set_rate(placed.placement.node,
                            run_.services[static_cast<size_t>(s)].warm_pool.stopped_price_per_hour_usd / 3600,
                            false, t);
        cluster_.start_billing(placed.placement.node, t);
      }
      enter(id, w, t);
      return;
    }
  }
  hooks_.transition(id, State::launching, State::launching, t);
  clock_.schedule(t + in.phases_s[0], EventKind::phase_end, id, in.epoch);
}

void Fleet::enter(int id, State st, double t) {
  Instance& in = instance(id);
  auto& counts = (in.pool ? pool_counts_ : counts_)[static_cast<size_t>(in.service)];
  State from = in.state;
  --counts[static_cast<int>(from)];
  ++counts[static_cast<int>(st)];
  if (!in.pool) scaling_ += (is_scaling(st) ? 1 : 0) - (is_scaling(from) ? 1 : 0);
  in.state = st;
  ++in.epoch;
  if (is_ready(from) != is_ready(st)) {
    auto& r = routable_[static_cast<size_t>(in.service)];
    if (is_ready(st)) {
      in.ready_time = t;
      r.push_back(id);
    } else {
      r.erase(std::find(r.begin(), r.end(), id));
    }
  }
  hooks_.transition(id, from, st, t);
}

void Fleet::on_event(const Event& e, double t) {
  Instance& in = instance(e.instance);
  if (in.epoch != e.epoch) return;
  const StartupSpec& st = run_.services[static_cast<size_t>(in.service)].startup;
  if (e.kind == EventKind::drain_timeout) {
    leave_service(e.instance, t);
    return;
  }
  if (e.kind == EventKind::init_timer) {
    in.init_timer_done = true;
    maybe_init_done(e.instance, t);
    return;
  }
  switch (in.state) {
    case State::launching:
      place(e.instance, t, true);
      if (instance(e.instance).placement.node < 0) {
        enter(e.instance, State::pending, t);
        pending_.push_back(e.instance);
      }
      break;
    case State::provisioning:
      enter(e.instance, State::booting, t);
      if (cluster_.nodes()[static_cast<size_t>(in.placement.node)].dedicated)
        cluster_.start_billing(in.placement.node, t);
      clock_.schedule(t + in.phases_s[2], EventKind::phase_end, e.instance, in.epoch);
      break;
    case State::booting:
      in.boot_end = t;
      start_init(e.instance, t);
      break;
    case State::probing:
      enter(e.instance, st.warmup_s > 0 ? State::warming : State::in_service, t);
      in.warm_start = t;
      if (st.warmup_s > 0) clock_.schedule(t + st.warmup_s, EventKind::phase_end, e.instance, in.epoch);
      break;
    case State::warming:
      enter(e.instance, State::in_service, t);
      break;
    case State::resuming:  // started again: a stopped instance initialises, a hibernated one does not
      in.boot_end = t;
      if (in.resume_init)
        start_init(e.instance, t);
      else
        after_init(e.instance, t);
      break;
    case State::pending_wait:
      if (!in.hook_abandon) {
        proceed_after_launch_hold(e.instance, t);
        break;
      }
      {  // ABANDON: terminated, and replaced (in the group or in the pool).
        const int svc = in.service;
        terminate(e.instance, t);
        set_desired(svc, desired(svc), t);
      }
      break;
    case State::shadow:
      after_shadow(e.instance, t);
      break;
    case State::terminating_wait:
      terminate(e.instance, t);
      break;
    default:
      break;
  }
}

// Finds room (a host for a dedicated node, a node for a pod); `start_phases`: go on to provisioning.
void Fleet::place(int id, double t, bool start_phases) {
  Instance& in = instance(id);
  in.placement = cluster_.place(in.service, id, t);
  if (in.placement.node < 0 || !start_phases) return;
  enter(id, State::provisioning, t);
  clock_.schedule(t + in.phases_s[1], EventKind::phase_end, id, in.epoch);
}

void Fleet::start_init(int id, double t) {
  Instance& in = instance(id);
  const StartupSpec& st = run_.services[static_cast<size_t>(in.service)].startup;
  enter(id, State::initializing, t);
  in.init_timer_done = false;
  clock_.schedule(t + in.phases_s[3], EventKind::init_timer, id, in.epoch);
  in.init_cpu_done = st.init_cpu_s <= 0;
  if (!in.init_cpu_done) {
    in.init_flops = st.init_cpu_s * run_.reference_speed_gflops * 1e9;
    backend_.start_exec({ActivityKind::init_exec, static_cast<uint32_t>(id)}, in.placement.context,
                        in.init_flops);
  }
}

void Fleet::on_init_cpu_done(int id, double t) {
  Instance& in = instance(id);
  in.init_cpu_done = true;
  in.cpu_done_core_s += in.init_flops / speed_;
  maybe_init_done(id, t);
}

void Fleet::maybe_init_done(int id, double t) {
  Instance& in = instance(id);
  if (in.state != State::initializing || !in.init_timer_done || !in.init_cpu_done) return;
  after_init(id, t);
}

void Fleet::begin_drain(int id, double t) {
  enter(id, State::draining, t);
  if (hooks_.outstanding(id) == 0) {
    leave_service(id, t);
    return;
  }
  const Instance& in = instance(id);
  clock_.schedule(t + run_.services[static_cast<size_t>(in.service)].drain_timeout_s,
                  EventKind::drain_timeout, id, in.epoch);
}

void Fleet::on_idle(int id, double t) {
  if (instance(id).state == State::draining) leave_service(id, t);
}

void Fleet::terminate(int id, double t) {
  Instance& in = instance(id);
  if (in.state == State::terminated || in.terminating) return;
  in.terminating = true;
  // Whatever it still holds fails (the drain timeout expired, or a launch was aborted).
  hooks_.gone(id, t);
  if (!in.init_cpu_done) {
    in.cpu_done_core_s += init_running_core_s(id);
    backend_.cancel({ActivityKind::init_exec, static_cast<uint32_t>(id)});
    in.init_cpu_done = true;
  }
  if (in.state == State::pending) pending_.erase(std::find(pending_.begin(), pending_.end(), id));
  in.bill_usd = cluster_.release(in.service, in.placement, t);
  enter(id, State::terminated, t);
  if (in.placement.node >= 0) retry_pending(t);
}

void Fleet::evict_node(int node, double t, bool kill) {
  std::vector<int> services;
  const size_t n = instances_.size();
  for (size_t k = 0; k < n; ++k) {
    const int id = static_cast<int>(k);
    const Instance& in = instance(id);
    if (in.placement.node != node || in.state == State::terminated || in.terminating) continue;
    services.push_back(in.service);
    if (kill || !(is_ready(in.state) || in.state == State::draining))
      terminate(id, t);
    else if (is_ready(in.state))
      begin_drain(id, t);
  }
  std::sort(services.begin(), services.end());
  services.erase(std::unique(services.begin(), services.end()), services.end());
  for (int s : services) set_desired(s, desired(s), t);
}

void Fleet::retry_pending(double t) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int id = *it;
    place(id, t, true);
    if (instance(id).placement.node >= 0)
      it = pending_.erase(it);
    else
      ++it;
  }
}

int Fleet::warm_pool_size(int s) const {
  const auto& c = pool_counts_[static_cast<size_t>(s)];
  int n = 0;
  for (int st = 0; st < kStates; ++st)
    if (static_cast<State>(st) != State::terminated) n += c[static_cast<size_t>(st)];
  return n;
}

std::string Fleet::event_name(int id, State to) const {
  if (instance(id).pool && !is_warmed(to) && to != State::terminated)
    return std::string("warmed_") + state_name(to);
  return state_name(to);
}

State Fleet::warmed_state(int s) const {
  switch (run_.services[static_cast<size_t>(s)].warm_pool.pool_state) {
    case WarmPoolState::running:
      return State::warmed_running;
    case WarmPoolState::hibernated:
      return State::warmed_hibernated;
    default:
      return State::warmed_stopped;
  }
}

// AWS: the pool holds max(MinSize, MaxGroupPreparedCapacity - desired capacity) instances, those still being
// prepared included.
int Fleet::pool_target(int s) const {
  const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
  const WarmPoolSpec& wp = spec.warm_pool;
  if (!wp.enabled) return 0;
  const int prepared = wp.max_prepared_capacity < 0 ? spec.max_instances : wp.max_prepared_capacity;
  return std::max(wp.min_size, prepared - desired_[static_cast<size_t>(s)]);
}

void Fleet::refill_pool(int s, double t, bool initial) {
  if (!run_.services[static_cast<size_t>(s)].warm_pool.enabled) return;
  const int target = pool_target(s);
  int have = warm_pool_size(s);
  for (; have < target; ++have) launch(s, t, initial, true);
  // Too many (the desired count grew, or instances came back): those still being prepared go first, then
  // the prepared ones, newest first.
  const std::vector<int> ids = by_service_[static_cast<size_t>(s)];
  for (int pass = 0; pass < 2 && have > target; ++pass)
    for (auto it = ids.rbegin(); it != ids.rend() && have > target; ++it) {
      const Instance& in = instance(*it);
      if (!in.pool || in.state == State::terminated || is_warmed(in.state) != (pass == 1)) continue;
      terminate(*it, t);
      --have;
    }
}

void Fleet::to_group(int id) {
  Instance& in = instance(id);
  const int st = static_cast<int>(in.state);
  --pool_counts_[static_cast<size_t>(in.service)][st];
  ++counts_[static_cast<size_t>(in.service)][st];
  if (is_scaling(in.state)) ++scaling_;
  in.pool = false;
}

bool Fleet::take_from_pool(int s, double t) {
  for (int id : by_service_[static_cast<size_t>(s)]) {  // launch order: the oldest first
    Instance& in = instance(id);
    if (!in.pool || !is_warmed(in.state)) continue;
    const State from = in.state;
    to_group(id);
    if (from == State::warmed_running) {
      in.boot_end = t;  // registered now: health checks start
      after_init(id, t);
      return true;
    }
    // A start: billed at the full rate again (with EC2's minimum), boot, and for a stopped instance init.
    const ServiceSpec& spec = run_.services[static_cast<size_t>(s)];
    const Node& node = cluster_.nodes()[static_cast<size_t>(in.placement.node)];
    cluster_.set_rate(in.placement.node,
                      run_.instance_types[static_cast<size_t>(node.type)].price_per_hour_usd / 3600, true, t);
    in.resume_init = from == State::warmed_stopped;
    enter(id, State::resuming, t);
    clock_.schedule(t + spec.warm_pool.resume_s.sample(resume_rng_[static_cast<size_t>(s)]),
                    EventKind::phase_end, id, instance(id).epoch);
    return true;
  }
  return false;
}

void Fleet::return_to_pool(int id, double t) {
  Instance& in = instance(id);
  const int s = in.service;
  const int st = static_cast<int>(in.state);
  --counts_[static_cast<size_t>(s)][st];
  ++pool_counts_[static_cast<size_t>(s)][st];
  if (is_scaling(in.state)) --scaling_;
  in.pool = true;
  const State w = warmed_state(s);
  if (w != State::warmed_running)
    cluster_.set_rate(in.placement.node,
                      run_.services[static_cast<size_t>(s)].warm_pool.stopped_price_per_hour_usd / 3600,
                      false, t);
  enter(id, w, t);
  hooks_.gone(id, t);  // what the drain timeout left fails
  refill_pool(s, t, false);
}

void Fleet::after_init(int id, double t) {
  const double end = hook_hold_end(id, true, t);
  if (end >= 0) {
    enter(id, State::pending_wait, t);
    clock_.schedule(end, EventKind::phase_end, id, instance(id).epoch);
    return;
  }
  proceed_after_launch_hold(id, t);
}

void Fleet::proceed_after_launch_hold(int id, double t) {
  Instance& in = instance(id);
  const ServiceSpec& spec = run_.services[static_cast<size_t>(in.service)];
  if (in.pool) {  // prepared: into the pool, stopped (billed for its storage only), hibernated or running
    const State w = warmed_state(in.service);
    if (w != State::warmed_running && cluster_.nodes()[static_cast<size_t>(in.placement.node)].dedicated)
      cluster_.set_rate(in.placement.node, spec.warm_pool.stopped_price_per_hour_usd / 3600, false, t);
    enter(id, w, t);
    return;
  }
  enter(id, State::probing, t);
  clock_.schedule(readiness_time(spec.startup, in.boot_end, t), EventKind::phase_end, id, in.epoch);
}

// The hooks of one transition run side by side: each ends when its action completes (CONTINUE) or at its
// heartbeat timeout (its default result). The instance goes on when the last ends, or at the first ABANDON.
double Fleet::hook_hold_end(int id, bool launching, double t) {
  Instance& in = instance(id);
  const ServiceSpec& spec = run_.services[static_cast<size_t>(in.service)];
  bool any = false;
  double end = t, abandon_at = Clock::never;
  for (size_t k = 0; k < spec.lifecycle_hooks.size(); ++k) {
    const LifecycleHookSpec& h = spec.lifecycle_hooks[k];
    if (h.launching != launching) continue;
    any = true;
    double hold = h.heartbeat_timeout_s;
    bool timed_out = true;
    if (h.has_action) {
      const double a = h.action_s.sample(hook_rng_[static_cast<size_t>(in.service)][k]);
      if (a <= hold) {
        hold = a;
        timed_out = false;
      }
    }
    end = std::max(end, t + hold);
    if (timed_out && h.abandon) abandon_at = std::min(abandon_at, t + hold);
  }
  in.hook_abandon = abandon_at < Clock::never;
  if (in.hook_abandon) end = abandon_at;
  return any ? end : -1;
}

// Drained (or the drain timed out): with ReuseOnScaleIn back to the warm pool; else a shadow for
// shadow_duration_s, then the terminate hooks, then termination.
void Fleet::leave_service(int id, double t) {
  Instance& in = instance(id);
  if (in.state != State::draining) return;
  const ServiceSpec& spec = run_.services[static_cast<size_t>(in.service)];
  if (spec.warm_pool.enabled && spec.warm_pool.reuse_on_scale_in && in.placement.node >= 0 &&
      cluster_.nodes()[static_cast<size_t>(in.placement.node)].dedicated) {
    return_to_pool(id, t);
    return;
  }
  if (spec.shadow_duration_s > 0) {
    enter(id, State::shadow, t);
    clock_.schedule(t + spec.shadow_duration_s, EventKind::phase_end, id, in.epoch);
    hooks_.gone(id, t);  // what the drain timeout left fails; a shadow serves nothing
    return;
  }
  after_shadow(id, t);
}

void Fleet::after_shadow(int id, double t) {
  const double end = hook_hold_end(id, false, t);
  if (end < 0) {
    terminate(id, t);
    return;
  }
  enter(id, State::terminating_wait, t);
  clock_.schedule(end, EventKind::phase_end, id, instance(id).epoch);
  hooks_.gone(id, t);
}

}  // namespace autoscale
