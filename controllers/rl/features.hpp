#pragma once
// The observation vector of reinforcement learning: what a policy sees of one service, built from the
// controllers' Observation by the RL environments (sim/rl, in training) and by the `rl` controller (in a run)
// with the same code, so that a policy sees in a run exactly what it saw in training. Engine-free.
//
// Index  name                 value (each clipped to [lo, hi]; a NaN or infinite input is 0 and sets
//                             `non_finite`)                                                      [lo, hi]
//  0     cpu_utilization      CPU delivered to ready instances / their request (pods may exceed 1)  [0, 4]
//  1     arrival_rps          arrival_rps / rps_scale                                               [0, 10]
//  2     completed_rps        completed_rps / rps_scale                                             [0, 10]
//  3     latency_p95          latency_p95_s / sla_latency_s                                         [0, 100]
//  4     queue_depth          queue_depth (per ready instance) / queue_scale                        [0, 100]
//  5     concurrency          concurrency (per ready instance) / concurrency_scale                  [0, 100]
//  6     error_rate           failed / (completed + failed)                                         [0, 1]
//  7     pending              pending instances / max_instances                                     [0, 2]
//  8     starting             starting / max_instances                                              [0, 2]
//  9     warming              warming / max_instances                                               [0, 2]
// 10     in_service           in_service / max_instances                                            [0, 2]
// 11     draining             draining / max_instances                                              [0, 2]
// 12     desired              desired / max_instances                                               [0, 2]
// 13     metrics_valid        1 when monitoring has a sample, else 0                                [0, 1]
// 14     sample_age           sample_age_s / 60                                                     [0, 60]
// 15     time_of_day_sin      sin(2 pi t / day_s)                                                   [-1, 1]
// 16     time_of_day_cos      cos(2 pi t / day_s)                                                   [-1, 1]
// 17     time_of_week_sin     sin(2 pi t / (7 day_s))                                               [-1, 1]
// 18     time_of_week_cos     cos(2 pi t / (7 day_s))                                               [-1, 1]
// 19     non_finite           1 when any input above was NaN or infinite (mapped to 0), else 0      [0, 1]
// 20+k   forecast_h<h>        only with FeatureOptions::forecast: the forecaster's median of the
//                             arrival rate h = forecast_horizons_steps[k] intervals ahead / rps_scale
//                             (before its first observation: the observed arrival rate)           [0, 10]
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controllers/forecast_feed/forecast_feed.hpp"
#include "controllers/observation.hpp"
#include "forecasters/forecaster.hpp"

namespace autoscale::rl {

// The normalisation constants. A trained model stores them in its model.json ("features"); the environment
// computes them from the scenario.
struct FeatureScales {
  double rps_scale = 1;          // e.g. max_instances x the requests per second one instance serves
  double sla_latency_s = 1;      // the scenario's [sla] latency_s
  double max_instances = 1;      // the service's max_instances in training
  double queue_scale = 1;        // e.g. the service's workers per instance
  double concurrency_scale = 1;  // e.g. the service's workers per instance

  nlohmann::json to_json() const;
  // Every key required and positive: an InputError(origin, 0, "features.scales.<key>", ...) otherwise.
  static FeatureScales from_json(const nlohmann::json& j, const std::string& origin);
};

struct FeatureOptions {
  double day_s = 86400;  // the period of the time-of-day features (a trace replayed at 24x: 3600)
  bool forecast = false;
  std::vector<int> forecast_horizons_steps = {1, 5, 15};  // in control intervals
  double interval_s = 60;  // the control interval: the forecaster is fed one arrival rate per interval

  nlohmann::json to_json() const;
  // Missing keys keep their defaults; a bad value is an InputError(origin, 0, "features.options.<key>", ...).
  static FeatureOptions from_json(const nlohmann::json& j, const std::string& origin);
};

// A feature's name and the range it is clipped to.
struct FeatureSpec {
  std::string name;
  double lo;
  double hi;
};

// The "features" object of a trained policy's model.json: what the environment encoded in training, so that
// the controller encodes the same way and knows the range the policy has seen.
//   {"names": [...], "scales": FeatureScales, "options": FeatureOptions,
//    "feature_min": [...], "feature_max": [...]}   (one per name: the least and greatest value seen)
struct FeatureRecord {
  std::vector<std::string> names;
  FeatureScales scales;
  FeatureOptions options;
  std::vector<double> feature_min;
  std::vector<double> feature_max;

  nlohmann::json to_json() const;
  // InputError(origin, 0, "features.<key>", ...) on a missing or malformed key, or arrays whose lengths
  // differ from names'.
  static FeatureRecord from_json(const nlohmann::json& j, const std::string& origin);
};

class FeatureEncoder {
 public:
  static constexpr int kBaseSize = 20;   // the features before the optional forecast block
  static constexpr int kNonFinite = 19;  // index of the non_finite flag

  // `forecaster`: required when options.forecast (an InputError on "forecaster" otherwise), ignored
  // otherwise; it must answer every horizon of options.forecast_horizons_steps. Scales must be positive.
  FeatureEncoder(std::string service, FeatureScales scales, FeatureOptions options,
                 std::unique_ptr<forecast::Forecaster> forecaster = nullptr);

  // The vector for the controlled service in `obs` (an InputError on "service" when obs has no such
  // service). With the forecast block, each call feeds the forecaster the interval's arrival rate (when the
  // metrics are valid): call it once per control interval, in time order.
  std::vector<float> encode(const Observation& obs);
  // The names of the features whose input was NaN or infinite at the last encode() (empty: none).
  const std::vector<std::string>& last_non_finite() const { return non_finite_; }

  int size() const { return static_cast<int>(specs_.size()); }
  std::vector<std::string> names() const;
  const std::vector<FeatureSpec>& specs() const { return specs_; }
  const std::string& service() const { return service_; }
  const FeatureScales& scales() const { return scales_; }
  const FeatureOptions& options() const { return options_; }

 private:
  std::string service_;
  FeatureScales scales_;
  FeatureOptions options_;
  std::vector<FeatureSpec> specs_;
  std::unique_ptr<ForecastFeed> feed_;  // with the forecast block only
  FeedSettings feed_settings_;
  std::vector<std::string> non_finite_;
};

}  // namespace autoscale::rl
