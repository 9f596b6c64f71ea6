#include "controllers/mpc/mpc_controller.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "controllers/event/startup_quantile.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "forecasters/store/model_store.hpp"

namespace autoscale {

double MpcConfig::service_startup_s(const std::string& service) const {
  auto it = startup_s_by_service.find(service);
  return it == startup_s_by_service.end() ? startup_s : it->second;
}

int MpcConfig::delay_steps(const std::string& service) const {
  return std::max(1, static_cast<int>(std::ceil(service_startup_s(service) / interval_s - 1e-9)));
}

namespace {
// E[max(0, D - capacity)] over the equally likely values of D.
double shortfall(const std::vector<double>& values, double capacity) {
  if (values.empty()) return 0;
  double s = 0;
  for (double v : values) s += std::max(0.0, v - capacity);
  return s / static_cast<double>(values.size());
}

struct StepCost {
  double instance = 0, sla = 0, short_rps = 0;
};

StepCost step_cost(const MpcProblem& p, int k, int n) {
  StepCost c;
  c.short_rps = shortfall(p.demand[static_cast<std::size_t>(k - 1)], p.rps_per_instance * n);
  c.instance = p.interval_s * n * p.cost_per_instance_hour / 3600.0;
  c.sla = p.interval_s * p.sla_penalty * c.short_rps;
  return c;
}

int horizon(const MpcProblem& p) {
  return static_cast<int>(p.demand.size());
}
}  // namespace

MpcPlan mpc_evaluate(const MpcProblem& p, const std::vector<int>& orders) {
  const int H = horizon(p), L = p.delay_steps;
  MpcPlan plan;
  plan.order = orders.at(0);
  int prev = p.current;
  for (int u : orders) {
    plan.change_cost += p.change_penalty * std::abs(u - prev);
    prev = u;
  }
  for (int k = 1; k <= H; ++k) {
    int n = k < L ? std::min(p.current, orders[0]) : orders.at(static_cast<std::size_t>(k - L));
    plan.counts.push_back(n);
    StepCost c = step_cost(p, k, n);
    plan.instance_cost += c.instance;
    plan.sla_cost += c.sla;
    plan.expected_shortfall += c.short_rps;
  }
  plan.objective = plan.instance_cost + plan.sla_cost + plan.change_cost;
  return plan;
}

MpcPlan mpc_plan(const MpcProblem& p) {
  const int H = horizon(p), L = p.delay_steps;
  if (L < 1 || L > H || p.max_instances < p.min_instances)
    throw std::logic_error("mpc_plan: needs 1 <= delay_steps <= horizon and min <= max");
  const int lo = p.min_instances, N = p.max_instances - p.min_instances + 1, S = H - L + 1;
  // stage[j][i]: the cost of ordering lo + i at stage j (serving step L + j; stage 0 also the steps before
  // L).
  std::vector<std::vector<double>> stage(static_cast<std::size_t>(S), std::vector<double>(N));
  for (int j = 0; j < S; ++j)
    for (int i = 0; i < N; ++i) {
      StepCost c = step_cost(p, L + j, lo + i);
      stage[j][i] = c.instance + c.sla;
    }
  for (int i = 0; i < N; ++i)
    for (int k = 1; k < L; ++k) {
      StepCost c = step_cost(p, k, std::min(p.current, lo + i));
      stage[0][i] += c.instance + c.sla;
    }
  // Forward: best[j][i] = the least cost of stages 0..j ending with lo + i; from[j][i] its predecessor.
  std::vector<std::vector<double>> best(static_cast<std::size_t>(S), std::vector<double>(N));
  std::vector<std::vector<int>> from(static_cast<std::size_t>(S), std::vector<int>(N, -1));
  for (int i = 0; i < N; ++i) best[0][i] = stage[0][i] + p.change_penalty * std::abs(lo + i - p.current);
  // min over m of best[j - 1][m] + change_penalty |i - m|, for every i in O(N): the L1 distance transform,
  // one pass from each side (ties to the smaller m).
  std::vector<double> left(N), right(N);
  std::vector<int> arg_left(N), arg_right(N);
  const double c = p.change_penalty;
  for (int j = 1; j < S; ++j) {
    const std::vector<double>& prev = best[j - 1];
    for (int m = 0; m < N; ++m) {
      if (m > 0 && !(prev[m] < left[m - 1] + c - 1e-12))
        left[m] = left[m - 1] + c, arg_left[m] = arg_left[m - 1];
      else
        left[m] = prev[m], arg_left[m] = m;
    }
    for (int m = N - 1; m >= 0; --m) {
      if (m < N - 1 && right[m + 1] + c < prev[m] - 1e-12)
        right[m] = right[m + 1] + c, arg_right[m] = arg_right[m + 1];
      else
        right[m] = prev[m], arg_right[m] = m;
    }
    for (int i = 0; i < N; ++i) {
      bool from_left = !(right[i] < left[i] - 1e-12);
      best[j][i] = (from_left ? left[i] : right[i]) + stage[j][i];
      from[j][i] = from_left ? arg_left[i] : arg_right[i];
    }
  }
  int i = 0;
  for (int m = 1; m < N; ++m)
    if (best[S - 1][m] < best[S - 1][i] - 1e-12) i = m;
  std::vector<int> orders(static_cast<std::size_t>(S));
  for (int j = S - 1; j >= 0; --j) {
    orders[j] = lo + i;
    if (j > 0) i = from[j][i];
  }
  return mpc_evaluate(p, orders);
}

MpcController::MpcController(MpcConfig cfg, std::map<std::string, ForecastFeed> feeds)
    : cfg_(std::move(cfg)) {
  for (auto& [name, feed] : feeds) state_[name].feed = std::move(feed);
}

Decision MpcController::decide(const Observation& obs) {
  Decision d;
  const int H = cfg_.horizon_steps;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    ServiceDecision out{name, s->desired, "arrival_rps_forecast", 0, "mpc"};
    st.feed.feed(*s, obs.time_s, cfg_.feed);
    out.diagnostics["delay_steps"] = cfg_.delay_steps(name);
    out.diagnostics["startup_s"] = cfg_.service_startup_s(name);
    // Capacity per instance: configured, or estimated from what the ready instances served per unit of CPU.
    const double per_instance = cfg_.rps_per_instance > 0 ? cfg_.rps_per_instance : st.feed.capacity_rps();
    if (!st.feed.warm(cfg_.feed) || !(per_instance > 0)) {
      out.desired = std::clamp(s->desired, s->min_instances, s->max_instances);
      out.rule = "warmup";
      out.diagnostic_strings["warmup"] =
          st.feed.warm(cfg_.feed) ? "no capacity estimate yet (needs a ready instance at >= 5 % CPU)"
                                  : "forecaster has " + std::to_string(st.feed.observed()) + " of " +
                                        std::to_string(cfg_.feed.warmup_intervals) + " observations";
      d.services.push_back(out);
      continue;
    }
    std::vector<int> hs;
    for (int h = 1; h <= H; ++h) hs.push_back(h);
    forecast::Forecast f = st.feed.model().predict(hs, cfg_.demand_quantiles);
    MpcProblem p;
    p.demand.resize(static_cast<std::size_t>(H));
    for (std::size_t k = 0; k < p.demand.size(); ++k)
      for (std::size_t q = 0; q < cfg_.demand_quantiles.size(); ++q)
        p.demand[k].push_back(std::max(0.0, f.at(k, q)));
    p.delay_steps = cfg_.delay_steps(name);
    p.current = s->desired;
    p.min_instances = s->min_instances;
    p.max_instances = s->max_instances;
    p.rps_per_instance = per_instance;
    out.diagnostics["rps_per_instance"] = per_instance;
    p.interval_s = cfg_.interval_s;
    p.cost_per_instance_hour = cfg_.cost_per_instance_hour;
    p.sla_penalty = cfg_.sla_penalty;
    p.change_penalty = cfg_.change_penalty;
    MpcPlan plan = mpc_plan(p);
    out.desired = plan.order;
    double mid = 0;
    for (double v : p.demand[static_cast<std::size_t>(p.delay_steps - 1)]) mid += v;
    out.metric_value = mid / static_cast<double>(cfg_.demand_quantiles.size());
    for (std::size_t k = 0; k < plan.counts.size(); ++k)
      out.diagnostics["plan_step_" + std::to_string(k + 1)] = plan.counts[k];
    out.diagnostics["expected_shortfall_rps"] = plan.expected_shortfall;
    out.diagnostics["instance_cost"] = plan.instance_cost;
    out.diagnostics["sla_cost"] = plan.sla_cost;
    out.diagnostics["change_cost"] = plan.change_cost;
    out.diagnostics["objective"] = plan.objective;
    d.services.push_back(out);
  }
  return d;
}

