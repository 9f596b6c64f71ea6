#include "sim/cluster/cluster.hpp"

#include <algorithm>

#include "controllers/base/error.hpp"
#include "sim/cluster/placement.hpp"

namespace autoscale {

namespace {
PlacementRule rule_of(SchedulerPolicy p) {
  return p == SchedulerPolicy::most_allocated ? PlacementRule::most_allocated
                                              : PlacementRule::least_allocated;
}

int type_index(const RunSpec& run, const std::string& name) {
  for (size_t k = 0; k < run.instance_types.size(); ++k)
    if (run.instance_types[k].name == name) return static_cast<int>(k);
  return 0;
}

// What a node of this type costs per hour in this pool (a reserved pool's nodes are billed as a pool).
double hourly_price(const NodePool& pool, const InstanceType& type) {
  switch (pool.capacity_type) {
    case CapacityType::spot:
      return type.spot_price_per_hour_usd;
    case CapacityType::reserved:
      return 0;
    default:
      return type.price_per_hour_usd;
  }
}
}  // namespace

Cluster::Cluster(const RunSpec& run, ExecutionBackend& backend, Clock& clock, const std::string& file)
    : run_(run),
      backend_(backend),
      clock_(clock),
      host_cpu_reserved_(static_cast<size_t>(run.hosts.count), 0.0),
      host_mem_reserved_(static_cast<size_t>(run.hosts.count), 0.0),
      reserved_(run.node_pools.size()) {
  for (const auto& s : run.services) {
    int p = 0;
    for (size_t k = 0; k < run.node_pools.size(); ++k)
      if (run.node_pools[k].name == s.node_pool) p = static_cast<int>(k);
    service_pool_.push_back(p);
  }
  for (const NodePool& pool : run.node_pools) {
    startup_rng_.emplace_back(run.seed, "node_startup/" + pool.name);
    spot_rng_.emplace_back(run.seed, "spot/" + pool.name);
  }
  for (size_t p = 0; p < run.node_pools.size(); ++p) {
    const NodePool& pool = run.node_pools[p];
    if (pool.dedicated) continue;
    for (int k = 0; k < pool.nodes; ++k)
      if (open_node(static_cast<int>(p), type_index(run, pool.instance_type), 0, false) < 0)
        throw InputError(file, 0, "node_pools." + pool.name + ".nodes",
                         "the hosts have no room for node " + std::to_string(k + 1) + " of this pool (" +
                             std::to_string(pool.nodes) + " nodes of " + pool.instance_type +
                             "); expected fewer nodes or more hosts");
  }
}

// Reservations: node-seconds beyond reserved_nodes accumulate up to t.
void Cluster::reserved_touch(int pool, double t) {
  Reserved& r = reserved_[static_cast<size_t>(pool)];
  const int n = run_.node_pools[static_cast<size_t>(pool)].reserved_nodes;
  r.excess_node_s += std::max(0, r.running - n) * (t - r.since);
  r.since = t;
}

// A node of `pool` on the first physical host with room (first fit, as placement onto hosts has always been).
// `starting`: a fixed pool's node added after time 0, ready after its pool's node_startup_s.
int Cluster::open_node(int pool, int type_idx, double t_billed_from, bool starting) {
  const NodePool& np = run_.node_pools[static_cast<size_t>(pool)];
  const InstanceType& type = run_.instance_types[static_cast<size_t>(type_idx)];
  std::vector<Bin> hosts(host_cpu_reserved_.size());
  for (size_t h = 0; h < hosts.size(); ++h)
    hosts[h] = {run_.hosts.cores * run_.hosts.cpu_overcommit, run_.hosts.memory_gib, host_cpu_reserved_[h],
                host_mem_reserved_[h]};
  int host = autoscale::place(hosts, type.vcpu, type.memory_gib, PlacementRule::first_fit);
  if (host < 0) return -1;
  Node n;
  n.pool = pool;
  n.type = type_idx;
  n.host = host;
  n.vcpu = type.vcpu;
  n.memory_gib = type.memory_gib;
  n.price_per_s = hourly_price(np, type) / 3600.0;
  n.dedicated = np.dedicated;
  n.spot = !np.dedicated && np.capacity_type == CapacityType::spot;
  n.billed_from = t_billed_from;
  n.created_s = n.last_pod_change_s = std::max(0.0, t_billed_from);
  n.context = backend_.open_node(pool, type.vcpu, host, np.name + "-" + std::to_string(nodes_.size()));
  if (n.context < 0) return -1;
  host_cpu_reserved_[static_cast<size_t>(host)] += type.vcpu;
  host_mem_reserved_[static_cast<size_t>(host)] += type.memory_gib;
  const int id = static_cast<int>(nodes_.size());
  if (!np.dedicated) {
    if (np.capacity_type == CapacityType::reserved) {
      reserved_touch(pool, t_billed_from);
      ++reserved_[static_cast<size_t>(pool)].running;
    }
    if (starting) {
      n.ready = false;
      clock_.schedule(t_billed_from + np.node_startup_s.sample(startup_rng_[static_cast<size_t>(pool)]),
                      EventKind::node_ready, id);
    }
    if (n.spot && np.spot_interruptions_per_hour > 0) {
      const double notice = t_billed_from + spot_rng_[static_cast<size_t>(pool)].exponential(
                                                3600.0 / np.spot_interruptions_per_hour);
      if (notice < run_.duration_s) clock_.schedule(notice, EventKind::spot_notice, id);
    }
  }
  nodes_.push_back(std::move(n));
  return id;
}

Placement Cluster::place(int service, int instance, double t) {
  const ServiceSpec& spec = run_.services[static_cast<size_t>(service)];
  int pool = service_pool_[static_cast<size_t>(service)];
  const NodePool& np = run_.node_pools[static_cast<size_t>(pool)];
  Placement pl;
  pl.instance = instance;
  if (np.dedicated) {
    pl.node = open_node(pool, type_index(run_, np.instance_type), -1, false);
    if (pl.node < 0) return pl;
    const Node& n = nodes_[static_cast<size_t>(pl.node)];
    pl.context = n.context;
    pl.cpu_request_cores = pl.max_cores = n.vcpu;
    return pl;
  }
  std::vector<int> index;
  std::vector<Bin> bins;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const Node& n = nodes_[i];
    if (n.pool != pool || !n.open || !n.ready || n.deleting) continue;
    index.push_back(static_cast<int>(i));
    bins.push_back({static_cast<double>(n.vcpu), n.memory_gib, n.cpu_requested, n.mem_requested_gib});
  }
  int k = autoscale::place(bins, spec.cpu_request, spec.memory_request_gib, rule_of(np.scheduler));
  if (k < 0) return pl;
  pl.node = index[static_cast<size_t>(k)];
  Node& n = nodes_[static_cast<size_t>(pl.node)];
  n.cpu_requested += spec.cpu_request;
  n.mem_requested_gib += spec.memory_request_gib;
  ++n.pods;
  n.last_pod_change_s = t;
  n.pod_list.push_back({instance, PodRequest{spec.cpu_request, spec.memory_request_gib}});
  pl.cpu_request_cores = spec.cpu_request;
  pl.max_cores = n.vcpu;
  pl.context = n.context;
  if (spec.cpu_limit > 0) {
    pl.context =
        backend_.open_container(n.context, spec.cpu_limit, spec.name + "-" + std::to_string(instance));
    pl.max_cores = spec.cpu_limit;
  }
  return pl;
}

