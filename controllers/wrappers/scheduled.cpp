#include "controllers/wrappers/scheduled.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "controllers/wrappers/inner.hpp"

namespace autoscale::wrappers {

ScheduledController::ScheduledController(std::unique_ptr<Controller> inner, std::vector<std::string> services,
                                         std::vector<ScheduledAction> actions, double epoch_s)
    : inner_(std::move(inner)),
      services_(std::move(services)),
      actions_(std::move(actions)),
      epoch_s_(epoch_s) {
  for (size_t k = 0; k < actions_.size(); ++k) next_.push_back(next_fire(k, 0));
}

std::optional<double> ScheduledController::next_fire(size_t k, double t) const {
  const ScheduledAction& a = actions_[k];
  if (!a.recurrence) {
    if (a.start_s && *a.start_s >= t) return a.start_s;
    return std::nullopt;
  }
  double from = a.start_s ? std::max(t, *a.start_s) : t;
  auto wall = a.recurrence->next_at_or_after(epoch_s_ + from, a.offset_s);
  if (!wall) return std::nullopt;
  double sim = *wall - epoch_s_;
  if (a.end_s && sim > *a.end_s) return std::nullopt;
  return sim;
}

Decision ScheduledController::decide(const Observation& obs) {
  // The actions due by now, in time order (ties: as listed).
  std::vector<std::pair<double, size_t>> due;
  for (size_t k = 0; k < actions_.size(); ++k)
    while (next_[k] && *next_[k] <= obs.time_s) {
      due.emplace_back(*next_[k], k);
      next_[k] = next_fire(k, *next_[k] + 1);
    }
  std::sort(due.begin(), due.end());
  std::optional<int> desired;
  std::string fired, rejected;
  for (const auto& [t, k] : due) {
    const ScheduledAction& a = actions_[k];
    std::optional<int> lo = a.min_size ? a.min_size : min_, hi = a.max_size ? a.max_size : max_;
    if (lo && hi && *lo > *hi) {  // AWS refuses an action that would leave MinSize above MaxSize
      rejected += (rejected.empty() ? "" : ",") + a.name;
      continue;
    }
    min_ = lo;
    max_ = hi;
    if (a.desired_capacity) desired = a.desired_capacity;
    fired += (fired.empty() ? "" : ",") + a.name;
  }

  auto wrapped = [&](const std::string& name) {
    return std::find(services_.begin(), services_.end(), name) != services_.end();
  };
  auto bounds = [&](const ServiceObservation& s) {
    int lo = min_ ? *min_ : s.min_instances;
    int hi = max_ ? *max_ : s.max_instances;
    return std::make_pair(lo, std::max(lo, hi));
  };
  Observation seen = obs;
  for (auto& s : seen.services) {
    if (!wrapped(s.name)) continue;
    auto [lo, hi] = bounds(s);
    s.min_instances = lo;
    s.max_instances = hi;
    if (desired) s.desired = std::clamp(*desired, lo, hi);
  }
  Decision inner = inner_->decide(seen);

  Decision d;
  d.node_pools = std::move(inner.node_pools);
  std::vector<std::string> answered;
  auto finish = [&](ServiceDecision sd, const ServiceObservation& s) {
    auto [lo, hi] = bounds(s);
    sd.diagnostics["min_size"] = lo;
    sd.diagnostics["max_size"] = hi;
    if (!fired.empty()) sd.diagnostic_strings["scheduled_action"] = fired;
    if (!rejected.empty()) sd.diagnostic_strings["rejected_action"] = rejected;
    if (desired) {
      sd.diagnostic_strings["inner_rule"] = sd.rule;
      sd.diagnostics["inner_desired"] = sd.desired;
      sd.desired = std::clamp(*desired, lo, hi);
      sd.rule = "scheduled_action " + fired;
    } else if (sd.desired < lo || sd.desired > hi) {
      sd.diagnostic_strings["inner_rule"] = sd.rule;
      sd.diagnostics["inner_desired"] = sd.desired;
      sd.rule = sd.desired < lo ? "scheduled_min_size" : "scheduled_max_size";
      sd.desired = std::clamp(sd.desired, lo, hi);
    }
    d.services.push_back(std::move(sd));
  };
  for (auto& sd : inner.services) {
    const ServiceObservation* s = seen.find(sd.service);
    if (!s || !wrapped(sd.service)) {
      d.services.push_back(std::move(sd));
      continue;
    }
    answered.push_back(sd.service);
    finish(std::move(sd), *s);
  }
  // Services the inner controller left alone still follow the schedule's bounds.
  for (const auto& name : services_) {
    const ServiceObservation* s = seen.find(name);
    if (!s || std::find(answered.begin(), answered.end(), name) != answered.end()) continue;
    finish(ServiceDecision{name, s->desired, "", 0, "scheduled_bounds"}, *s);
  }
  return d;
}

}  // namespace autoscale::wrappers

