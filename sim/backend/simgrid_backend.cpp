#include "sim/backend/simgrid_backend.hpp"

#include "sim/backend/node_slots.hpp"

#include <simgrid/s4u.hpp>
// version.h needs the declarations s4u.hpp brings in first.
#include <simgrid/version.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace sg = simgrid::s4u;

namespace autoscale {

namespace {
constexpr int kKinds = 4;
void* make_tag(ActivityId id) {
  return reinterpret_cast<void*>((static_cast<uintptr_t>(id.index) << 3) |
                                 (static_cast<uintptr_t>(id.kind) + 1));
}
ActivityId read_tag(uintptr_t tag) {
  return {static_cast<ActivityKind>((tag & 7) - 1), static_cast<uint32_t>((tag >> 3) & 0xffffffffu)};
}
bool is_comm(ActivityKind k) {
  return k == ActivityKind::call_comm || k == ActivityKind::reply_comm;
}
}  // namespace

struct SimgridBackend::Impl {
  struct Context {
    sg::Host* host = nullptr;          // where work runs: a VM, or a node's own host
    sg::VirtualMachine* vm = nullptr;  // when the context is a VM (destroyed once idle)
    int pool = -1;                     // nodes on hosts of their own: the slot's class
    int comms_in_flight = 0;           // messages from or to it
    int execs = 0;                     // activities running on it
    bool closed = false;
  };
  struct Running {
    sg::ActivityPtr activity;
    double flops = 0;
    int contexts[2] = {-1, -1};
  };

  explicit Impl(const RunSpec& run)
      : run_(run), speed_(run.hosts.speed_gflops * 1e9), vms_(run.hosts.cpu_overcommit > 1) {
    int argc = 2;
    char arg0[] = "autoscale";
    char arg1[] = "--log=root.thres:critical";
    char* argv[] = {arg0, arg1, nullptr};
    engine_ = std::make_unique<sg::Engine>(&argc, argv);
    build_platform();
  }

  void build_platform() {
    auto* zone = sg::create_star_zone("cluster");
    const double bw = run_.network.bandwidth_gbps * 1e9 / 8;
    auto add_host = [&](const std::string& name, int cores) {
      sg::Host* host = zone->create_host(name, speed_)->set_core_count(cores)->seal();
      const sg::Link* link =
          zone->create_split_duplex_link("link-" + name, bw)->set_latency(run_.network.latency_s)->seal();
      zone->add_route(host->get_netpoint(), nullptr, nullptr, nullptr,
                      {{link, sg::LinkInRoute::Direction::UP}}, true);
      return host;
    };
    if (vms_) {
      for (int i = 0; i < run_.hosts.count; ++i)
        hosts_.push_back(add_host("host-" + std::to_string(i), run_.hosts.cores));
    } else {
      classes_ = slot_classes(run_);
      free_slots_.resize(classes_.size());
      const std::vector<int> counts = slot_counts(run_, classes_);
      for (size_t p = 0; p < classes_.size(); ++p) {
        const NodePool& pool = run_.node_pools[static_cast<size_t>(classes_[p].pool)];
        const int vcpu = classes_[p].vcpu;
        const std::string prefix =
            pool.name + (p > 0 && classes_[p - 1].pool == classes_[p].pool ? "-" + std::to_string(vcpu) : "");
        for (int k = 0; k < counts[p]; ++k) {
          Context c;
          c.host = add_host(prefix + "-node-" + std::to_string(k), vcpu);
          c.pool = static_cast<int>(p);
          c.closed = true;
          free_slots_[p].insert(static_cast<int>(contexts_.size()));
          contexts_.push_back(c);
        }
      }
    }
    zone->seal();
    sg::Activity::on_completion_cb([this](const sg::Activity& a) { on_completion(a); });
  }

  int new_context(const Context& c) {
    if (!free_contexts_.empty()) {
      int k = free_contexts_.back();
      free_contexts_.pop_back();
      contexts_[static_cast<size_t>(k)] = c;
      return k;
    }
    contexts_.push_back(c);
    return static_cast<int>(contexts_.size()) - 1;
  }

  Running& slot(ActivityId id) {
    auto& v = running_[static_cast<int>(id.kind)];
    if (v.size() <= id.index) v.resize(id.index + 1);
    return v[id.index];
  }
  const Running* find(ActivityId id) const {
    const auto& v = running_[static_cast<int>(id.kind)];
    return id.index < v.size() && v[id.index].activity ? &v[id.index] : nullptr;
  }

  void release(ActivityId id) {
    Running& r = slot(id);
    for (int c : r.contexts)
      if (c >= 0) {
        Context& ctx = contexts_[static_cast<size_t>(c)];
        if (is_comm(id.kind))
          --ctx.comms_in_flight;
        else
          --ctx.execs;
        if (ctx.vm && ctx.closed && ctx.comms_in_flight == 0 && ctx.execs == 0) retire_.push_back(c);
      }
    r.contexts[0] = r.contexts[1] = -1;
    // Released after run_until() returns, never inside SimGrid's callback.
    graveyard_.push_back(std::move(r.activity));
  }

  void on_completion(const sg::Activity& a) {
    auto tag = reinterpret_cast<uintptr_t>(a.get_data<void>());
    if (tag == 0) return;
    ActivityId id = read_tag(tag);
    bool ok = a.get_state() == sg::Activity::State::FINISHED;
    release(id);
    handler_(id, ok, sg::Engine::get_clock());
  }

  // VMs closed and idle are destroyed.
  void retire_idle() {
    for (int c : retire_) {
      Context& ctx = contexts_[static_cast<size_t>(c)];
      if (!ctx.vm || !ctx.closed || ctx.comms_in_flight > 0 || ctx.execs > 0) continue;
      ctx.vm->destroy();
      ctx = Context{};
      free_contexts_.push_back(c);
    }
    retire_.clear();
  }

