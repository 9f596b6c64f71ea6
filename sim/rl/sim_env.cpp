#include "sim/rl/sim_env.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/base/error.hpp"
#include "controllers/rl/action.hpp"
#include "sim/core/random.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale::rl {

namespace {
// The engine's controller in an environment: it only observes (the agent's actions come through
// Simulation::apply_decision).
class ObservingController : public Controller {
 public:
  explicit ObservingController(double interval_s) : interval_s_(interval_s) {}
  Decision decide(const Observation&) override { return {}; }
  double interval_s() const override { return interval_s_; }

 private:
  double interval_s_;
};

uint64_t episode_seed(uint64_t seed, uint64_t env, uint64_t episode) {
  return derive_key(derive_key(derive_key(0x5EEDu, seed), env), episode) & 0x7fffffffffffffffULL;
}
}  // namespace

FeatureScales feature_scales(const RunSpec& run, int service) {
  const ServiceSpec& spec = run.services[static_cast<size_t>(service)];
  const NodePool& pool = run.node_pool(spec.node_pool);
  const double cores = pool.dedicated       ? run.instance_type(pool.instance_type).vcpu
                       : spec.cpu_limit > 0 ? spec.cpu_limit
                                            : spec.cpu_request;
  const double work_s = std::max(1e-9, spec.work_cpu_s.expected());
  const double per_instance_rps =
      std::min<double>(cores, spec.workers) * run.hosts.speed_gflops / run.reference_speed_gflops / work_s;
  FeatureScales f;
  f.max_instances = std::max(1, spec.max_instances);
  f.rps_scale = std::max(1e-9, f.max_instances * per_instance_rps);
  f.sla_latency_s = run.sla.latency_s;
  f.queue_scale = std::max(1, spec.workers);
  f.concurrency_scale = std::max(1, spec.workers);
  return f;
}

Env::Env(EnvSpec spec) : spec_(std::move(spec)) {
  if (spec_.runs.empty()) throw InputError("env", 0, "runs", "at least one scenario run");
  const RunSpec& first = spec_.runs.front();
  if (spec_.service.empty()) spec_.service = first.traffic.entry_service;
  for (const RunSpec& r : spec_.runs)
    if (r.service_index(spec_.service) < 0)
      throw InputError("env", 0, "service",
                       "a service of every run; '" + spec_.service + "' is not in " + r.name);
  if (!(spec_.interval_s > 0)) throw InputError("env", 0, "interval_s", "a positive number of seconds");
  if (spec_.action.discrete && spec_.action.max_step < 1)
    throw InputError("env", 0, "max_step", "at least 1 instance per step");
  service_ = first.service_index(spec_.service);
  scales_ = feature_scales(first, service_);
  encoder_ = std::make_unique<FeatureEncoder>(spec_.service, scales_, feature_options());
}

Env::~Env() = default;
Env::Env(Env&&) noexcept = default;
Env& Env::operator=(Env&&) noexcept = default;

FeatureOptions Env::feature_options() const {
  FeatureOptions o;
  o.day_s = spec_.day_s;
  o.interval_s = spec_.interval_s;
  return o;
}

int Env::observation_size() const {
  return encoder_->size();
}
std::vector<std::string> Env::observation_names() const {
  return encoder_->names();
}

std::vector<float> Env::reset(uint64_t seed, int run) {
  const int k =
      run >= 0 ? run % static_cast<int>(spec_.runs.size()) : static_cast<int>(seed % spec_.runs.size());
  sim_.reset();  // the previous episode's engine first (exact mode: one per process)
  run_ = std::make_unique<RunSpec>(spec_.runs[static_cast<size_t>(k)]);
  run_->seed = seed;
  if (spec_.fidelity) run_->fidelity = *spec_.fidelity;
  service_ = run_->service_index(spec_.service);
  SimulationOptions opts;
  opts.controller = std::make_shared<ObservingController>(spec_.interval_s);
  sim_ = std::make_unique<Simulation>(*run_, opts);
  encoder_ = std::make_unique<FeatureEncoder>(spec_.service, scales_, feature_options());
  steps_ = 0;
  cost_prev_ = 0;
  failed_prev_ = 0;
  completed_prev_ = 0;
  info_ = StepInfo{};
  info_.run = k;
  info_.seed = seed;
  sim_->step_until(std::min(spec_.interval_s, sim_->end_s()));
  // Steps count from here: what happened before the first observation is no action's doing.
  const Simulation::SoFar f = sim_->so_far();
  cost_prev_ = f.cost_usd;
  failed_prev_ = f.failed;
  completed_prev_ = f.completed_latencies_s->size();
  return observe(0, 0, 0).obs;
}

StepResult Env::observe(double cost_usd, double violation_s, double changes) {
  StepResult r;
  const Observation& obs = sim_->last_observation();
  r.obs = encoder_->encode(obs);
  r.info = info_;
  r.info.time_s = sim_->now_s();
  r.info.cost_usd = cost_usd;
  r.info.sla_violation_s = violation_s;
  r.info.changes = changes;
  r.info.desired = sim_->desired(service_);
  if (const ServiceObservation* s = obs.find(spec_.service)) {
    r.info.ready = s->ready();
    r.info.arrival_rps = s->arrival_rps;
  }
  r.reward = -(cost_usd + spec_.lambda_usd_per_violation_s * violation_s + spec_.mu_usd_per_change * changes);
  info_ = r.info;
  return r;
}

