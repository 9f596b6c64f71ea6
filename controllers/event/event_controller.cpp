#include "controllers/event/event_controller.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "controllers/event/startup_quantile.hpp"
#include "controllers/registry.hpp"
#include "controllers/wrappers/inner.hpp"

namespace autoscale {

namespace {
constexpr double kTimeEps = 1e-6;  // ticks are sums of intervals: a tick a hair past a boundary is on it
}

EventController::EventController(std::vector<std::string> services, std::vector<CalendarEvent> events,
                                 std::vector<std::map<std::string, double>> leads,
                                 std::unique_ptr<Controller> inner, double interval_s)
    : services_(std::move(services)),
      events_(std::move(events)),
      leads_(std::move(leads)),
      inner_(std::move(inner)),
      interval_s_(inner_ ? inner_->interval_s() : interval_s),
      active_(events_.size()) {}

std::optional<long> EventController::occurrence(size_t e, double lead_s, double t) const {
  const CalendarEvent& ev = events_[e];
  const double begin = ev.start_s - lead_s - interval_s_;  // exclusive
  auto holds = [&](long k) {
    double shift = static_cast<double>(k) * ev.every_s;
    return k >= 0 && t > begin + shift + kTimeEps && t < ev.end_s + shift - kTimeEps;
  };
  if (ev.every_s <= 0) return holds(0) ? std::optional<long>(0) : std::nullopt;
  long k = static_cast<long>(std::floor((t - begin) / ev.every_s));
  for (long j : {k, k - 1})
    if (holds(j)) return j;
  return std::nullopt;
}

Decision EventController::decide(const Observation& obs) {
  Decision inner;
  if (inner_) inner = inner_->decide(obs);
  Decision d;
  d.node_pools = std::move(inner.node_pools);
  std::map<std::string, ServiceDecision> answers;
  for (auto& sd : inner.services) {
    if (std::find(services_.begin(), services_.end(), sd.service) == services_.end())
      d.services.push_back(std::move(sd));
    else
      answers[sd.service] = std::move(sd);
  }
  for (const auto& name : services_) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    if (!inner_ && !initial_.count(name)) initial_[name] = s->desired;
    auto it = answers.find(name);
    const bool answered = it != answers.end();
    ServiceDecision sd = answered ? it->second
                         : inner_ ? ServiceDecision{name, s->desired, "", 0, "inner_hold"}
                                  : ServiceDecision{name, initial_[name], "", 0, "event_baseline"};
    int capacity = -1;
    std::string which;
    double lead_used = 0;
    bool started = false;
    for (size_t e = 0; e < events_.size(); ++e) {
      const CalendarEvent& ev = events_[e];
      auto lead = leads_[e].find(name);
      if (lead == leads_[e].end()) continue;  // not one of its services
      std::optional<long> k = occurrence(e, lead->second, obs.time_s);
      if (!k) continue;
      Active& a = active_[e][name];
      if (a.occurrence != *k) a = Active{*k, s->desired};
      int c = ev.instances ? *ev.instances : static_cast<int>(std::ceil(*ev.multiplier * a.base - 1e-9));
      if (c > capacity) {
        capacity = c;
        which = ev.name;
        lead_used = lead->second;
        started = obs.time_s >= ev.start_s + static_cast<double>(*k) * ev.every_s - kTimeEps;
      }
    }
    if (capacity >= 0) {
      int c = std::clamp(capacity, s->min_instances, std::max(s->min_instances, s->max_instances));
      sd.diagnostics["event_instances"] = c;
      sd.diagnostics["lead_s"] = lead_used;
      sd.diagnostic_strings["event"] = which;
      if (c > sd.desired) {
        sd.diagnostic_strings["inner_rule"] = sd.rule;
        sd.diagnostics["inner_desired"] = sd.desired;
        sd.desired = c;
        sd.rule = started ? "event" : "event_prewarm";
      }
    }
    if (answered || capacity >= 0 || !inner_) d.services.push_back(std::move(sd));
  }
  return d;
}

std::vector<std::string> EventController::scale_to_zero_services() const {
  return inner_ ? inner_->scale_to_zero_services() : std::vector<std::string>{};
}

std::map<std::string, MetricWindows> EventController::metric_windows() const {
  return inner_ ? inner_->metric_windows() : std::map<std::string, MetricWindows>{};
}

std::unique_ptr<Controller> make_event_controller(Params& p, const ControllerContext& ctx) {
  auto services = controlled_services(p, ctx);
  std::unique_ptr<Controller> inner;
  double interval_s = 60;
  if (p.has("inner")) {
    inner = wrappers::make_inner(p, ctx);
    if (p.has("interval_s"))
      p.fail("interval_s",
             "no interval_s with a [controller.inner]: the event ticks at the inner controller's");
  } else {
    interval_s = p.number("interval_s", 60.0);
  }
  auto tables = p.tables("events");
  if (tables.empty()) p.fail("events", "at least one [[controller.events]] section");
  std::vector<CalendarEvent> events;
  std::vector<std::map<std::string, double>> leads;
  for (size_t i = 0; i < tables.size(); ++i) {
    Params& a = *tables[i];
    CalendarEvent ev;
    ev.name = a.string("name", "event-" + std::to_string(i + 1));
    ev.start_s = a.number("start_s", std::nullopt);
    if (a.has("end_s") == a.has("duration_s")) a.fail("end_s", "either end_s or duration_s (one of them)");
    ev.end_s =
        a.has("end_s") ? a.number("end_s", std::nullopt) : ev.start_s + a.number("duration_s", std::nullopt);
    if (!(ev.end_s > ev.start_s)) a.fail("end_s", "an end_s after start_s");
    if (a.has("services")) {
      ev.services = controlled_services(a, ctx);
      for (const auto& s : ev.services)
        if (std::find(services.begin(), services.end(), s) == services.end())
          a.fail("services", "services the event controller scales ('" + s + "' is not among them)");
    } else {
      ev.services = services;
    }
    if (a.has("instances") == a.has("multiplier"))
      a.fail("instances", "either instances or multiplier (one of them)");
    if (a.has("instances")) ev.instances = static_cast<int>(a.integer("instances", std::nullopt));
    if (a.has("multiplier")) ev.multiplier = a.number("multiplier", std::nullopt);
    if (a.has("lead_s")) ev.lead_s = a.number("lead_s", std::nullopt);
    ev.lead_quantile = a.number("lead_quantile", 0.95);
    if (!(ev.lead_quantile > 0 && ev.lead_quantile <= 1)) a.fail("lead_quantile", "a probability in (0, 1]");
    if (ev.lead_s && a.has("lead_quantile")) a.fail("lead_quantile", "lead_s or lead_quantile, not both");
    ev.every_s = a.has("every_s") ? a.number("every_s", std::nullopt) : 0;
    if (a.has("every_s") && !(ev.every_s >= ev.end_s - ev.start_s))
      a.fail("every_s", "a period at least the event's duration (occurrences must not overlap)");
    a.finish();
    std::map<std::string, double> lead;
    for (const auto& s : ev.services)
      lead[s] =
          ev.lead_s ? *ev.lead_s : startup_quantile_s(ctx.startup_samples_s, s, ev.lead_quantile).value_or(0);
    leads.push_back(std::move(lead));
    events.push_back(std::move(ev));
  }
  return std::make_unique<EventController>(std::move(services), std::move(events), std::move(leads),
                                           std::move(inner), interval_s);
}

}  // namespace autoscale
