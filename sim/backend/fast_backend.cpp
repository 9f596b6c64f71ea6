#include "sim/backend/fast_backend.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <stdexcept>
#include <vector>

#include "sim/backend/node_slots.hpp"

namespace autoscale {

namespace {
constexpr int kKinds = 4;
constexpr double kInf = std::numeric_limits<double>::infinity();
bool is_comm(ActivityKind k) {
  return k == ActivityKind::call_comm || k == ActivityKind::reply_comm;
}
}  // namespace

struct FastBackend::Impl {
  // Executions that progress at one common rate each.
  struct Group {
    double v = 0;  // work each of them has received since the group last emptied (flops), as of t_v
    double t_v = 0;
    double rate = 0;       // flops per second, each
    int n = 0;             // executions running
    uint32_t version = 0;  // bumped whenever its next completion moves (older queue entries are stale)
    int machine = -1;
    // (target v, activity key, serial): the smallest target ends first.
    struct Entry {
      double target;
      uint64_t key;
      uint32_t serial;
      bool operator>(const Entry& o) const { return target > o.target; }
    };
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  };
  // What shares cores: a node that is a host of its own, or a physical host carrying VMs.
  struct Machine {
    double capacity = 0;        // cores x speed
    int own_group = -1;         // executions placed on the machine itself
    std::vector<int> children;  // contexts of the VMs and containers on it
  };
  struct Context {
    int machine = -1;
    int group = -1;      // where its executions go
    bool child = false;  // a VM or a container (shares its machine with a weight)
    double cores = 0;
    double bound = kInf;  // a container's CPU limit (flops/s)
    bool closed = false;
    int slot_class = -1;  // nodes that are hosts of their own
  };
  struct Activity {
    int group = -1;
    double target = 0, flops = 0;
    uint32_t serial = 0;
    bool active = false;
  };
  // The next thing that ends: a group's first execution (key = group, stale unless version matches) or a
  // message (key = activity key, stale unless serial matches).
  struct Next {
    double time;
    uint64_t seq;
    bool comm;
    uint64_t key;
    uint32_t stamp;
    bool operator>(const Next& o) const { return time != o.time ? time > o.time : seq > o.seq; }
  };

  explicit Impl(const RunSpec& run)
      : speed_(run.hosts.speed_gflops * 1e9),
        vms_(run.hosts.cpu_overcommit > 1),
        route_latency_s_(2 * run.network.latency_s),
        rate_bytes_s_(std::min(kBandwidthFactor * run.network.bandwidth_gbps * 1e9 / 8,
                               route_latency_s_ > 0 ? kTcpGamma / (2 * route_latency_s_) : kInf)) {
    if (vms_) {
      for (int i = 0; i < run.hosts.count; ++i) new_machine(run.hosts.cores);
    } else {
      classes_ = slot_classes(run);
      const std::vector<int> counts = slot_counts(run, classes_);
      free_slots_.resize(classes_.size());
      for (size_t k = 0; k < classes_.size(); ++k) slots_left_.push_back(counts[k]);
    }
  }

  int new_machine(double cores) {
    Machine m;
    m.capacity = cores * speed_;
    m.own_group = new_group(static_cast<int>(machines_.size()));
    machines_.push_back(m);
    return static_cast<int>(machines_.size()) - 1;
  }
  int new_group(int machine) {
    Group g;
    g.machine = machine;
    groups_.push_back(std::move(g));
    return static_cast<int>(groups_.size()) - 1;
  }
  int new_context(const Context& c) {
    contexts_.push_back(c);
    return static_cast<int>(contexts_.size()) - 1;
  }

  static uint64_t key_of(ActivityId id) { return (static_cast<uint64_t>(id.kind) << 32) | id.index; }
  Activity& act(uint64_t key) {
    auto& v = acts_[key >> 32];
    const auto i = static_cast<size_t>(key & 0xffffffffu);
    if (v.size() <= i) v.resize(i + 1);
    return v[i];
  }
  const Activity* find(ActivityId id) const {
    const auto& v = acts_[static_cast<int>(id.kind)];
    return id.index < v.size() && v[id.index].active ? &v[id.index] : nullptr;
  }

  void bring_to_now(Group& g) {
    if (g.n > 0) g.v += g.rate * (now_ - g.t_v);
    g.t_v = now_;
  }
  // The group's first live execution is at the top of its heap (stale entries dropped).
  void clean_top(Group& g) {
    while (!g.heap.empty()) {
      const Group::Entry& e = g.heap.top();
      const Activity& a = act(e.key);
      if (a.active && a.serial == e.serial) return;
      g.heap.pop();
    }
  }
  void schedule(int gi) {
    Group& g = groups_[static_cast<size_t>(gi)];
    ++g.version;
    if (g.n == 0) return;
    clean_top(g);
    const double left = std::max(0.0, g.heap.top().target - g.v);
    next_.push(
        {g.rate > 0 ? g.t_v + left / g.rate : kInf, seq_++, false, static_cast<uint64_t>(gi), g.version});
  }
  void set_rate(int gi, double rate) {
    Group& g = groups_[static_cast<size_t>(gi)];
    if (g.rate == rate) return;
    bring_to_now(g);
    g.rate = rate;
    schedule(gi);
  }

