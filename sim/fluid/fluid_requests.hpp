#pragma once
// Fluid fidelity: no requests, only rates. Each step (at most [fluid] step_s, cut at the traffic's rate
// steps and at every engine event) the offered rate enters the entry service and flows down the call graph
// (a service passes on what it admitted, times each edge's probability and calls). A service's rate is
// split over its routable instances (round robin: equally; least outstanding: by capacity, warm-up
// included), and each instance is a queueing station:
//   - servers: min(workers, cores) (cores: its node's vCPUs or its pod's limit; a pod without a limit gets an
//     equal share of its node among the ready pods there, at least its request), each at the host's speed
//     times the warm-up factor; when the workers run out before the cores (each holds its worker while its
//     downstream calls are out too) the station is the workers instead, held for work + downstream time;
//     workers beyond the servers share the cores (processor sharing, see Latency);
//   - steady state (Erlang C, the mean wait scaled by (1 + cs^2) / 2 of the work, Allen-Cunneen) while
//     arrivals stay below capacity and no backlog is left; overloaded, a fluid backlog grows at
//     lambda - capacity and drains at capacity - lambda; it holds at most what the queue limit and the
//     client timeout allow (the rest fails, as rejected or timed-out requests);
//   - its CPU use (busy cores x time) goes into the instance's cpu_done_core_s, so utilization and the
//     CPU metrics controllers read are the same series as in exact mode.
// Latency: per step and service, kLatencySamples end-to-end sojourn times (wait from the station's
// distribution, work drawn from the service's own distribution, plus, per edge taken, the slowest of its
// calls' sojourns and the network), from fixed stratified pools rotated step by step (common random numbers
// across controllers). Where workers outnumber the servers, the first (workers - servers) of the queue hold a
// worker and share the cores: a sample that waits W spends max(0, W - (workers - servers) / capacity) queued
// and its work stretched by the number sharing the cores with it over the servers, min(workers, servers +
// W' capacity) / servers, with W' an independent draw of the wait (fixed over its work: about the mean kept,
// the tail a little heavier than true processor sharing's); a backlog's level gives both. End-user requests
// are counted whole (an accumulator rounds the rate); each is given one of its step's samples in turn: over
// the client timeout it failed, else it completed with that latency (a step's completed latencies go into the
// run's in increasing order; the order carries no meaning). A failure anywhere down the graph (no ready
// instance, a full queue) fails it with the probability the graph's failure fractions give. What fluid mode
// ignores: per-request randomness within a step beyond those samples, the transient of a queue towards its
// steady state (it is there at once), network contention, drain time (an instance leaving service is taken as
// empty), activators other than the entry service's (no ready instance fails the call), the activator in the
// request path, and --record-requests.
#include <deque>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/traffic.hpp"
#include "sim/fleet/fleet.hpp"
#include "sim/requests/request_model.hpp"

namespace autoscale {

class FluidRequests final : public RequestModel {
 public:
  static constexpr int kLatencySamples = 16;  // per step and service
  static constexpr int kPool = 16384;         // stratified draws per service, rotated through

  FluidRequests(const RunSpec& run, const ServiceGraph& graph, Fleet& fleet, double speed_flops_per_core);

  void on_root_arrival(double) override {}
  void advance_to(double t) override;
  void enable_activator(int s) override { svc_[static_cast<size_t>(s)].activator = true; }
  void set_activator_in_path(int, bool, double) override {}
  void on_ready(int s, double t) override;
  void expire_waiting(double t) override;
  void on_completion(ActivityId, bool, double) override {}
  void fail_instance(int id, double t) override;

  int outstanding(int id) const override;
  double busy(int id) const override;
  double queued(int id) const override;
  double completed(int id) const override;
  double throttled_s(int id, double t) const override;
  double running_core_s(int) const override { return 0; }
  const ServiceCounters& counters(int s) const override { return counters_[static_cast<size_t>(s)]; }
  ServiceCounters& counters(int s) override { return counters_[static_cast<size_t>(s)]; }
  const RootCounters& roots() const override { return roots_; }
  std::vector<double> roots_in_flight() const override;

