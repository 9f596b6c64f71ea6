#include "controllers/aws_predictive/aws_predictive.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/forecast_feed/forecast_feed.hpp"
#include "controllers/registry.hpp"

namespace autoscale::aws {

std::map<long, double> same_hour_forecast(const std::map<long, double>& hours, long last, int horizon) {
  std::map<long, double> out;
  if (hours.empty()) return out;
  const long first = hours.begin()->first;
  for (long h = last + 1; h <= last + horizon; ++h) {
    // A week of history or more: the same hour of the same day of the week (one or two weeks back), so that
    // a Monday is not forecast from a weekend; less: the same hour of every day.
    const long season = hours.count(h - 168) ? 168 : 24;
    double sum = 0;
    int n = 0;
    for (long past = h - season; past >= first; past -= season) {
      if (past > last) continue;
      auto it = hours.find(past);
      if (it == hours.end()) continue;
      sum += it->second;
      ++n;
    }
    if (n > 0) out[h] = sum / n;
  }
  return out;
}

PredictiveScalingController::PredictiveScalingController(
    PredictiveScalingConfig cfg, std::unique_ptr<Controller> dynamic,
    const std::map<std::string, std::vector<double>>& history)
    : cfg_(std::move(cfg)), dynamic_(std::move(dynamic)) {
  for (const auto& name : cfg_.services) {
    State& st = state_[name];
    auto h = history.find(name);
    if (h == history.end()) continue;
    const auto n = static_cast<long>(h->second.size());
    for (long i = std::max(0L, n - kMaxHistoryHours); i < n; ++i)
      st.hours[i - n] = h->second[static_cast<std::size_t>(i)];
  }
}

void PredictiveScalingController::sample(State& st, const ServiceObservation& s, double t) {
  // A tick's sample describes the window just before it: the one at t = 3600 belongs to hour 0.
  const long hour = static_cast<long>(std::ceil(t / kHourS)) - 1;
  if (hour != st.open_hour) {
    if (st.open_count > 0) st.hours[st.open_hour] = st.open_sum / st.open_count;
    while (!st.hours.empty() && st.hours.begin()->first <= st.hours.rbegin()->first - kMaxHistoryHours)
      st.hours.erase(st.hours.begin());
    st.open_hour = hour;
    st.open_sum = 0;
    st.open_count = 0;
  }
  if (!s.metrics_valid) return;
  // ALBRequestCount: requests per minute to the group; ASGTotalCPUUtilization: the instances' CPU percent
  // summed (utilization x 100 x ready instances).
  double load = cfg_.pair == PredictiveScalingConfig::Pair::alb_requests
                    ? s.arrival_rps * 60
                    : s.cpu_utilization * 100 * s.ready();
  st.open_sum += load;
  ++st.open_count;
}

Decision PredictiveScalingController::decide(const Observation& obs) {
  const double t = obs.time_s;
  struct Plan {
    bool have = false;
    int capacity = 0;   // the active hour's capacity forecast
    int scheduled = 0;  // the minimum it sets (HonorMaxCapacity: capped at the maximum)
    int max = 0;        // the group's maximum, lifted by IncreaseMaxCapacity
    double load = 0;
    long hour = 0;
    bool capped = false;
  };
  std::map<std::string, Plan> plans;
  Observation shifted = obs;  // the dynamic policy's view: the forecast's minimum and maximum
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    sample(st, *s, t);
    if (static_cast<int>(st.hours.size()) >= kMinHistoryHours &&
        (st.next_forecast_s < 0 || t >= st.next_forecast_s)) {
      st.load = same_hour_forecast(st.hours, st.hours.rbegin()->first, kForecastHours);
      st.capacity.clear();
      for (const auto& [h, load] : st.load)
        st.capacity[h] = std::ceil(std::max(0.0, load) / cfg_.target_value - 1e-9);
      st.next_forecast_s = t + kForecastEveryS;
    }
    Plan p;
    // Hour H's capacity takes effect at H - SchedulingBufferTime.
    p.hour = static_cast<long>(std::floor((t + cfg_.scheduling_buffer_s) / kHourS));
    auto c = st.capacity.find(p.hour);
    if (c != st.capacity.end()) {
      p.have = true;
      p.capacity = static_cast<int>(c->second);
      p.load = st.load[p.hour];
      const int group_max = cfg_.max_size >= 0 ? cfg_.max_size : s->max_instances;
      p.max = group_max;
      p.scheduled = p.capacity;
      if (cfg_.increase_max) {
        int lifted =
            static_cast<int>(std::ceil(p.capacity * (1 + cfg_.max_capacity_buffer_pct / 100) - 1e-9));
        p.max = std::max(group_max, lifted);
      } else if (p.capacity > group_max) {
        p.scheduled = group_max;
        p.capped = true;
      }
      if (!cfg_.forecast_only)
        for (auto& so : shifted.services)
          if (so.name == name) {
            so.max_instances = p.max;
            so.min_instances = std::clamp(p.scheduled, so.min_instances, p.max);
          }
    }
    plans[name] = p;
  }
  Decision dyn;
  if (dynamic_) dyn = dynamic_->decide(cfg_.forecast_only ? obs : shifted);

  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    const Plan& p = plans[name];
    const State& st = state_[name];
    ServiceDecision out{name, s->desired, "", 0, cfg_.forecast_only ? "forecast_only" : "hold"};
    for (const auto& sd : dyn.services)
      if (sd.service == name) out = sd;
    const std::string dynamic_rule = out.rule;
    out.diagnostics["history_hours"] = static_cast<double>(st.hours.size());
    out.diagnostic_strings["mode"] = cfg_.forecast_only ? "ForecastOnly" : "ForecastAndScale";
    if (!p.have) {
      // Fewer than 24 hours of the load metric: no forecast (a ForecastOnly policy's decision is the dynamic
      // policy's, rule included).
      out.diagnostic_strings["predictive"] = "insufficient_history";
      if (!cfg_.forecast_only) {
        out.rule = "insufficient_history";
        out.diagnostic_strings["dynamic_rule"] = dynamic_rule;
      }
      d.services.push_back(out);
      continue;
    }
    out.diagnostics["predicted_capacity"] = p.capacity;
    out.diagnostics["predicted_load"] = p.load;
    out.diagnostics["scheduled_min"] = p.scheduled;
    out.diagnostics["effective_max"] = p.max;
    out.diagnostics["forecast_hour"] = static_cast<double>(p.hour);
    if (!cfg_.forecast_only) {
      const int min = std::clamp(p.scheduled, s->min_instances, p.max);
      out.diagnostic_strings["dynamic_rule"] = dynamic_rule;
      if (min > out.desired) {
        // Predictive scaling only scales out: the forecast's minimum lifts the count.
        out.desired = min;
        out.metric = cfg_.pair == PredictiveScalingConfig::Pair::alb_requests ? "ALBRequestCount"
                                                                              : "ASGTotalCPUUtilization";
        out.metric_value = p.load;
        out.rule = std::string("forecast_min") + (p.capped ? ",max_capacity" : "");
      }
      out.desired = std::min(out.desired, p.max);
    }
    d.services.push_back(out);
  }
  return d;
}

}  // namespace autoscale::aws