  // Max-min fair shares of the machine's capacity: its own executions (weight 1, one core each) and each
  // VM or container with running work (weight min(executions, cores), bounded by that many cores and by its
  // limit), as SimGrid's VM model weighs them; inside, equal shares.
  void reshare(int mi) {
    Machine& m = machines_[static_cast<size_t>(mi)];
    if (m.children.empty()) {  // a node's own executions alone: a core each while they fit
      const Group& own = groups_[static_cast<size_t>(m.own_group)];
      if (own.n > 0) set_rate(m.own_group, std::min(speed_, m.capacity / own.n));
      return;
    }
    items_.clear();
    const Group& own = groups_[static_cast<size_t>(m.own_group)];
    if (own.n > 0) items_.push_back({m.own_group, static_cast<double>(own.n), own.n * speed_});
    for (int c : m.children) {
      const Context& ctx = contexts_[static_cast<size_t>(c)];
      const int n = groups_[static_cast<size_t>(ctx.group)].n;
      if (n == 0) continue;
      const double w = std::min<double>(n, ctx.cores);
      items_.push_back({ctx.group, w, std::min(w * speed_, ctx.bound)});
    }
    double total_bound = 0;
    for (const auto& it : items_) total_bound += it.bound;
    if (total_bound <= m.capacity) {
      for (const auto& it : items_) set_rate(it.group, it.bound / groups_[static_cast<size_t>(it.group)].n);
      return;
    }
    std::sort(items_.begin(), items_.end(),
              [](const auto& a, const auto& b) { return a.bound / a.weight < b.bound / b.weight; });
    double left = m.capacity, weight = 0;
    for (const auto& it : items_) weight += it.weight;
    size_t k = 0;
    for (; k < items_.size() && items_[k].bound / items_[k].weight <= left / weight; ++k) {
      left -= items_[k].bound;
      weight -= items_[k].weight;
      set_rate(items_[k].group, items_[k].bound / groups_[static_cast<size_t>(items_[k].group)].n);
    }
    const double level = weight > 0 ? left / weight : 0;
    for (; k < items_.size(); ++k) {
      const auto& it = items_[k];
      set_rate(it.group, it.weight * level / groups_[static_cast<size_t>(it.group)].n);
    }
  }

  void finished(Group& g) {
    if (--g.n == 0) {
      g.v = 0;
      g.t_v = now_;
      g.heap = {};
    }
  }

