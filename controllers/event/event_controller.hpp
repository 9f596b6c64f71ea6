#pragma once
// `event`: calendar events known in advance (a campaign, a launch), `[[controller.events]]`, each raising its
// services to a capacity for [start_s, end_s) and pre-warming it: the capacity is ordered at the last tick at
// or before start_s - lead, so that it is ready at start_s. The lead is `lead_s`, else the `lead_quantile`
// (default 0.95) of the service's launch -> ready time, from the scenario's startup distribution
// (ControllerContext::startup_samples_s; 0 when unknown). An event's capacity is `instances`, or
// ceil(`multiplier` x the count the service had at its pre-warm tick). During [pre-warm, end_s) a service's
// count is max(the inner controller's answer, the capacity), within its bounds; after end_s the inner
// controller (`[controller.inner]`, any kind) decides again from the count the event left. Without an inner
// controller the services are held at the counts they had at the first tick (a static baseline). `every_s`
// repeats an event every so many seconds (occurrence k: every time shifted by k x every_s).
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale {

struct CalendarEvent {
  std::string name;
  std::vector<std::string> services;
  double start_s = 0;
  double end_s = 0;
  std::optional<int> instances;      // either this ...
  std::optional<double> multiplier;  // ... or this
  std::optional<double> lead_s;      // else the lead_quantile of the startup sample
  double lead_quantile = 0.95;
  double every_s = 0;  // > 0: recurs
};

class EventController : public Controller {
 public:
  // `leads[e][service]`: event e's lead for a service (seconds). `inner`: may be null (a static baseline).
  EventController(std::vector<std::string> services, std::vector<CalendarEvent> events,
                  std::vector<std::map<std::string, double>> leads, std::unique_ptr<Controller> inner,
                  double interval_s);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return interval_s_; }
  std::vector<std::string> scale_to_zero_services() const override;
  std::map<std::string, MetricWindows> metric_windows() const override;
  bool wants_foresight() const override { return inner_ && inner_->wants_foresight(); }
  void set_foresight(Foresight& foresight) override {
    if (inner_) inner_->set_foresight(foresight);
  }

 private:
  // The occurrence of event e whose window [start - lead - interval, end) (open at the left: its first
  // tick is the last one at or before start - lead) holds t; nullopt: none.
  std::optional<long> occurrence(size_t e, double lead_s, double t) const;
  struct Active {
    long occurrence = -1;
    int base = 0;  // the count at the occurrence's pre-warm tick
  };
  std::vector<std::string> services_;
  std::vector<CalendarEvent> events_;
  std::vector<std::map<std::string, double>> leads_;
  std::unique_ptr<Controller> inner_;
  double interval_s_;
  std::map<std::string, int> initial_;                 // no inner: the counts at the first tick
  std::vector<std::map<std::string, Active>> active_;  // per event, by service
};

}  // namespace autoscale
