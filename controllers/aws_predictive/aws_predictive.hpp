#pragma once
// `aws_predictive`: EC2 Auto Scaling predictive scaling (PredictiveScalingConfiguration), stacked with an
// optional target tracking policy as AWS stacks them.
//
// The load metric is kept as hourly means: monitoring's history before the run (ControllerContext, for the
// request-count pair) and the controller's own samples, one per tick. With at least 24 hours of it (at most
// the newest 14 days are used) a forecast is made, and then every 6 hours, for the next 48 hours, hourly.
// AWS does not publish its model (its documentation says it learns daily and weekly patterns); ours forecasts
// hour H as the mean of the load at the same hour of the same weekday (H - 168 h, H - 336 h) once a week of
// history exists, else at the same hour of every day available (H - 24 h, H - 48 h, ...). Capacity forecast =
// ceil(load forecast / TargetValue) (AWS: the capacity that keeps the scaling metric at the target). The
// capacity of hour H becomes the group's minimum at H - SchedulingBufferTime and stays until the next hour's
// does: predictive scaling only scales out; scale-in is left to the dynamic policy (or to nothing: without
// one the count never falls). MaxCapacityBreachBehavior: HonorMaxCapacity caps the forecast at the group's
// maximum; IncreaseMaxCapacity lifts the maximum to ceil(forecast x (1 + MaxCapacityBuffer / 100)) when that
// is above it (AWS's example: forecast 50, max 40, buffer 10 -> effective max 55). ForecastOnly: the dynamic
// policy alone decides, the forecast is recorded in the diagnostics.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale::aws {

constexpr double kHourS = 3600;
constexpr int kMinHistoryHours = 24;
constexpr int kMaxHistoryHours = 14 * 24;
constexpr int kForecastHours = 48;
constexpr double kForecastEveryS = 6 * kHourS;

// The hourly load forecast for hours last+1 .. last+horizon: for each, the mean of `hours` at the same hour
// of the week (H - 168k, k >= 1) when H - 168 is present, else of the day (H - 24k), among those present.
// `hours`: absolute hour index (hour h covers [3600 h, 3600 (h + 1)) of simulated time) -> mean load. Hours
// with no earlier same-hour value are left out.
std::map<long, double> same_hour_forecast(const std::map<long, double>& hours, long last, int horizon);

struct PredictiveScalingConfig {
  std::vector<std::string> services;
  enum class Pair { cpu, alb_requests } pair = Pair::cpu;  // PredefinedMetricPairSpecification
  double target_value = 50;          // per instance: percent CPU, or requests per minute per target
  bool forecast_only = true;         // Mode: ForecastOnly (AWS's default) | ForecastAndScale
  double scheduling_buffer_s = 300;  // SchedulingBufferTime
  bool increase_max = false;         // MaxCapacityBreachBehavior: HonorMaxCapacity | IncreaseMaxCapacity
  double max_capacity_buffer_pct = 0;
  int max_size = -1;       // the group's MaxSize; -1: the service's max_instances
  double interval_s = 60;  // without a dynamic policy; else the policy's
};

class PredictiveScalingController : public Controller {
 public:
  // `dynamic`: the target tracking policy stacked with it (nullptr: none). `history`: per service, hourly
  // load means over the hours before t = 0 (oldest first, the last one hour -1).
  PredictiveScalingController(PredictiveScalingConfig cfg, std::unique_ptr<Controller> dynamic,
                              const std::map<std::string, std::vector<double>>& history);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return dynamic_ ? dynamic_->interval_s() : cfg_.interval_s; }

 private:
  struct State {
    std::map<long, double> hours;  // complete hours' mean load, the newest 14 days
    long open_hour = 0;            // the hour being accumulated
    double open_sum = 0;
    int open_count = 0;
    std::map<long, double> capacity;  // the current forecast's capacity per hour
    std::map<long, double> load;      // and its load
    double next_forecast_s = -1;      // -1: none made yet
  };
  void sample(State& st, const ServiceObservation& s, double t);
  PredictiveScalingConfig cfg_;
  std::unique_ptr<Controller> dynamic_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale::aws
