#pragma once
// `predictive`: scales on a forecast of the arrival rate. Every interval it feeds the observed arrival rate
// to a forecaster (any kind of forecasters/, configured inline in [controller.forecaster], or a registry
// model: `model = "name@version"`), takes the
// forecast's `quantile` at `lead_s` ahead (whole intervals), turns it into instances at `rps_per_instance`
// (configured, or estimated online from throughput and CPU), adds a buffer (a fraction, instances, and a
// multiple of the forecast's 80 % interval width), scales in only after that count has stayed below the
// current one for `scale_in_intervals` intervals and by at most `max_scale_in_step` per interval, and takes
// the max with a reactive floor (a CPU threshold rule adding `floor_step` instances) so that a missed
// forecast is still caught. Classical models refit on the series seen every `refit_intervals` intervals.
// Until the model has `warmup_intervals` observations the floor alone decides (it holds the count, or adds
// `floor_step` on a breach).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/forecast_feed/forecast_feed.hpp"
#include "forecasters/forecaster.hpp"

namespace autoscale {

struct PredictiveConfig {
  std::vector<std::string> services;
  double interval_s = 60;
  // Capacity per instance at the target utilization; 0: estimated online, each interval, as completed rps per
  // ready instance x target_utilization / cpu_utilization (an EWMA with weight capacity_alpha, from samples
  // with a ready instance at >= 5 % CPU).
  double rps_per_instance = 0;
  double target_utilization = 0.6;
  double capacity_alpha = 0.2;
  // Extra capacity for uncertainty: buffer_spread x (p90 - p10) of the forecast at the lead.
  double buffer_spread = 0;
  double quantile = 0.9;
  double lead_s = 300;
  double buffer_fraction = 0.1;
  int buffer_instances = 0;
  int scale_in_intervals = 5;
  int max_scale_in_step = 1;
  double floor_scale_out_above = 0.8;  // cpu_utilization
  int floor_step = 1;
  int refit_intervals = 60;  // 0: never refit
  FeedSettings feed;         // the forecaster's feed: interval, refits, warm-up, capacity estimate
  // Whole intervals ahead (at least one).
  int lead_steps() const;
};

class PredictiveController : public Controller {
 public:
  // One forecaster per controlled service (each service's arrivals are a series of their own).
  PredictiveController(PredictiveConfig cfg, std::map<std::string, ForecastFeed> feeds);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }

 private:
  struct State {
    ForecastFeed feed;
    int below = 0;  // consecutive intervals with the target below the current count
  };
  PredictiveConfig cfg_;
  std::map<std::string, State> state_;
};

}  // namespace autoscale
