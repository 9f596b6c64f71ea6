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
}  // namespace

Cluster::Cluster(const RunSpec& run, ExecutionBackend& backend, const std::string& file)
    : run_(run),
      backend_(backend),
      host_cpu_reserved_(static_cast<size_t>(run.hosts.count), 0.0),
      host_mem_reserved_(static_cast<size_t>(run.hosts.count), 0.0) {
  for (const auto& s : run.services) {
    int p = 0;
    for (size_t k = 0; k < run.node_pools.size(); ++k)
      if (run.node_pools[k].name == s.node_pool) p = static_cast<int>(k);
    service_pool_.push_back(p);
  }
  for (size_t p = 0; p < run.node_pools.size(); ++p) {
    const NodePool& pool = run.node_pools[p];
    if (pool.dedicated) continue;
    for (int k = 0; k < pool.nodes; ++k)
      if (open_node(static_cast<int>(p), 0) < 0)
        throw InputError(file, 0, "node_pools." + pool.name + ".nodes",
                         "the hosts have no room for node " + std::to_string(k + 1) + " of this pool (" +
                             std::to_string(pool.nodes) + " nodes of " + pool.instance_type +
                             "); expected fewer nodes or more hosts");
  }
}

// A node of `pool` on the first physical host with room (first fit, as placement onto hosts has always been).
int Cluster::open_node(int pool, double t_billed_from) {
  const NodePool& np = run_.node_pools[static_cast<size_t>(pool)];
  const InstanceType& type = run_.instance_type(np.instance_type);
  std::vector<Bin> hosts(host_cpu_reserved_.size());
  for (size_t h = 0; h < hosts.size(); ++h)
    hosts[h] = {run_.hosts.cores * run_.hosts.cpu_overcommit, run_.hosts.memory_gib, host_cpu_reserved_[h],
                host_mem_reserved_[h]};
  int host = autoscale::place(hosts, type.vcpu, type.memory_gib, PlacementRule::first_fit);
  if (host < 0) return -1;
  Node n;
  n.pool = pool;
  n.host = host;
  n.vcpu = type.vcpu;
  n.memory_gib = type.memory_gib;
  n.price_per_s = type.price_per_hour_usd / 3600.0;
  n.dedicated = np.dedicated;
  n.billed_from = t_billed_from;
  n.context = backend_.open_node(pool, host, np.name + "-" + std::to_string(nodes_.size()));
  if (n.context < 0) return -1;
  host_cpu_reserved_[static_cast<size_t>(host)] += type.vcpu;
  host_mem_reserved_[static_cast<size_t>(host)] += type.memory_gib;
  nodes_.push_back(n);
  return static_cast<int>(nodes_.size()) - 1;
}

Placement Cluster::place(int service, int instance) {
  const ServiceSpec& spec = run_.services[static_cast<size_t>(service)];
  int pool = service_pool_[static_cast<size_t>(service)];
  const NodePool& np = run_.node_pools[static_cast<size_t>(pool)];
  Placement pl;
  if (np.dedicated) {
    pl.node = open_node(pool, -1);
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
    if (n.pool != pool || !n.open) continue;
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
  if (p.context != n.context) backend_.close_container(p.context);
  return 0;
}

int Cluster::resize_pool(int pool, int nodes, double t) {
  int open = 0;
  for (const Node& n : nodes_) open += n.pool == pool && n.open ? 1 : 0;
  while (open < nodes && open_node(pool, t) >= 0) ++open;
  for (size_t i = nodes_.size(); i-- > 0 && open > nodes;) {
    Node& n = nodes_[i];
    if (n.pool != pool || !n.open || n.pods > 0) continue;
    close_node(static_cast<int>(i), t);
    --open;
  }
  return open;
}

void Cluster::start_billing(int node, double t) {
  nodes_[static_cast<size_t>(node)].billed_from = t;
}

double Cluster::node_cost_usd(int node, double t) const {
  const Node& n = nodes_[static_cast<size_t>(node)];
  if (n.billed_from < 0) return 0;
  double end = n.billed_until >= 0 ? n.billed_until : t;
  double seconds = end - n.billed_from;
  if (n.dedicated && n.billed_until >= 0)
    seconds = std::max(seconds, run_.node_pools[static_cast<size_t>(n.pool)].min_billed_s);
  return seconds * n.price_per_s;
}

double Cluster::cost_usd(double t) const {
  double c = closed_cost_usd_;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].billed_until < 0) c += node_cost_usd(static_cast<int>(i), t);
  return c;
}

std::vector<NodePoolObservation> Cluster::observe(const std::vector<int>& pending_by_pool) const {
  std::vector<NodePoolObservation> out;
  for (size_t p = 0; p < run_.node_pools.size(); ++p) {
    NodePoolObservation o;
    o.name = run_.node_pools[p].name;
    o.dedicated = run_.node_pools[p].dedicated;
    o.pending_pods = pending_by_pool[p];
    for (const Node& n : nodes_) {
      if (n.pool != static_cast<int>(p) || !n.open) continue;
      ++o.nodes;
      o.allocatable_cpu_cores += n.vcpu;
      o.allocatable_memory_gib += n.memory_gib;
      o.requested_cpu_cores += n.dedicated ? n.vcpu : n.cpu_requested;
      o.requested_memory_gib += n.dedicated ? n.memory_gib : n.mem_requested_gib;
      o.pods += n.dedicated ? 1 : n.pods;
    }
    out.push_back(o);
  }
  return out;
}

}  // namespace autoscale