  // A node's own host is free for the next node at once (messages still in flight to or from the old one land
  // on its link); a VM is destroyed once SimGrid has retired its activities and no message is in flight.
  void close(int c) {
    Context& ctx = contexts_[static_cast<size_t>(c)];
    ctx.closed = true;
    if (!ctx.vm)
      free_slots_[static_cast<size_t>(ctx.pool)].insert(c);
    else if (ctx.comms_in_flight == 0 && ctx.execs == 0)
      retire_.push_back(c);
  }

  void shutdown() {
    for (auto& v : running_)
      for (auto& r : v)
        if (r.activity) {
          r.activity->set_data(nullptr);
          r.activity->cancel();
        }
    engine_->run_until(sg::Engine::get_clock());  // SimGrid retires the cancelled activities
    for (auto& v : running_) v.clear();
    graveyard_.clear();
  }

  const RunSpec& run_;
  std::unique_ptr<sg::Engine> engine_;
  double speed_;
  bool vms_;
  std::vector<sg::Host*> hosts_;  // physical hosts (VM mode)
  std::vector<Context> contexts_;
  std::vector<int> free_contexts_;
  std::vector<SlotClass> classes_;
  std::vector<std::set<int>> free_slots_;  // per slot class: hosts of their own not in use, lowest first
  std::vector<int> retire_;
  std::vector<Running> running_[kKinds];
  std::vector<sg::ActivityPtr> graveyard_;
  CompletionHandler handler_;
};

SimgridBackend::SimgridBackend(const RunSpec& run) : impl_(std::make_unique<Impl>(run)) {}
SimgridBackend::~SimgridBackend() {
  impl_->shutdown();
}

void SimgridBackend::set_completion_handler(CompletionHandler h) {
  impl_->handler_ = std::move(h);
}

int SimgridBackend::open_node(int pool, int vcpu, int host, const std::string& name) {
  Impl& m = *impl_;
  if (m.vms_) {
    Impl::Context c;
    c.vm = m.hosts_[static_cast<size_t>(host)]->create_vm(name, vcpu);
    c.vm->start();
    c.host = c.vm;
    return m.new_context(c);
  }
  const int k = slot_class_of(m.classes_, pool, vcpu);
  if (k < 0) return -1;
  auto& free = m.free_slots_[static_cast<size_t>(k)];
  if (free.empty()) return -1;
  int c = *free.begin();
  free.erase(free.begin());
  m.contexts_[static_cast<size_t>(c)].closed = false;
  return c;
}

void SimgridBackend::close_node(int context) {
  impl_->close(context);
}

int SimgridBackend::open_container(int node_context, double cpu_limit_cores, const std::string& name) {
  Impl& m = *impl_;
  if (m.vms_) throw std::logic_error("a CPU limit needs nodes that are hosts of their own (no overcommit)");
  sg::Host* node = m.contexts_[static_cast<size_t>(node_context)].host;
  Impl::Context c;
  c.vm = node->create_vm(name, node->get_core_count());
  c.vm->set_bound(cpu_limit_cores * m.speed_);
  c.vm->start();
  c.host = c.vm;
  return m.new_context(c);
}

void SimgridBackend::close_container(int context) {
  impl_->close(context);
}

void SimgridBackend::start_exec(ActivityId id, int context, double flops) {
  Impl& m = *impl_;
  Impl::Running& r = m.slot(id);
  sg::ExecPtr e = sg::Exec::init();
  e->set_flops_amount(flops);
  e->set_host(m.contexts_[static_cast<size_t>(context)].host);
  e->set_data(make_tag(id));
  e->start();
  r.activity = e;
  r.flops = flops;
  r.contexts[0] = context;
  ++m.contexts_[static_cast<size_t>(context)].execs;
}

double SimgridBackend::exec_done_flops(ActivityId id) const {
  const Impl::Running* r = impl_->find(id);
  if (!r) return 0;
  return r->flops - static_cast<const sg::Exec&>(*r->activity).get_remaining();
}

void SimgridBackend::start_comm(ActivityId id, int from_context, int to_context, double bytes) {
  Impl& m = *impl_;
  Impl::Running& r = m.slot(id);
  sg::CommPtr c = sg::Comm::sendto_init(m.contexts_[static_cast<size_t>(from_context)].host,
                                        m.contexts_[static_cast<size_t>(to_context)].host);
  c->set_payload_size(static_cast<uint64_t>(bytes));
  c->set_data(make_tag(id));
  r.contexts[0] = from_context;
  r.contexts[1] = to_context;
  ++m.contexts_[static_cast<size_t>(from_context)].comms_in_flight;
  ++m.contexts_[static_cast<size_t>(to_context)].comms_in_flight;
  c->start();
  r.activity = c;
}

void SimgridBackend::cancel(ActivityId id) {
  Impl& m = *impl_;
  if (!m.find(id)) return;
  Impl::Running& r = m.slot(id);
  r.activity->set_data(nullptr);
  r.activity->cancel();
  m.release(id);
}

double SimgridBackend::advance_to(double time_s) {
  Impl& m = *impl_;
  m.engine_->run_until(time_s);
  m.graveyard_.clear();
  if (!m.retire_.empty()) m.retire_idle();
  return sg::Engine::get_clock();
}

double SimgridBackend::speed_flops_per_core() const {
  return impl_->speed_;
}

std::string simgrid_version() {
  return std::to_string(SIMGRID_VERSION_MAJOR) + "." + std::to_string(SIMGRID_VERSION_MINOR) + "." +
         std::to_string(SIMGRID_VERSION_PATCH);
}

}  // namespace autoscale