  double speed_;
  bool vms_;
  double route_latency_s_;
  double rate_bytes_s_;
  double now_ = 0;
  uint64_t seq_ = 0;
  std::vector<Machine> machines_;
  std::vector<Group> groups_;
  std::vector<Context> contexts_;
  std::vector<SlotClass> classes_;
  std::vector<int> slots_left_;               // per slot class: nodes it may still open
  std::vector<std::vector<int>> free_slots_;  // per slot class: closed nodes' contexts, reused
  std::vector<Activity> acts_[kKinds];
  std::priority_queue<Next, std::vector<Next>, std::greater<Next>> next_;
  struct ItemBuf {
    int group;
    double weight, bound;
  };
  std::vector<ItemBuf> items_;
  CompletionHandler handler_;
};

FastBackend::FastBackend(const RunSpec& run) : impl_(std::make_unique<Impl>(run)) {}
FastBackend::~FastBackend() = default;

void FastBackend::set_completion_handler(CompletionHandler h) {
  impl_->handler_ = std::move(h);
}

int FastBackend::open_node(int pool, int vcpu, int host, const std::string& /*name*/) {
  Impl& m = *impl_;
  Impl::Context c;
  c.cores = vcpu;
  if (m.vms_) {
    c.machine = host;
    c.child = true;
    c.group = m.new_group(host);
    const int id = m.new_context(c);
    m.machines_[static_cast<size_t>(host)].children.push_back(id);
    return id;
  }
  const int k = slot_class_of(m.classes_, pool, vcpu);
  if (k < 0) return -1;
  auto& free = m.free_slots_[static_cast<size_t>(k)];
  if (!free.empty()) {  // the lowest closed one, as SimGrid's backend reuses its hosts
    auto low = std::min_element(free.begin(), free.end());
    const int id = *low;
    free.erase(low);
    m.contexts_[static_cast<size_t>(id)].closed = false;
    return id;
  }
  if (m.slots_left_[static_cast<size_t>(k)] <= 0) return -1;
  --m.slots_left_[static_cast<size_t>(k)];
  c.machine = m.new_machine(vcpu);
  c.group = m.machines_[static_cast<size_t>(c.machine)].own_group;
  c.slot_class = k;
  return m.new_context(c);
}

void FastBackend::close_node(int context) {
  Impl& m = *impl_;
  Impl::Context& c = m.contexts_[static_cast<size_t>(context)];
  c.closed = true;
  // A host of its own serves the next node (work still running on it goes on, as on SimGrid's host).
  if (!c.child) m.free_slots_[static_cast<size_t>(c.slot_class)].push_back(context);
}

int FastBackend::open_container(int node_context, double cpu_limit_cores, const std::string& /*name*/) {
  Impl& m = *impl_;
  if (m.vms_) throw std::logic_error("a CPU limit needs nodes that are hosts of their own (no overcommit)");
  const Impl::Context node = m.contexts_[static_cast<size_t>(node_context)];
  Impl::Context c;
  c.machine = node.machine;
  c.child = true;
  c.cores = node.cores;
  c.bound = cpu_limit_cores * m.speed_;
  c.group = m.new_group(node.machine);
  const int id = m.new_context(c);
  m.machines_[static_cast<size_t>(node.machine)].children.push_back(id);
  return id;
}

void FastBackend::close_container(int context) {
  impl_->contexts_[static_cast<size_t>(context)].closed = true;
}

void FastBackend::start_exec(ActivityId id, int context, double flops) {
  Impl& m = *impl_;
  const Impl::Context& c = m.contexts_[static_cast<size_t>(context)];
  Impl::Group& g = m.groups_[static_cast<size_t>(c.group)];
  m.bring_to_now(g);
  const uint64_t key = Impl::key_of(id);
  Impl::Activity& a = m.act(key);
  a.group = c.group;
  a.flops = flops;
  a.target = g.v + flops;
  a.active = true;
  ++a.serial;
  const bool first = g.n == 0 || a.target < g.heap.top().target;
  g.heap.push({a.target, key, a.serial});
  ++g.n;
  const uint32_t version = g.version;
  m.reshare(c.machine);
  // Unless its rate changed (rescheduled then), the group's next end moves only if the new one ends first.
  if (g.version == version && first) m.schedule(c.group);
}

double FastBackend::exec_done_flops(ActivityId id) const {
  const Impl& m = *impl_;
  const Impl::Activity* a = m.find(id);
  if (!a || is_comm(id.kind)) return 0;
  const Impl::Group& g = m.groups_[static_cast<size_t>(a->group)];
  const double v = g.v + g.rate * (m.now_ - g.t_v);
  return std::clamp(v - (a->target - a->flops), 0.0, a->flops);
}

void FastBackend::start_comm(ActivityId id, int /*from_context*/, int /*to_context*/, double bytes) {
  Impl& m = *impl_;
  const uint64_t key = Impl::key_of(id);
  Impl::Activity& a = m.act(key);
  a.active = true;
  a.group = -1;
  ++a.serial;
  const double t = m.now_ + kLatencyFactor * m.route_latency_s_ + bytes / m.rate_bytes_s_;
  m.next_.push({t, m.seq_++, true, key, a.serial});
}

void FastBackend::cancel(ActivityId id) {
  Impl& m = *impl_;
  const uint64_t key = Impl::key_of(id);
  Impl::Activity& a = m.act(key);
  if (!a.active) return;
  a.active = false;
  ++a.serial;
  if (a.group < 0) return;
  Impl::Group& g = m.groups_[static_cast<size_t>(a.group)];
  m.bring_to_now(g);
  m.finished(g);
  m.reshare(g.machine);
  m.schedule(a.group);
}

double FastBackend::advance_to(double time_s) {
  Impl& m = *impl_;
  while (!m.next_.empty()) {
    const Impl::Next e = m.next_.top();
    if (e.time > time_s) break;
    m.next_.pop();
    if (e.comm) {
      Impl::Activity& a = m.act(e.key);
      if (!a.active || a.serial != e.stamp) continue;
      a.active = false;
      m.now_ = std::max(m.now_, e.time);
      m.handler_({static_cast<ActivityKind>(e.key >> 32), static_cast<uint32_t>(e.key & 0xffffffffu)}, true,
                 m.now_);
      continue;
    }
    const int gi = static_cast<int>(e.key);
    Impl::Group& g = m.groups_[static_cast<size_t>(gi)];
    if (g.version != e.stamp || g.n == 0) continue;
    m.now_ = std::max(m.now_, e.time);
    m.bring_to_now(g);
    m.clean_top(g);
    const uint64_t key = g.heap.top().key;
    g.heap.pop();
    Impl::Activity& a = m.act(key);
    a.active = false;
    m.finished(g);
    m.reshare(g.machine);
    m.schedule(gi);
    m.handler_({static_cast<ActivityKind>(key >> 32), static_cast<uint32_t>(key & 0xffffffffu)}, true,
               m.now_);
  }
  m.now_ = std::max(m.now_, time_s);
  return m.now_;
}

double FastBackend::speed_flops_per_core() const {
  return impl_->speed_;
}

}  // namespace autoscale