// The node's bill ends (returned whole), its host's room is freed and its backend place closed.
double Cluster::close_node(int node, double t) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (!n.dedicated && run_.node_pools[static_cast<size_t>(n.pool)].capacity_type == CapacityType::reserved) {
    reserved_touch(n.pool, t);
    --reserved_[static_cast<size_t>(n.pool)].running;
  }
  n.open = false;
  n.billed_until = t;
  double bill = node_cost_usd(node, t);
  closed_cost_usd_ += bill;
  host_cpu_reserved_[static_cast<size_t>(n.host)] -= n.vcpu;
  host_mem_reserved_[static_cast<size_t>(n.host)] -= n.memory_gib;
  backend_.close_node(n.context);
  return bill;
}

double Cluster::release(int service, const Placement& p, double t) {
  if (p.node < 0) return 0;
  Node& n = nodes_[static_cast<size_t>(p.node)];
  if (n.dedicated) {
    return close_node(p.node, t);
  }
  const ServiceSpec& spec = run_.services[static_cast<size_t>(service)];
  n.cpu_requested -= spec.cpu_request;
  n.mem_requested_gib -= spec.memory_request_gib;
  --n.pods;
  n.last_pod_change_s = t;
  auto it = std::find_if(n.pod_list.begin(), n.pod_list.end(),
                         [&](const std::pair<int, PodRequest>& e) { return e.first == p.instance; });
  if (it != n.pod_list.end()) n.pod_list.erase(it);
  if (p.context != n.context) backend_.close_container(p.context);
  if (n.deleting && !n.reclaiming && n.open && n.pods == 0) close_node(p.node, t);
  return 0;
}