StepResult Env::step(double action) {
  if (!sim_) throw std::logic_error("Env::step before reset");
  const ServiceSpec& spec = run_->services[static_cast<size_t>(service_)];
  const int current = sim_->desired(service_);
  double changes = 0;
  if (!valid_action(spec_.action, action))
    throw InputError("env", 0, "action",
                     spec_.action.discrete
                         ? "an index in [0, " + std::to_string(spec_.action.size() - 1) + "]"
                         : std::string("a fraction in [0, 1]"));
  const int want = apply_action(spec_.action, action, current, spec.min_instances, spec.max_instances);
  if (want != current) {
    ServiceDecision d{spec_.service, want, "rl_action", action, "rl_env"};
    sim_->apply_decision(d);
    changes = 1;
  }
  const double t0 = sim_->now_s();
  const bool more = sim_->step_until(t0 + spec_.interval_s);
  ++steps_;
  const Simulation::SoFar f = sim_->so_far();
  const double cost = f.cost_usd - cost_prev_;
  cost_prev_ = f.cost_usd;
  const std::vector<double>& lat = *f.completed_latencies_s;
  const std::vector<double>& counts = *f.completed_counts;  // fluid mode: requests per latency
  double violated = static_cast<double>(f.failed - failed_prev_);
  double finished = violated;
  for (size_t i = completed_prev_; i < lat.size(); ++i) {
    const double n = counts.empty() ? 1.0 : counts[i];
    finished += n;
    if (lat[i] > run_->sla.latency_s) violated += n;
  }
  failed_prev_ = f.failed;
  completed_prev_ = lat.size();
  const double step_s = sim_->now_s() - t0;
  const double violation_s = finished > 0 ? step_s * violated / finished : 0;
  StepResult r = observe(cost, violation_s, changes);
  r.terminated = !more;
  r.truncated = !r.terminated && spec_.max_steps > 0 && steps_ >= spec_.max_steps;
  return r;
}

VecEnv::VecEnv(const EnvSpec& spec, int num_envs) {
  if (num_envs < 1) throw InputError("env", 0, "num_envs", "at least 1");
  Fidelity f = spec.fidelity       ? *spec.fidelity
               : spec.runs.empty() ? Fidelity::exact
                                   : spec.runs.front().fidelity;
  bool any_exact = f == Fidelity::exact;
  if (!spec.fidelity)
    for (const auto& r : spec.runs) any_exact = any_exact || r.fidelity == Fidelity::exact;
  if (any_exact && num_envs > 1)
    throw InputError(
        "env", 0, "num_envs",
        "1 with exact fidelity (one SimGrid engine per process); fidelity fast or fluid for more");
  for (int i = 0; i < num_envs; ++i) envs_.emplace_back(spec);
  episodes_.assign(static_cast<size_t>(num_envs), 0);
  infos_.resize(static_cast<size_t>(num_envs));
}

std::vector<float> VecEnv::start(int i) {
  Env& e = envs_[static_cast<size_t>(i)];
  const int n = num_envs();
  const long k = episodes_[static_cast<size_t>(i)]++;
  const size_t runs = allowed_.empty() ? e.spec().runs.size() : allowed_.size();
  const uint64_t seed = episode_seed(seed_, static_cast<uint64_t>(i), static_cast<uint64_t>(k));
  const size_t pick = e.spec().order == EnvSpec::Order::random
                          ? static_cast<size_t>(derive_key(seed, 0x52554Eu) % runs)
                          : static_cast<size_t>((i + k * n) % static_cast<long>(runs));
  const int run = allowed_.empty() ? static_cast<int>(pick) : allowed_[pick];
  auto obs = e.reset(seed, run);
  infos_[static_cast<size_t>(i)] = e.info();
  return obs;
}

std::vector<float> VecEnv::reset(uint64_t seed) {
  seed_ = seed;
  std::fill(episodes_.begin(), episodes_.end(), 0);
  std::vector<float> out;
  for (int i = 0; i < num_envs(); ++i) {
    auto o = start(i);
    out.insert(out.end(), o.begin(), o.end());
  }
  return out;
}

VecStep VecEnv::step(const std::vector<double>& actions) {
  if (actions.size() != envs_.size())
    throw InputError("env", 0, "actions",
                     "one action per environment (" + std::to_string(envs_.size()) + ")");
  const size_t m = static_cast<size_t>(observation_size());
  VecStep out;
  out.obs.resize(envs_.size() * m);
  out.final_obs.assign(envs_.size() * m, 0.0f);
  out.reward.resize(envs_.size());
  out.terminated.resize(envs_.size());
  out.truncated.resize(envs_.size());
  for (size_t i = 0; i < envs_.size(); ++i) {
    StepResult r = envs_[i].step(actions[i]);
    out.reward[i] = r.reward;
    out.terminated[i] = r.terminated;
    out.truncated[i] = r.truncated;
    infos_[i] = r.info;
    if (r.terminated || r.truncated) {
      std::copy(r.obs.begin(), r.obs.end(), out.final_obs.begin() + static_cast<long>(i * m));
      r.obs = start(static_cast<int>(i));
    }
    std::copy(r.obs.begin(), r.obs.end(), out.obs.begin() + static_cast<long>(i * m));
  }
  return out;
}

}  // namespace autoscale::rl
