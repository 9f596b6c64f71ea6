#include "sim/core/presets.hpp"

#include "controllers/map_params.hpp"

namespace autoscale {

RunSpec single_queue(const QueuePreset& p) {
  RunSpec r;
  r.name = "queue";
  r.duration_s = p.duration_s;
  r.seed = p.seed;
  r.reference_speed_gflops = 1;
  r.hosts = {p.hosts, p.host_cores, 1.0, 1024, p.cpu_overcommit};
  r.instance_types = {{"vm", p.vcpu, 4, 0.05}};
  NodePool pool;
  pool.name = "vms";
  pool.instance_type = "vm";
  r.node_pools = {pool};
  ServiceSpec s;
  s.name = "svc";
  s.node_pool = "vms";
  s.work_cpu_s = Distribution::exponential_mean(p.work_mean_s);
  s.workers = p.workers;
  s.queue_limit = p.queue_limit;
  s.initial_instances = s.min_instances = s.max_instances = p.instances;
  r.services = {s};
  r.traffic.entry_service = "svc";
  r.traffic.client_timeout_s = p.client_timeout_s;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::constant;
  c.name = "constant";
  c.rate_rps = p.arrival_rps;
  r.traffic.components = {c};
  r.controller.kind = "static";
  r.controller.params = std::make_shared<MapParams>(
      std::map<std::string, MapParams::Value>{{"instances", static_cast<long>(p.instances)}});
  return r;
}

}  // namespace autoscale