int Cluster::open_nodes(int pool) const {
  int open = 0;
  for (const Node& n : nodes_) open += n.pool == pool && n.open && !n.deleting ? 1 : 0;
  return open;
}

int Cluster::resize_pool(int pool, int nodes, double t) {
  int open = open_nodes(pool);
  const int type = type_index(run_, run_.node_pools[static_cast<size_t>(pool)].instance_type);
  while (open < nodes && open_node(pool, type, t, true) >= 0) ++open;
  for (size_t i = nodes_.size(); i-- > 0 && open > nodes;) {
    Node& n = nodes_[i];
    if (n.pool != pool || !n.open || n.deleting || n.pods > 0) continue;
    close_node(static_cast<int>(i), t);
    --open;
  }
  return open;
}

int Cluster::add_node(int pool, int type, double t) {
  return open_node(pool, type, t, true);
}

bool Cluster::cordon(int node, double t) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (!n.open || n.dedicated) return false;
  n.deleting = true;
  if (n.pods == 0) close_node(node, t);
  return true;
}

void Cluster::start_billing(int node, double t) {
  nodes_[static_cast<size_t>(node)].billed_from = t;
}

void Cluster::set_rate(int node, double price_per_s, bool minimum, double t) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (n.billed_from >= 0) {
    double seconds = t - n.billed_from;
    if (n.dedicated && n.minimum)
      seconds = std::max(seconds, run_.node_pools[static_cast<size_t>(n.pool)].min_billed_s);
    n.earlier_usd += seconds * n.price_per_s;
    n.billed_from = t;
  }
  n.price_per_s = price_per_s;
  n.minimum = minimum;
}

bool Cluster::on_node_ready(int node, double t) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (!n.open || n.ready) return false;
  n.ready = true;
  n.last_pod_change_s = t;
  return !n.deleting;
}

bool Cluster::on_spot_notice(int node, double t) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (!n.open) return false;
  const double notice_s = run_.node_pools[static_cast<size_t>(n.pool)].spot_notice_s;
  clock_.schedule(t + notice_s, EventKind::spot_reclaim, node);
  n.deleting = n.reclaiming = true;  // cordoned; it runs until reclamation
  return true;
}

void Cluster::on_spot_reclaim(int node, double t, bool replace) {
  Node& n = nodes_[static_cast<size_t>(node)];
  if (n.open) close_node(node, t);
  if (replace) open_node(n.pool, n.type, t, true);
}

