#include "sim/fleet/fleet.hpp"

#include <algorithm>
#include <cmath>

namespace autoscale {

namespace {
const char* kStateNames[kStates] = {"launching", "pending", "provisioning", "booting",  "initializing",
                                    "probing",   "warming", "in_service",   "draining", "terminated"};
}

const char* state_name(State s) {
  return kStateNames[static_cast<int>(s)];
}

namespace {
// Probes run every period from boot end + initial delay; the first one after init succeeds, and the instance
// turns ready after success_threshold consecutive successes.
double ready_time(const StartupSpec& st, double boot_end, double init_done) {
  double first = boot_end + st.readiness_initial_delay_s;
  double k = std::max(0.0, std::ceil((init_done - first) / st.readiness_period_s - 1e-9));
  double ready_at = first + (k + st.readiness_success_threshold - 1) * st.readiness_period_s;
  return std::max(ready_at, init_done);
}
}  // namespace

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
  for (const auto& s : run.services) startup_rng_.emplace_back(run.seed, "startup/" + s.name);
  for (auto& c : counts_) c.fill(0);
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
  while (ahead.size() <= k) {
    std::array<double, 4> p;  // launch, provision, boot, init, drawn in this order
    p[0] = st.launch_s.sample(rng);
    p[1] = st.provision_s.sample(rng);
    p[2] = st.boot_s.sample(rng);
    p[3] = st.init_s.sample(rng);
    ahead.push_back(p);
  }
  return ahead[k];
}

double Fleet::upcoming_startup_s(int s, int k) {
  const StartupSpec& st = run_.services[static_cast<size_t>(s)].startup;
  const std::array<double, 4>& p = upcoming_phases(s, static_cast<size_t>(std::max(0, k)));
  double boot_end = p[0] + p[1] + p[2];
  double init_cpu_s = st.init_cpu_s * run_.reference_speed_gflops * 1e9 / speed_;
  return ready_time(st, boot_end, boot_end + std::max(p[3], init_cpu_s));
}

void Fleet::set_desired(int s, int n, double t, bool initial) {
  desired_[static_cast<size_t>(s)] = n;
  int active = 0;
  for (int id : by_service_[static_cast<size_t>(s)]) {
    State st = instance(id).state;
    if (st != State::draining && st != State::terminated) ++active;
  }
  for (; active < n; ++active) launch(s, t, initial);
  int excess = active - n;
  // Abort launches first (newest first): pending, then starting; then drain ready instances by the victim
  // policy.
  const auto& ids = by_service_[static_cast<size_t>(s)];
  for (auto it = ids.rbegin(); it != ids.rend() && excess > 0; ++it) {
    State st = instance(*it).state;
    if (st == State::pending || is_starting(st)) {
      terminate(*it, t);
      --excess;
    }
  }
  for (; excess > 0; --excess) {
    int victim = pick_victim(s);
    if (victim < 0) break;
    begin_drain(victim, t);
  }
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

void Fleet::launch(int s, double t, bool ready_now) {
  int id = static_cast<int>(instances_.size());
  instances_.emplace_back();
  Instance& in = instances_.back();
  in.service = s;
  in.launched_at = t;
  const std::array<double, 4>& phases = upcoming_phases(s, 0);
  std::copy(phases.begin(), phases.end(), in.phases_s);
  drawn_ahead_[static_cast<size_t>(s)].pop_front();
  by_service_[static_cast<size_t>(s)].push_back(id);
  ++counts_[static_cast<size_t>(s)][static_cast<int>(State::launching)];
  ++scaling_;
  if (ready_now) {
    place(id, t, false);
    Instance& placed = instance(id);
    if (placed.placement.node >= 0) {
      if (cluster_.nodes()[static_cast<size_t>(placed.placement.node)].dedicated)
        cluster_.start_billing(placed.placement.node, t);
      enter(id, State::in_service, t);
      return;
    }
  }
  hooks_.transition(id, State::launching, State::launching, t);
  clock_.schedule(t + in.phases_s[0], EventKind::phase_end, id, in.epoch);
}

void Fleet::enter(int id, State st, double t) {
  Instance& in = instance(id);
  auto& counts = counts_[static_cast<size_t>(in.service)];
  State from = in.state;
  --counts[static_cast<int>(from)];
  ++counts[static_cast<int>(st)];
  scaling_ += (is_scaling(st) ? 1 : 0) - (is_scaling(from) ? 1 : 0);
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
    terminate(e.instance, t);
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
    default:
      break;
  }
}

// Finds room (a host for a dedicated node, a node for a pod); `start_phases`: go on to provisioning.
void Fleet::place(int id, double t, bool start_phases) {
  Instance& in = instance(id);
  in.placement = cluster_.place(in.service, id);
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
  const StartupSpec& st = run_.services[static_cast<size_t>(in.service)].startup;
  enter(id, State::probing, t);
  clock_.schedule(ready_time(st, in.boot_end, t), EventKind::phase_end, id, in.epoch);
}

void Fleet::begin_drain(int id, double t) {
  enter(id, State::draining, t);
  if (hooks_.outstanding(id) == 0) {
    terminate(id, t);
    return;
  }
  const Instance& in = instance(id);
  clock_.schedule(t + run_.services[static_cast<size_t>(in.service)].drain_timeout_s,
                  EventKind::drain_timeout, id, in.epoch);
}

void Fleet::on_idle(int id, double t) {
  if (instance(id).state == State::draining) terminate(id, t);
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

}  // namespace autoscale