 private:
  // An instance's station over the current step.
  // A station over the current step (instances alike share one).
  struct Station {
    bool backlogged = false;  // fluid regime: every arrival waits backlog_wait_s
    double p_wait = 0;        // steady state: P(wait), then exponential of rate decay_rps
    double log_p_wait = 0;
    double decay_rps = 0;
    double backlog_wait_s = 0;
    double max_wait_s = 0;  // steady state: a full queue's wait bounds it
    double spread_s = 0;    // backlog: the wait is uniform over backlog_wait_s +- spread_s
    double work_scale = 1;  // seconds per CPU-second of work at reference speed
    // Workers beyond the servers share their cores (processor sharing): a request that waits finds about
    // wait x capacity_rps others ahead, sharing up to their number.
    double servers = 1, sharing = 0, capacity_rps = 0;
    bool same_as(const Station& o) const {
      return backlogged == o.backlogged && p_wait == o.p_wait && decay_rps == o.decay_rps &&
             backlog_wait_s == o.backlog_wait_s && max_wait_s == o.max_wait_s && spread_s == o.spread_s &&
             work_scale == o.work_scale && servers == o.servers && sharing == o.sharing &&
             capacity_rps == o.capacity_rps;
    }
  };
  struct Service {
    double work_mean_s = 0, cs2 = 1;  // CPU-seconds at reference speed; squared coefficient of variation
    std::vector<double> work_s, expo, pick;   // pools: work draws, -ln(1 - u) stratified, instance choice
    std::vector<std::vector<double>> edge_u;  // per edge: whether a sample takes it
    std::vector<double> edge_net_s;           // per edge: request and response on the network
    double inflow_rps = 0;
    double blocked = 0, served = 0;  // this step: requests rejected here, served here
    double release = 0;              // requests the activator hands over this step
    double own_fail = 0, fail = 0;   // failed fraction of arrivals: here, and here or downstream
    double downstream_s = 0;         // mean time waiting for calls (previous step), holds a worker
    double completion_acc = 0;
    std::vector<Station> stations;
    std::vector<double> cum_share;  // per station: cumulative share of the arrivals
    std::vector<double> latency_s;  // this step's samples (sojourn here and downstream)
    bool activator = false;
    double cold_start_since = -1;
  };
  struct InstanceState {
    double backlog = 0, busy = 0, queued = 0, completed = 0, throttled_s = 0;  // busy, queued: means
    double variance = 0;                                                       // of the backlog
    long last_step = -2;  // the step it was last routable in
    bool backlogged = false;
    // What a scrape sees at an instant of the step: the count drawn around the mean (see gauges()).
    long seen_step = -1;
    double busy_seen = 0, queued_seen = 0;
  };
  struct Waiting {  // end-user requests at the entry service's activator
    double arrival_s;
    long n;
  };

  void step(double t0, double t1);
  void serve(int s, double lambda_rps, double t0, double dt);
  void sample_latencies(int s);
  void release_waiting(double t);
  void resolve_roots(long n, double arrival_s, double waited_s, double t);
  void fail_roots(long n, double arrival_s, double seen_s);
  size_t interval(double t) const;
  InstanceState& state(int id);
  const InstanceState& gauges(int id) const;

  const RunSpec& run_;
  const ServiceGraph& graph_;
  Fleet& fleet_;
  RateFunction rate_;
  double speed_ratio_;  // host speed over reference speed
  double step_s_, resolution_s_, timeout_s_;
  std::vector<int> order_;  // services, callers before callees
  std::vector<Service> svc_;
  mutable std::vector<InstanceState> inst_;  // the seen counts are drawn when first read
  mutable Rng gauge_rng_;
  std::vector<int> pods_on_node_;
  struct CapacityRow {  // an instance's station this step
    int servers;
    double mu_rps, service_s, cores, max_waiting, holding_s, speed;
  };
  std::vector<CapacityRow> caps_;
  std::vector<ServiceCounters> counters_;
  RootCounters roots_;
  std::deque<Waiting> waiting_;
  std::deque<Waiting> released_;  // this step's from waiting_ (a member: no allocation per step)
  double now_ = 0;
  long step_index_ = 0;
  long rate_step_ = -1;  // the rate's step last read
  double rate_rps_ = 0;
  double arrival_acc_ = 0, fail_acc_ = 0;
  size_t offset_ = 0;  // of this step's samples in the pools
  size_t cursor_ = 0;  // next latency sample an end-user request takes
};

}  // namespace autoscale