namespace autoscale {

std::unique_ptr<Controller> make_aws_predictive_controller(Params& p, const ControllerContext& ctx) {
  aws::PredictiveScalingConfig c;
  c.services = controlled_services(p, ctx);
  auto ps = p.table("PredictiveScalingConfiguration");
  auto specs = ps->tables("MetricSpecifications");
  if (specs.size() != 1)
    ps->fail("MetricSpecifications", "exactly one metric specification (AWS supports one)");
  Params& m = *specs.front();
  c.target_value = m.number("TargetValue", std::nullopt);
  if (!(c.target_value > 0)) m.fail("TargetValue", "a positive target per instance");
  for (const char* k : {"PredefinedLoadMetricSpecification", "PredefinedScalingMetricSpecification",
                        "CustomizedLoadMetricSpecification", "CustomizedScalingMetricSpecification",
                        "CustomizedCapacityMetricSpecification"})
    if (m.has(k))
      m.fail(k,
             "PredefinedMetricPairSpecification (the only metric specification modelled: the simulator "
             "observes CPU and requests, not CloudWatch metric math)");
  auto pair = m.table("PredefinedMetricPairSpecification");
  std::string type = pair->choice("PredefinedMetricType", std::nullopt,
                                  {"ASGCPUUtilization", "ASGNetworkIn", "ASGNetworkOut", "ALBRequestCount"});
  if (type == "ASGNetworkIn" || type == "ASGNetworkOut")
    pair->fail("PredefinedMetricType",
               "\"ASGCPUUtilization\" or \"ALBRequestCount\" (the simulator observes no network traffic)");
  c.pair = type == "ALBRequestCount" ? aws::PredictiveScalingConfig::Pair::alb_requests
                                     : aws::PredictiveScalingConfig::Pair::cpu;
  pair->string("ResourceLabel", "");
  pair->finish();
  m.finish();
  c.forecast_only =
      ps->choice("Mode", std::string("ForecastOnly"), {"ForecastOnly", "ForecastAndScale"}) == "ForecastOnly";
  c.scheduling_buffer_s = static_cast<double>(ps->integer("SchedulingBufferTime", 300));
  if (c.scheduling_buffer_s < 0 || c.scheduling_buffer_s > 3600)
    ps->fail("SchedulingBufferTime", "seconds in [0, 3600]");
  c.increase_max = ps->choice("MaxCapacityBreachBehavior", std::string("HonorMaxCapacity"),
                              {"HonorMaxCapacity", "IncreaseMaxCapacity"}) == "IncreaseMaxCapacity";
  if (c.increase_max) {
    if (!ps->has("MaxCapacityBuffer"))
      ps->fail("MaxCapacityBuffer", "a percentage in [0, 100] (required with IncreaseMaxCapacity)");
    c.max_capacity_buffer_pct = static_cast<double>(ps->integer("MaxCapacityBuffer", std::nullopt));
    if (c.max_capacity_buffer_pct < 0 || c.max_capacity_buffer_pct > 100)
      ps->fail("MaxCapacityBuffer", "a percentage in [0, 100]");
  } else if (ps->has("MaxCapacityBuffer")) {
    ps->fail("MaxCapacityBuffer",
             "no MaxCapacityBuffer with HonorMaxCapacity (AWS: only with IncreaseMaxCapacity)");
  }
  ps->finish();
  if (p.has("MaxSize")) {
    c.max_size = static_cast<int>(p.integer("MaxSize", std::nullopt));
    if (c.max_size < 0) p.fail("MaxSize", "a number of instances >= 0");
  }
  std::unique_ptr<Controller> dynamic;
  if (p.has("TargetTrackingConfiguration"))
    dynamic = make_aws_target_tracking_controller(p, ctx);
  else
    c.interval_s = p.number("interval_s", 60.0);
  if (!(c.interval_s > 0)) p.fail("interval_s", "a positive interval in seconds");

  // Monitoring's history before the run is the arrival rate: the request-count pair's load metric. CPU is
  // not in it, so the CPU pair starts from its own samples.
  std::map<std::string, std::vector<double>> history;
  if (c.pair == aws::PredictiveScalingConfig::Pair::alb_requests && ctx.history_step_s > 0)
    for (const auto& name : c.services) {
      auto h = ctx.history_arrival_rps.find(name);
      if (h == ctx.history_arrival_rps.end()) continue;
      std::vector<double> hourly = rebin_history(h->second, ctx.history_step_s, aws::kHourS);
      for (double& v : hourly) v *= 60;  // requests per second -> per minute
      history[name] = std::move(hourly);
    }
  return std::make_unique<aws::PredictiveScalingController>(std::move(c), std::move(dynamic), history);
}

}  // namespace autoscale
