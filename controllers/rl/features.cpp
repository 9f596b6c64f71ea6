#include "controllers/rl/features.hpp"

#include <algorithm>
#include <cmath>

#include "controllers/base/error.hpp"

namespace autoscale::rl {

namespace {

constexpr double kTwoPi = 6.283185307179586;

double positive(const nlohmann::json& j, const char* key, const std::string& origin,
                const std::string& prefix) {
  if (!j.is_object() || !j.contains(key) || !j.at(key).is_number())
    throw InputError(origin, 0, prefix + key, "a positive number (missing or not a number)");
  double v = j.at(key).get<double>();
  if (!(v > 0) || !std::isfinite(v))
    throw InputError(origin, 0, prefix + key, "a positive number, got " + std::to_string(v));
  return v;
}

}  // namespace

nlohmann::json FeatureScales::to_json() const {
  return {{"rps_scale", rps_scale},
          {"sla_latency_s", sla_latency_s},
          {"max_instances", max_instances},
          {"queue_scale", queue_scale},
          {"concurrency_scale", concurrency_scale}};
}

FeatureScales FeatureScales::from_json(const nlohmann::json& j, const std::string& origin) {
  const std::string prefix = "features.scales.";
  FeatureScales s;
  s.rps_scale = positive(j, "rps_scale", origin, prefix);
  s.sla_latency_s = positive(j, "sla_latency_s", origin, prefix);
  s.max_instances = positive(j, "max_instances", origin, prefix);
  s.queue_scale = positive(j, "queue_scale", origin, prefix);
  s.concurrency_scale = positive(j, "concurrency_scale", origin, prefix);
  return s;
}

nlohmann::json FeatureOptions::to_json() const {
  return {{"day_s", day_s},
          {"forecast", forecast},
          {"forecast_horizons_steps", forecast_horizons_steps},
          {"interval_s", interval_s}};
}

FeatureOptions FeatureOptions::from_json(const nlohmann::json& j, const std::string& origin) {
  const std::string prefix = "features.options.";
  FeatureOptions o;
  if (!j.is_object()) throw InputError(origin, 0, "features.options", "an object");
  if (j.contains("day_s")) o.day_s = positive(j, "day_s", origin, prefix);
  if (j.contains("interval_s")) o.interval_s = positive(j, "interval_s", origin, prefix);
  if (j.contains("forecast")) {
    if (!j.at("forecast").is_boolean()) throw InputError(origin, 0, prefix + "forecast", "true or false");
    o.forecast = j.at("forecast").get<bool>();
  }
  if (j.contains("forecast_horizons_steps")) {
    const auto& h = j.at("forecast_horizons_steps");
    if (!h.is_array() || h.empty())
      throw InputError(origin, 0, prefix + "forecast_horizons_steps", "a non-empty array of integers >= 1");
    o.forecast_horizons_steps.clear();
    for (const auto& v : h) {
      if (!v.is_number_integer() || v.get<long>() < 1)
        throw InputError(origin, 0, prefix + "forecast_horizons_steps", "integers >= 1");
      o.forecast_horizons_steps.push_back(v.get<int>());
    }
  }
  return o;
}

nlohmann::json FeatureRecord::to_json() const {
  return {{"names", names},
          {"scales", scales.to_json()},
          {"options", options.to_json()},
          {"feature_min", feature_min},
          {"feature_max", feature_max}};
}

FeatureRecord FeatureRecord::from_json(const nlohmann::json& j, const std::string& origin) {
  if (!j.is_object()) throw InputError(origin, 0, "features", "an object (names, scales, options, ranges)");
  FeatureRecord r;
  if (!j.contains("names") || !j.at("names").is_array())
    throw InputError(origin, 0, "features.names", "an array of feature names");
  for (const auto& n : j.at("names")) {
    if (!n.is_string()) throw InputError(origin, 0, "features.names", "an array of feature names");
    r.names.push_back(n.get<std::string>());
  }
  if (!j.contains("scales")) throw InputError(origin, 0, "features.scales", "the normalisation constants");
  r.scales = FeatureScales::from_json(j.at("scales"), origin);
  if (j.contains("options")) r.options = FeatureOptions::from_json(j.at("options"), origin);
  for (const char* key : {"feature_min", "feature_max"}) {
    auto& dst = std::string(key) == "feature_min" ? r.feature_min : r.feature_max;
    const std::string field = std::string("features.") + key;
    if (!j.contains(key) || !j.at(key).is_array() || j.at(key).size() != r.names.size())
      throw InputError(origin, 0, field,
                       "an array of " + std::to_string(r.names.size()) + " numbers (one per feature name)");
    for (const auto& v : j.at(key)) {
      if (!v.is_number()) throw InputError(origin, 0, field, "numbers");
      dst.push_back(v.get<double>());
    }
  }
  for (size_t i = 0; i < r.names.size(); ++i)
    if (!(r.feature_min[i] <= r.feature_max[i]))
      throw InputError(origin, 0, "features.feature_min",
                       "feature_min <= feature_max for every feature; not for " + r.names[i]);
  return r;
}

FeatureEncoder::FeatureEncoder(std::string service, FeatureScales scales, FeatureOptions options,
                               std::unique_ptr<forecast::Forecaster> forecaster)
    : service_(std::move(service)), scales_(scales), options_(std::move(options)) {
  for (double v : {scales_.rps_scale, scales_.sla_latency_s, scales_.max_instances, scales_.queue_scale,
                   scales_.concurrency_scale})
    if (!(v > 0) || !std::isfinite(v)) throw InputError("", 0, "features.scales", "positive, finite scales");
  if (!(options_.day_s > 0)) throw InputError("", 0, "features.options.day_s", "a positive period");
  specs_ = {{"cpu_utilization", 0, 4},   {"arrival_rps", 0, 10},     {"completed_rps", 0, 10},
            {"latency_p95", 0, 100},     {"queue_depth", 0, 100},    {"concurrency", 0, 100},
            {"error_rate", 0, 1},        {"pending", 0, 2},          {"starting", 0, 2},
            {"warming", 0, 2},           {"in_service", 0, 2},       {"draining", 0, 2},
            {"desired", 0, 2},           {"metrics_valid", 0, 1},    {"sample_age", 0, 60},
            {"time_of_day_sin", -1, 1},  {"time_of_day_cos", -1, 1}, {"time_of_week_sin", -1, 1},
            {"time_of_week_cos", -1, 1}, {"non_finite", 0, 1}};
  if (options_.forecast) {
    if (!forecaster)
      throw InputError("", 0, "forecaster",
                       "a forecaster for the forecast features (features.options.forecast)");
    if (!(options_.interval_s > 0))
      throw InputError("", 0, "features.options.interval_s", "a positive interval");
    for (int h : options_.forecast_horizons_steps) {
      if (h < 1 || h > forecaster->max_horizon_steps())
        throw InputError("", 0, "features.options.forecast_horizons_steps",
                         "horizons in [1, " + std::to_string(forecaster->max_horizon_steps()) +
                             "] (the forecaster's), got " + std::to_string(h));
      specs_.push_back({"forecast_h" + std::to_string(h), 0, 10});
    }
    feed_ = std::make_unique<ForecastFeed>(std::move(forecaster));
    feed_settings_.interval_s = options_.interval_s;
    feed_settings_.warmup_intervals = 1;
  }
}

std::vector<std::string> FeatureEncoder::names() const {
  std::vector<std::string> out;
  out.reserve(specs_.size());
  for (const auto& s : specs_) out.push_back(s.name);
  return out;
}

std::vector<float> FeatureEncoder::encode(const Observation& obs) {
  const ServiceObservation* s = obs.find(service_);
  if (!s) throw InputError("", 0, "service", "a service of the observation, got '" + service_ + "'");
  non_finite_.clear();
  std::vector<double> raw = {
      s->cpu_utilization,
      s->arrival_rps / scales_.rps_scale,
      s->completed_rps / scales_.rps_scale,
      s->latency_p95_s / scales_.sla_latency_s,
      s->queue_depth / scales_.queue_scale,
      s->concurrency / scales_.concurrency_scale,
      s->error_rate,
      s->pending / scales_.max_instances,
      s->starting / scales_.max_instances,
      s->warming / scales_.max_instances,
      s->in_service / scales_.max_instances,
      s->draining / scales_.max_instances,
      s->desired / scales_.max_instances,
      s->metrics_valid ? 1.0 : 0.0,
      s->sample_age_s / 60,
      std::sin(kTwoPi * obs.time_s / options_.day_s),
      std::cos(kTwoPi * obs.time_s / options_.day_s),
      std::sin(kTwoPi * obs.time_s / (7 * options_.day_s)),
      std::cos(kTwoPi * obs.time_s / (7 * options_.day_s)),
      0.0,  // non_finite, set below
  };
  if (feed_) {
    feed_->feed(*s, obs.time_s, feed_settings_);
    if (feed_->observed() == 0) {
      for (size_t k = 0; k < options_.forecast_horizons_steps.size(); ++k)
        raw.push_back(s->arrival_rps / scales_.rps_scale);
    } else {
      forecast::Forecast f = feed_->model().predict(options_.forecast_horizons_steps, {0.5});
      for (size_t k = 0; k < options_.forecast_horizons_steps.size(); ++k)
        raw.push_back(f.at(k, 0) / scales_.rps_scale);
    }
  }
  std::vector<float> out(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    double v = raw[i];
    if (!std::isfinite(v)) {
      non_finite_.push_back(specs_[i].name);
      v = 0;
    }
    out[i] = static_cast<float>(std::clamp(v, specs_[i].lo, specs_[i].hi));
  }
  out[kNonFinite] = non_finite_.empty() ? 0.0f : 1.0f;
  return out;
}

}  // namespace autoscale::rl
