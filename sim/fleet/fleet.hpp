#pragma once
// The fleet: every instance's lifecycle (launch, pending, provisioning, boot, init, probing, warm-up,
// service, drain, termination) and the actuator that moves each service towards its desired count (launches,
// aborted launches, victims, drains). Engine-free: phases are events on the Clock, room comes from the
// Cluster, init CPU runs on the ExecutionBackend. What happens upward is reported through hooks: every state
// change, and an instance's termination (the request path then fails what it still held).
//
// EC2 Auto Scaling's extras: a warm pool per service (instances prepared ahead, stopped, running or
// hibernated, taken first on scale-out, refilled in the background, optionally reused on scale-in), lifecycle
// hooks (a hold after init, Pending:Wait, and after drain, Terminating:Wait) and shadows (drained instances
// billed and reported for shadow_duration_s, serving nothing). Warm pool instances are counted apart from the
// group's (count() and starting() are the group's); their draws come from streams of their own.
#include <array>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "sim/backend/execution_backend.hpp"
#include "sim/cluster/cluster.hpp"
#include "sim/core/random.hpp"
#include "sim/core/scenario.hpp"
#include "sim/engine/clock.hpp"

namespace autoscale {

enum class State : uint8_t {
  launching,     // API call accepted, waiting for the launch latency
  pending,       // no node/host with room
  provisioning,  // capacity found: VM being created / image pulled
  booting,
  initializing,  // application init
  probing,       // waiting for the readiness probe to succeed
  warming,       // ready, in the load balancer, capacity ramping up
  in_service,
  draining,           // out of the load balancer, finishing in-flight requests
  pending_wait,       // a launch lifecycle hook holds it after init, before readiness (Pending:Wait)
  resuming,           // taken from a stopped or hibernated warm pool: starting again (resume_s)
  warmed_stopped,     // in the warm pool, prepared (launched, booted, initialised), stopped
  warmed_running,     // ... running
  warmed_hibernated,  // ... hibernated (resumes with its memory: no init)
  shadow,             // scaled in and drained: billed, reporting metrics, serving nothing
  terminating_wait,   // a terminate lifecycle hook holds it before termination (Terminating:Wait)
  terminated,
  count
};
constexpr int kStates = static_cast<int>(State::count);
const char* state_name(State s);
inline bool is_ready(State s) {
  return s == State::warming || s == State::in_service;
}
inline bool is_starting(State s) {
  return s == State::launching || s == State::provisioning || s == State::booting ||
         s == State::initializing || s == State::probing || s == State::pending_wait || s == State::resuming;
}
inline bool is_warmed(State s) {
  return s == State::warmed_stopped || s == State::warmed_running || s == State::warmed_hibernated;
}
// Pending, starting or draining: the fleet is changing.
inline bool is_scaling(State s) {
  return s == State::pending || is_starting(s) || s == State::draining || s == State::terminating_wait;
}
// Out of service for good (drained and after): not counted towards the desired count.
inline bool is_leaving(State s) {
  return s == State::draining || s == State::shadow || s == State::terminating_wait || s == State::terminated;
}

struct Instance {
  int service = 0;
  State state = State::launching;
  uint32_t epoch = 0;  // bumped on every transition: a scheduled phase end of an older epoch is stale
  Placement placement;
  double launched_at = 0;
  double phases_s[4] = {0, 0, 0, 0};  // launch, provision, boot, init (drawn at launch, in this order)
  double boot_end = 0;
  bool init_timer_done = false;
  bool init_cpu_done = true;
  double warm_start = 0;
  double ready_time = -1;      // last transition to ready
  double cpu_done_core_s = 0;  // CPU time of finished work (requests and init), in cores x seconds
  double init_flops = 0;       // of the running init exec
  bool terminating = false;    // failing its requests: no second termination from there
  double bill_usd = 0;         // its dedicated node's whole bill, once terminated
  bool pool = false;           // in the warm pool (being prepared or prepared), not in the group
  bool resume_init = false;    // resuming from a stopped pool: the application initialises again
  bool hook_abandon = false;   // the lifecycle hook holding it ends with ABANDON
};

class Fleet {
 public:
  struct Hooks {
    std::function<void(int id, State from, State to, double t)> transition;
    std::function<void(int id, double t)> gone;  // terminated: fail what it still holds
    std::function<int(int id)> outstanding;      // requests it holds (in service and queued)
  };
  Fleet(const RunSpec& run, Cluster& cluster, ExecutionBackend& backend, Clock& clock, Hooks hooks);