double Cluster::node_cost_usd(int node, double t) const {
  const Node& n = nodes_[static_cast<size_t>(node)];
  if (n.billed_from < 0) return 0;
  double end = n.billed_until >= 0 ? n.billed_until : t;
  double seconds = end - n.billed_from;
  if (n.dedicated && n.billed_until >= 0 && n.minimum)
    seconds = std::max(seconds, run_.node_pools[static_cast<size_t>(n.pool)].min_billed_s);
  return n.earlier_usd + seconds * n.price_per_s;
}

double Cluster::cost_usd(double t) const {
  double c = closed_cost_usd_;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].billed_until < 0) c += node_cost_usd(static_cast<int>(i), t);
  // Reserved pools: reserved_nodes at the reserved rate from 0 to t, used or not; node-seconds beyond them
  // on demand.
  for (size_t p = 0; p < run_.node_pools.size(); ++p) {
    const NodePool& pool = run_.node_pools[p];
    if (pool.dedicated || pool.capacity_type != CapacityType::reserved) continue;
    const InstanceType& type = run_.instance_type(pool.instance_type);
    const Reserved& r = reserved_[p];
    const double excess = r.excess_node_s + std::max(0, r.running - pool.reserved_nodes) * (t - r.since);
    c += pool.reserved_nodes * type.reserved_price_per_hour_usd / 3600.0 * t +
         excess * type.price_per_hour_usd / 3600.0;
  }
  return c;
}

std::vector<NodePoolObservation> Cluster::observe(
    const std::vector<std::vector<PodRequest>>& pending_by_pool) const {
  std::vector<NodePoolObservation> out;
  for (size_t p = 0; p < run_.node_pools.size(); ++p) {
    const NodePool& pool = run_.node_pools[p];
    NodePoolObservation o;
    o.name = pool.name;
    o.dedicated = pool.dedicated;
    o.pending_pods = static_cast<int>(pending_by_pool[p].size());
    o.min_nodes = pool.min_nodes;
    o.max_nodes = pool.max_nodes;
    if (!pool.dedicated) {
      o.pending_requests = pending_by_pool[p];
      std::vector<std::string> names = pool.instance_types;
      if (names.empty()) names.push_back(pool.instance_type);
      for (const std::string& name : names) {
        const InstanceType& type = run_.instance_type(name);
        const double price = pool.capacity_type == CapacityType::spot       ? type.spot_price_per_hour_usd
                             : pool.capacity_type == CapacityType::reserved ? type.reserved_price_per_hour_usd
                                                                            : type.price_per_hour_usd;
        o.instance_types.push_back({name, type.vcpu, type.memory_gib, price});
      }
    }
    for (size_t i = 0; i < nodes_.size(); ++i) {
      const Node& n = nodes_[i];
      if (n.pool != static_cast<int>(p) || !n.open) continue;
      if (!n.dedicated) {
        NodeObservation no;
        no.id = static_cast<int>(i);
        no.instance_type = run_.instance_types[static_cast<size_t>(n.type)].name;
        no.ready = n.ready;
        no.deleting = n.deleting;
        no.spot = n.spot;
        no.created_s = n.created_s;
        no.last_pod_change_s = n.last_pod_change_s;
        no.price_per_hour_usd = n.price_per_s * 3600.0;
        no.allocatable_cpu_cores = n.vcpu;
        no.allocatable_memory_gib = n.memory_gib;
        no.requested_cpu_cores = n.cpu_requested;
        no.requested_memory_gib = n.mem_requested_gib;
        for (const auto& e : n.pod_list) no.pods.push_back(e.second);
        o.node_list.push_back(std::move(no));
        if (n.deleting) continue;
        if (!n.ready) ++o.starting_nodes;
      }
      ++o.nodes;
      o.allocatable_cpu_cores += n.vcpu;
      o.allocatable_memory_gib += n.memory_gib;
      o.requested_cpu_cores += n.dedicated ? n.vcpu : n.cpu_requested;
      o.requested_memory_gib += n.dedicated ? n.memory_gib : n.mem_requested_gib;
      o.pods += n.dedicated ? 1 : n.pods;
    }
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace autoscale
