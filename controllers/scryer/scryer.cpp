#include "controllers/scryer/scryer.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/forecast_feed/forecast_feed.hpp"
#include "controllers/registry.hpp"
#include "controllers/wrappers/inner.hpp"

namespace autoscale::scryer {

std::pair<double, double> ensemble_weights(const std::vector<double>& fft_errors,
                                           const std::vector<double>& days_errors, bool weighted) {
  if (!weighted || fft_errors.empty() || days_errors.empty()) return {0.5, 0.5};
  auto mean = [](const std::vector<double>& v) {
    double s = 0;
    for (double e : v) s += e;
    return s / static_cast<double>(v.size());
  };
  double a = 1 / (mean(fft_errors) + 1e-9), b = 1 / (mean(days_errors) + 1e-9);
  return {a / (a + b), b / (a + b)};
}

ScryerController::ScryerController(ScryerConfig cfg, std::unique_ptr<Controller> backstop,
                                   const std::map<std::string, std::vector<double>>& history)
    : cfg_(std::move(cfg)), backstop_(std::move(backstop)) {
  for (const auto& name : cfg_.services) {
    State& st = state_[name];
    auto h = history.find(name);
    if (h == history.end() || h->second.empty()) continue;
    const auto n = static_cast<long>(h->second.size());
    st.last_bin = -n - 1;
    for (long i = 0; i < n; ++i) {
      st.bins.push_back(h->second[static_cast<std::size_t>(i)]);
      st.last_bin = i - n;
    }
    refit(st);
  }
}

bool ScryerController::ready(const State& st) const {
  return st.fft && static_cast<int>(st.bins.size()) > similar_days_min_steps(cfg_.days);
}

void ScryerController::refit(State& st) {
  const int period = cfg_.days.period_steps;
  const std::size_t keep = static_cast<std::size_t>(std::max(cfg_.fft_days, cfg_.days.max_days) * period +
                                                    cfg_.days.match_steps + 1);
  if (st.bins.size() > keep) st.bins.erase(st.bins.begin(), st.bins.end() - static_cast<long>(keep));
  const std::size_t fft_n = std::min(st.bins.size(), static_cast<std::size_t>(cfg_.fft_days * period));
  st.fft.reset();
  st.have_next = false;
  if (fft_n < 32) return;
  std::vector<double> window(st.bins.end() - static_cast<long>(fft_n), st.bins.end());
  st.fft = std::make_unique<forecast::FftForecaster>(cfg_.harmonics);
  st.fft->fit(window, cfg_.step_s,
              static_cast<double>(st.last_bin + 1 - static_cast<long>(fft_n)) * cfg_.step_s);
  st.fft_next = st.fft->predict({1}, {0.5}).at(0, 0);
  st.have_next = similar_days_predict(st.bins, 1, cfg_.days, st.days_next);
}

void ScryerController::close_bin(State& st, double value) {
  // A bin without a valid sample (a gap) repeats the value that closes it, so the series stays regular.
  while (st.last_bin < st.open_bin) {
    if (st.have_next) {
      auto push = [&](std::vector<double>& errors, double predicted) {
        errors.push_back(std::abs(predicted - value));
        if (static_cast<int>(errors.size()) > cfg_.error_window_steps) errors.erase(errors.begin());
      };
      push(st.fft_errors, st.fft_next);
      push(st.days_errors, st.days_next);
      st.have_next = false;
    }
    st.bins.push_back(value);
    ++st.last_bin;
  }
  refit(st);
}

Decision ScryerController::decide(const Observation& obs) {
  const double t = obs.time_s;
  Decision back;
  if (backstop_) back = backstop_->decide(obs);
  Decision d;
  for (const auto& name : cfg_.services) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    State& st = state_[name];
    // A tick's sample describes the window before it: the one at t = step_s belongs to bin 0.
    const long bin = static_cast<long>(std::ceil(t / cfg_.step_s - 1e-9)) - 1;
    if (bin != st.open_bin) {
      if (st.open_count > 0) close_bin(st, st.open_sum / st.open_count);
      st.open_bin = bin;
      st.open_sum = 0;
      st.open_count = 0;
    }
    if (s->metrics_valid) {
      st.open_sum += s->arrival_rps;
      ++st.open_count;
    }
    ServiceDecision out{name, s->desired, "", 0, backstop_ ? "backstop" : "hold"};
    for (const auto& sd : back.services)
      if (sd.service == name) out = sd;
    const int backstop_desired = out.desired;
    out.diagnostics["backstop_desired"] = backstop_desired;
    out.diagnostic_strings["backstop_rule"] = out.rule;
    if (!ready(st)) {
      out.rule = "insufficient_history";
      out.diagnostics["history_steps"] = static_cast<double>(st.bins.size());
      d.services.push_back(out);
      continue;
    }
    // The peak of the ensemble over the bins from the current one to the one holding now + lead_s.
    const long target = static_cast<long>(std::floor((t + cfg_.lead_s) / cfg_.step_s));
    const int horizon = static_cast<int>(std::max(1L, target - st.last_bin));
    auto [wf, wd] = ensemble_weights(st.fft_errors, st.days_errors, cfg_.weighted);
    std::vector<int> hs;
    for (int h = 1; h <= horizon; ++h) hs.push_back(h);
    forecast::Forecast f = st.fft->predict(hs, {0.5});
    double peak = 0, peak_fft = 0, peak_days = 0;
    for (int h = 1; h <= horizon; ++h) {
      double a = std::max(0.0, f.at(static_cast<std::size_t>(h - 1), 0)), b = 0;
      double e = similar_days_predict(st.bins, h, cfg_.days, b) ? wf * a + wd * std::max(0.0, b) : a;
      if (e >= peak) {
        peak = e;
        peak_fft = a;
        peak_days = b;
      }
    }
    const int capacity =
        static_cast<int>(std::ceil(peak * (1 + cfg_.headroom) / cfg_.rps_per_instance - 1e-9));
    out.diagnostics["fft_forecast"] = peak_fft;
    out.diagnostics["similar_days_forecast"] = peak_days;
    out.diagnostics["ensemble_forecast"] = peak;
    out.diagnostics["weight_fft"] = wf;
    out.diagnostics["weight_similar_days"] = wd;
    out.diagnostics["predicted_capacity"] = capacity;
    if (capacity > backstop_desired || !backstop_) {
      out.desired = capacity;
      out.metric = "arrival_rps_forecast";
      out.metric_value = peak;
      out.rule = "scryer_forecast";
    }
    int clamped = std::clamp(out.desired, s->min_instances, s->max_instances);
    if (clamped != out.desired) out.rule += clamped > out.desired ? ",min_instances" : ",max_instances";
    out.desired = clamped;
    d.services.push_back(out);
  }
  return d;
}

}  // namespace autoscale::scryer