namespace autoscale {

std::unique_ptr<Controller> make_scheduled_controller(Params& p, const ControllerContext& ctx) {
  auto services = controlled_services(p, ctx);
  std::string start = p.string("startTime", "1970-01-01T00:00:00Z");
  auto epoch = wrappers::parse_date_time(start, 0);
  if (!epoch) p.fail("startTime", "an ISO-8601 date-time such as \"2024-03-01T00:00:00Z\"");
  auto inner = wrappers::make_inner(p, ctx);
  std::vector<wrappers::ScheduledAction> actions;
  auto tables = p.tables("actions");
  for (size_t k = 0; k < tables.size(); ++k) {
    Params& a = *tables[k];
    wrappers::ScheduledAction sa;
    sa.name = a.string("ScheduledActionName", "action-" + std::to_string(k));
    std::string tz = a.string("TimeZone", "UTC");
    auto offset = wrappers::parse_time_zone(tz);
    if (!offset)
      a.fail("TimeZone",
             "UTC or a fixed offset (\"UTC+02:00\", \"-05:00\", \"Etc/GMT-2\"); zones with daylight "
             "saving time are not supported, got \"" +
                 tz + "\"");
    sa.offset_s = *offset;
    if (a.has("Recurrence")) {
      try {
        sa.recurrence.emplace(a.string("Recurrence", std::nullopt));
      } catch (const std::invalid_argument& e) {
        a.fail("Recurrence", e.what());
      }
    }
    auto when = [&](const char* key) -> std::optional<double> {
      if (!a.has(key)) return std::nullopt;
      auto t = wrappers::parse_date_time(a.string(key, std::nullopt), sa.offset_s);
      if (!t)
        a.fail(key,
               "an ISO-8601 date-time such as \"2024-03-01T08:00:00Z\" (no zone: the action's TimeZone)");
      return *t - *epoch;
    };
    sa.start_s = when("StartTime");
    sa.end_s = when("EndTime");
    if (!sa.recurrence && !sa.start_s) a.fail("StartTime", "a StartTime (one-off) or a Recurrence");
    if (sa.end_s && !sa.recurrence) a.fail("EndTime", "an EndTime only with a Recurrence");
    if (sa.end_s && sa.start_s && *sa.end_s <= *sa.start_s) a.fail("EndTime", "an EndTime after StartTime");
    auto size = [&](const char* key) -> std::optional<int> {
      if (!a.has(key)) return std::nullopt;
      return static_cast<int>(a.integer(key, std::nullopt));
    };
    sa.min_size = size("MinSize");
    sa.max_size = size("MaxSize");
    sa.desired_capacity = size("DesiredCapacity");
    if (!sa.min_size && !sa.max_size && !sa.desired_capacity)
      a.fail("MinSize", "at least one of MinSize, MaxSize and DesiredCapacity");
    if (sa.min_size && sa.max_size && *sa.min_size > *sa.max_size) a.fail("MaxSize", "MaxSize >= MinSize");
    if (sa.desired_capacity && ((sa.min_size && *sa.desired_capacity < *sa.min_size) ||
                                (sa.max_size && *sa.desired_capacity > *sa.max_size)))
      a.fail("DesiredCapacity", "a DesiredCapacity within the action's MinSize and MaxSize");
    a.finish();
    actions.push_back(std::move(sa));
  }
  if (actions.empty()) p.fail("actions", "at least one [[controller.actions]]");
  return std::make_unique<wrappers::ScheduledController>(std::move(inner), std::move(services),
                                                         std::move(actions), *epoch);
}

}  // namespace autoscale