  // `initial`: the fleet at time 0, in service at once (an Auto Scaling group that has been running).
  void set_desired(int service, int n, double t, bool initial = false);
  int desired(int service) const { return desired_[static_cast<size_t>(service)]; }
  void on_event(const Event& e, double t);
  void on_init_cpu_done(int id, double t);
  // A draining instance has nothing left: it terminates at once.
  void on_idle(int id, double t);

  const Instance& instance(int id) const { return instances_[static_cast<size_t>(id)]; }
  Instance& instance(int id) { return instances_[static_cast<size_t>(id)]; }
  const std::vector<Instance>& instances() const { return instances_; }
  const std::vector<int>& of_service(int s) const { return by_service_[static_cast<size_t>(s)]; }
  // Ready instances of a service, in launch order: what the load balancer routes to.
  const std::vector<int>& routable(int s) const { return routable_[static_cast<size_t>(s)]; }
  int count(int s, State st) const { return counts_[static_cast<size_t>(s)][static_cast<int>(st)]; }
  // Instances in the warm pool (being prepared or prepared) of a service.
  int warm_pool_size(int s) const;
  // What the event table records for a transition of instance `id` to `to`: the state's name, prefixed
  // "warmed_" while the instance is prepared for the warm pool ("warmed_booting").
  std::string event_name(int id, State to) const;
  int starting(int s) const;
  // Instances pending, starting or draining, all services: the fleet is changing.
  int scaling() const { return scaling_; }
  // A node goes away (cordoned for deletion, a spot interruption): its instances drain (kill: terminate at
  // once; those still starting always do) and their services launch replacements, which find room elsewhere
  // or wait as pending.
  void evict_node(int node, double t, bool kill);
  // Room may have appeared (a node joined): pending instances try again, in launch order.
  void retry_pending(double t);
  // Speed of a request started now on this instance: below 1 while it warms up.
  double speed_factor(int id, double t) const;
  // CPU time (cores x seconds) of the running init exec so far.
  double init_running_core_s(int id) const;
  // Launch request until ready of the k-th next instance service s launches (k = 0: the next), with room
  // at once and its init CPU uncontended (the foresight an oracle gets). Its phases are drawn ahead from the
  // service's startup stream and kept, so that launch() takes exactly these: the stream is not disturbed.
  double upcoming_startup_s(int s, int k);

 private:
  void launch(int s, double t, bool ready_now, bool pool = false);
  // Warm pool: its target size, refilled (launches) or trimmed (terminations); one prepared instance taken
  // into the group (false: none); a scaled-in instance returned to it.
  int pool_target(int s) const;
  void refill_pool(int s, double t, bool initial);
  bool take_from_pool(int s, double t);
  void return_to_pool(int id, double t);
  void to_group(int id);  // moves it from the warm pool's counts to the group's
  State warmed_state(int s) const;
  // Init is done (or was skipped): launch hooks hold it, then it is put in the pool or probed.
  void after_init(int id, double t);
  void proceed_after_launch_hold(int id, double t);
  // Holds for the hooks of one transition: when the last completes; sets in.hook_abandon. < 0: no hook.
  double hook_hold_end(int id, bool launching, double t);
  // A drained instance leaves service: back to the pool, shadow, terminate hooks, termination.
  void leave_service(int id, double t);
  void after_shadow(int id, double t);
  void enter(int id, State st, double t);
  void place(int id, double t, bool start_phases);
  void start_init(int id, double t);
  void maybe_init_done(int id, double t);
  void begin_drain(int id, double t);
  void terminate(int id, double t);
  int pick_victim(int s) const;
  // The phases of the k-th next launch of service s (drawn ahead as needed).
  const std::array<double, 4>& upcoming_phases(int s, size_t k);

  const RunSpec& run_;
  Cluster& cluster_;
  ExecutionBackend& backend_;
  Clock& clock_;
  Hooks hooks_;
  std::vector<Rng> startup_rng_;
  std::vector<Rng> warm_rng_, resume_rng_;             // per service: "warm_pool/<s>", "warm_pool_resume/<s>"
  std::vector<std::vector<Rng>> hook_rng_;             // per service, per hook: "lifecycle_hook/<s>/<hook>"
  std::vector<std::array<int, kStates>> pool_counts_;  // per service: warm pool instances by state
  std::vector<std::deque<std::array<double, 4>>> drawn_ahead_;  // per service: phases of the next launches
  std::vector<int> desired_;
  std::vector<Instance> instances_;
  std::vector<std::vector<int>> by_service_;  // every instance ever launched, in launch order
  std::vector<std::vector<int>> routable_;
  std::vector<std::array<int, kStates>> counts_;
  std::deque<int> pending_;  // instances waiting for room, in launch order
  int scaling_ = 0;
  double speed_;
};

}  // namespace autoscale