namespace autoscale {

std::unique_ptr<Controller> make_scryer_controller(Params& p, const ControllerContext& ctx) {
  scryer::ScryerConfig c;
  c.services = controlled_services(p, ctx);
  c.rps_per_instance = p.number("rps_per_instance", std::nullopt);
  if (!(c.rps_per_instance > 0)) p.fail("rps_per_instance", "a positive rate in requests per second");
  c.step_s = p.number("step_s", 300.0);
  if (!(c.step_s > 0)) p.fail("step_s", "a positive bin width in seconds");
  c.period_s = p.number("period_s", 86400.0);
  double steps = c.period_s / c.step_s;
  if (!(c.period_s > 0) || std::abs(steps - std::round(steps)) > 1e-9 * steps || std::round(steps) < 2)
    p.fail("period_s", "a whole number (at least 2) of step_s");
  c.days.period_steps = static_cast<int>(std::lround(steps));
  c.lead_s = p.number("lead_s", 600.0);
  if (c.lead_s < 0 || c.lead_s >= c.period_s) p.fail("lead_s", "seconds in [0, period_s)");
  c.headroom = p.number("headroom", 0.1);
  if (c.headroom < 0) p.fail("headroom", "a non-negative fraction");
  c.harmonics = static_cast<int>(p.integer("harmonics", 8));
  if (c.harmonics < 1) p.fail("harmonics", "an integer >= 1");
  c.fft_days = static_cast<int>(p.integer("fft_days", 7));
  if (c.fft_days < 1) p.fail("fft_days", "an integer >= 1");
  double match_s = p.number("match_s", 3600.0);
  c.days.match_steps = static_cast<int>(std::lround(match_s / c.step_s));
  if (c.days.match_steps < 1 || c.days.match_steps > c.days.period_steps)
    p.fail("match_s", "at least one step_s and at most period_s");
  c.days.neighbours = static_cast<int>(p.integer("neighbours", 3));
  if (c.days.neighbours < 1) p.fail("neighbours", "an integer >= 1");
  c.days.max_days = static_cast<int>(p.integer("max_days", 14));
  if (c.days.max_days < 1) p.fail("max_days", "an integer >= 1");
  c.weighted = p.choice("ensemble", std::string("weighted"), {"weighted", "mean"}) == "weighted";
  c.error_window_steps = static_cast<int>(p.integer("error_window_steps", 12));
  if (c.error_window_steps < 1) p.fail("error_window_steps", "an integer >= 1");
  std::unique_ptr<Controller> backstop;
  if (p.has("inner")) {
    backstop = wrappers::make_inner(p, ctx);
  } else {
    c.interval_s = p.number("interval_s", 60.0);
    if (!(c.interval_s > 0)) p.fail("interval_s", "a positive interval in seconds");
  }
  std::map<std::string, std::vector<double>> history;
  if (ctx.history_step_s > 0)
    for (const auto& name : c.services) {
      auto h = ctx.history_arrival_rps.find(name);
      if (h != ctx.history_arrival_rps.end())
        history[name] = rebin_history(h->second, ctx.history_step_s, c.step_s);
    }
  return std::make_unique<scryer::ScryerController>(std::move(c), std::move(backstop), history);
}

}  // namespace autoscale