std::unique_ptr<Controller> make_mpc_controller(Params& p, const ControllerContext& ctx) {
  MpcConfig c;
  c.services = controlled_services(p, ctx);
  c.interval_s = p.number("interval_s", 60.0);
  if (!(c.interval_s > 0)) p.fail("interval_s", "a positive duration in seconds");
  c.horizon_steps = static_cast<int>(p.integer("horizon_steps", 10));
  if (c.horizon_steps < 1 || c.horizon_steps > 1000) p.fail("horizon_steps", "an integer in [1, 1000]");
  c.startup_s = p.number("startup_s", 180.0);
  if (c.startup_s < 0) p.fail("startup_s", "a non-negative duration in seconds");
  if (p.has("startup_s") && p.has("startup_quantile"))
    p.fail("startup_quantile", "startup_s or startup_quantile, not both");
  const double q = p.number("startup_quantile", 0.95);
  if (!(q > 0 && q <= 1)) p.fail("startup_quantile", "a probability in (0, 1]");
  if (!p.has("startup_s"))
    for (const auto& s : c.services)
      if (auto v = startup_quantile_s(ctx.startup_samples_s, s, q)) c.startup_s_by_service[s] = *v;
  for (const auto& s : c.services)
    if (c.delay_steps(s) > c.horizon_steps)
      p.fail("horizon_steps", "at least the startup delay in intervals (" + std::to_string(c.delay_steps(s)) +
                                  " for service '" + s + "': startup " +
                                  std::to_string(c.service_startup_s(s)) + " s)");
  c.rps_per_instance = p.has("rps_per_instance") ? p.number("rps_per_instance", std::nullopt) : 0.0;
  if (p.has("rps_per_instance") && !(c.rps_per_instance > 0))
    p.fail("rps_per_instance", "a positive rate in requests per second (leave it out to estimate it online)");
  c.feed.target_utilization = p.number("target_utilization", 0.6);
  if (!(c.feed.target_utilization > 0)) p.fail("target_utilization", "a positive CPU utilization");
  c.feed.capacity_alpha = p.number("capacity_alpha", 0.2);
  if (!(c.feed.capacity_alpha > 0 && c.feed.capacity_alpha <= 1))
    p.fail("capacity_alpha", "a weight in (0, 1]");
  c.cost_per_instance_hour = p.number("cost_per_instance_hour", 1.0);
  if (c.cost_per_instance_hour < 0) p.fail("cost_per_instance_hour", "a non-negative cost");
  c.sla_penalty = p.number("sla_penalty", 0.01);
  if (c.sla_penalty < 0) p.fail("sla_penalty", "a non-negative cost per request");
  c.change_penalty = p.number("change_penalty", 0.0);
  if (c.change_penalty < 0) p.fail("change_penalty", "a non-negative cost per instance");
  c.demand_quantiles = p.numbers("demand_quantiles", {0.1, 0.5, 0.9});
  if (c.demand_quantiles.empty()) p.fail("demand_quantiles", "a non-empty list of probabilities");
  for (double q : c.demand_quantiles)
    if (!(q > 0 && q < 1)) p.fail("demand_quantiles", "probabilities in (0, 1)");
  c.feed.interval_s = c.interval_s;
  c.feed.refit_intervals = static_cast<int>(p.integer("refit_intervals", 60));
  if (c.feed.refit_intervals < 0) p.fail("refit_intervals", "an integer >= 0 (0: never)");
  long warmup = 2;
  std::map<std::string, ForecastFeed> feeds =
      make_feeds(p, ctx, c.services, c.interval_s, c.horizon_steps, "horizon_steps", &warmup);
  c.feed.warmup_intervals = static_cast<int>(p.integer("warmup_intervals", warmup));
  if (c.feed.warmup_intervals < 1) p.fail("warmup_intervals", "an integer >= 1");
  preload_feeds(feeds, ctx, c.feed);  // monitoring's history before the run, if any
  return std::make_unique<MpcController>(std::move(c), std::move(feeds));
}

}  // namespace autoscale
