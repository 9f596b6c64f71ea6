#include "controllers/rl/rl_controller.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/rl/action.hpp"
#include "forecasters/store/model_store.hpp"

namespace autoscale::rl {

RlController::RlController(RlConfig cfg, std::shared_ptr<const Policy> policy, FeatureEncoder encoder,
                           std::unique_ptr<Controller> fallback)
    : cfg_(std::move(cfg)),
      policy_(std::move(policy)),
      encoder_(std::move(encoder)),
      fallback_(std::move(fallback)) {
  if (!policy_) throw InputError("", 0, "model", "a policy");
  if (!fallback_) throw InputError("", 0, "fallback", "a fallback controller section");
  if (policy_->observation_size() != encoder_.size())
    throw InputError("", 0, "model",
                     "a policy over " + std::to_string(encoder_.size()) + " features, got one over " +
                         std::to_string(policy_->observation_size()));
  const bool ranged = !cfg_.feature_min.empty() || !cfg_.feature_max.empty();
  if (ranged && (cfg_.feature_min.size() != static_cast<size_t>(encoder_.size()) ||
                 cfg_.feature_max.size() != static_cast<size_t>(encoder_.size())))
    throw InputError("", 0, "model", "a training range (feature_min, feature_max) per feature");
  const auto names = encoder_.names();
  for (const auto& u : cfg_.safety.unchecked_features)
    if (std::find(names.begin(), names.end(), u) == names.end())
      throw InputError("", 0, "safety.unchecked_features", "feature names, got '" + u + "'");
  checked_.assign(names.size(), ranged);
  for (size_t i = 0; i < names.size(); ++i)
    if (std::find(cfg_.safety.unchecked_features.begin(), cfg_.safety.unchecked_features.end(), names[i]) !=
        cfg_.safety.unchecked_features.end())
      checked_[i] = false;
}

Decision RlController::decide(const Observation& obs) {
  Decision d;
  const ServiceObservation* s = obs.find(cfg_.service);
  if (!s) return d;
  const std::vector<float> x = encoder_.encode(obs);
  const Decision fallback_decision = fallback_->decide(obs);
  const ServiceDecision* fb = nullptr;
  for (const auto& sd : fallback_decision.services)
    if (sd.service == cfg_.service) fb = &sd;

  const int current = s->desired;
  const int lo = cfg_.safety.min_instances.value_or(s->min_instances);
  const int hi = std::max(lo, cfg_.safety.max_instances.value_or(s->max_instances));
  ServiceDecision out{cfg_.service, current, "policy_action", 0, "rl"};
  const int fallback_desired = fb ? fb->desired : current;
  out.diagnostics["fallback_desired"] = fallback_desired;
  out.diagnostic_strings["fallback_rule"] = fb ? fb->rule : "none";

  auto use_fallback = [&](const std::string& why) {
    out.desired = std::clamp(fallback_desired, lo, hi);
    out.rule = "fallback:" + why;
    if (fb) {
      out.metric = fb->metric;
      out.metric_value = fb->metric_value;
      out.activator_in_path = fb->activator_in_path;
    }
    d.services.push_back(out);
    return d;
  };

  if (!s->metrics_valid) return use_fallback("invalid_metrics");
  if (!encoder_.last_non_finite().empty()) return use_fallback("non_finite:" + encoder_.last_non_finite()[0]);
  const double margin = cfg_.safety.out_of_range_margin;
  for (size_t i = 0; i < x.size(); ++i) {
    if (!checked_[i]) continue;
    const double v = x[i];
    if (v < cfg_.feature_min[i] - margin || v > cfg_.feature_max[i] + margin) {
      const std::string& name = encoder_.specs()[i].name;
      out.diagnostics[name] = v;
      out.diagnostics["feature_min"] = cfg_.feature_min[i];
      out.diagnostics["feature_max"] = cfg_.feature_max[i];
      return use_fallback("out_of_range:" + name);
    }
  }

  // What the ready instances would need to carry the current load if each ran at 100 % CPU.
  const int needed =
      static_cast<int>(std::min<double>(std::ceil(s->cpu_utilization * s->ready() - 1e-9), s->max_instances));
  out.diagnostics["needed_instances"] = needed;

  const ActionSpace space = policy_->action_space();
  const double action = policy_->act(x);
  if (std::isfinite(action)) {
    out.diagnostics["raw_action"] = action;
    out.metric_value = action;
  }
  if (std::string problem = action_problem(space, action); !problem.empty())
    return use_fallback("absurd:" + problem);
  const int policy_desired = apply_action(space, action, current, s->min_instances, s->max_instances);
  out.diagnostics["policy_desired"] = policy_desired;
  if (cfg_.safety.check_load && policy_desired < needed) return use_fallback("absurd:below_load");

  int desired = policy_desired;
  if (cfg_.safety.max_step_up && desired > current + *cfg_.safety.max_step_up) {
    desired = current + *cfg_.safety.max_step_up;
    out.rule += ",rate_limited_up";
  }
  if (cfg_.safety.max_step_down && desired < current - *cfg_.safety.max_step_down) {
    desired = current - *cfg_.safety.max_step_down;
    out.rule += ",rate_limited_down";
  }
  if (desired < lo) out.rule += ",min_instances";
  if (desired > hi) out.rule += ",max_instances";
  out.desired = std::clamp(desired, lo, hi);
  d.services.push_back(out);
  return d;
}

LoadedPolicy load_registry_policy(const std::string& ref, const std::string& models_dir) {
  return load_policy(ref, models_dir);
}

namespace {

std::optional<int> optional_count(Params& p, const std::string& key, int least) {
  if (!p.has(key)) return std::nullopt;
  long v = p.integer(key, std::nullopt);
  if (v < least || v > 10000) p.fail(key, "an integer in [" + std::to_string(least) + ", 10000]");
  return static_cast<int>(v);
}

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

std::unique_ptr<Controller> make_rl_controller(Params& p, const ControllerContext& ctx,
                                               const PolicyLoader& loader) {
  namespace fs = std::filesystem;
  RlConfig c;
  if (ctx.services.empty()) p.fail("service", "a service to scale");
  c.service = p.string("service", ctx.services.front());
  if (std::find(ctx.services.begin(), ctx.services.end(), c.service) == ctx.services.end())
    p.fail("service", "a service of the scenario, got '" + c.service + "'");

  // The policy and what it was trained on.
  std::string ref = p.string("model", std::nullopt);
  std::string models_dir = forecast::default_models_dir();
  if (p.has("models_dir")) {
    fs::path dir = p.string("models_dir", std::nullopt);
    models_dir = (dir.is_absolute() || ctx.base_dir.empty() ? dir : fs::path(ctx.base_dir) / dir)
                     .lexically_normal()
                     .string();
  }
  if (ref.find('/') != std::string::npos && !fs::path(ref).is_absolute() && !ctx.base_dir.empty())
    ref = (fs::path(ctx.base_dir) / ref).lexically_normal().string();
  LoadedPolicy loaded;
  FeatureRecord record;
  try {
    loaded = loader(ref, models_dir);
    if (!loaded.policy) p.fail("model", "a policy (the loader returned none for \"" + ref + "\")");
    if (!loaded.meta.is_object() || !loaded.meta.contains("features"))
      p.fail("model", "a policy whose model.json has a \"features\" object (the observation encoding)");
    record = FeatureRecord::from_json(loaded.meta.at("features"), ref + " (model.json)");
  } catch (const InputError& e) {
    if (e.file().empty()) p.fail("model", e.message());
    throw;
  }

  c.interval_s = p.number("interval_s", record.options.interval_s);
  if (!(c.interval_s > 0)) p.fail("interval_s", "a positive interval in seconds");
  if (std::abs(c.interval_s - record.options.interval_s) > 1e-9 * record.options.interval_s)
    p.fail("interval_s", "the policy's control interval, " + seconds_text(record.options.interval_s) +
                             " s in training (leave it out to use it)");

  if (p.has("safety")) {
    auto sp = p.table("safety");
    SafetyConfig& sc = c.safety;
    sc.min_instances = optional_count(*sp, "min_instances", 0);
    sc.max_instances = optional_count(*sp, "max_instances", 0);
    if (sc.min_instances && sc.max_instances && *sc.max_instances < *sc.min_instances)
      sp->fail("max_instances", "at least min_instances");
    sc.max_step_up = optional_count(*sp, "max_step_up", 1);
    sc.max_step_down = optional_count(*sp, "max_step_down", 1);
    sc.out_of_range_margin = sp->number("out_of_range_margin", sc.out_of_range_margin);
    if (!(sc.out_of_range_margin >= 0)) sp->fail("out_of_range_margin", "a non-negative margin");
    sc.unchecked_features = sp->strings("unchecked_features", {});
    for (const auto& u : sc.unchecked_features)
      if (std::find(record.names.begin(), record.names.end(), u) == record.names.end()) {
        std::string hint = closest_match(u, record.names);
        sp->fail("unchecked_features", "names of the policy's features, got '" + u + "'" +
                                           (hint.empty() ? "" : " (did you mean '" + hint + "'?)"));
      }
    sc.check_load = sp->boolean("check_load", true);
    sp->finish();
  }
  c.feature_min = record.feature_min;
  c.feature_max = record.feature_max;

  std::unique_ptr<forecast::Forecaster> forecaster;
  if (record.options.forecast) {
    if (p.has("forecaster")) {
      auto fp = p.table("forecaster");
      forecaster = forecast::forecaster_from_section(*fp, forecast::default_models_dir(), ctx.base_dir);
    } else {
      MapParams none;
      forecaster = forecast::make_forecaster("naive", none);
    }
  }
  std::unique_ptr<FeatureEncoder> encoder;
  try {
    encoder =
        std::make_unique<FeatureEncoder>(c.service, record.scales, record.options, std::move(forecaster));
  } catch (const InputError& e) {
    if (e.file().empty()) p.fail(record.options.forecast ? "forecaster" : "model", e.message());
    throw;
  }
  if (encoder->names() != record.names)
    p.fail("model", "a policy over this build's features (" + std::to_string(encoder->size()) +
                        "); its model.json lists " + std::to_string(record.names.size()) +
                        " features that differ (trained by another version?)");

  if (!p.has("fallback"))
    p.fail("fallback",
           "a [controller.fallback] section: the reactive controller used "
           "when the policy cannot be trusted");
  ControllerContext fallback_ctx = ctx;
  fallback_ctx.services = {c.service};
  auto fsec = p.table("fallback");
  std::string kind = fsec->string("kind", std::nullopt);
  if (kind == "rl") fsec->fail("kind", "a reactive controller (not another rl)");
  auto fallback = make_controller(kind, *fsec, fallback_ctx);
  fsec->finish();

  try {
    return std::make_unique<RlController>(std::move(c), std::move(loaded.policy), std::move(*encoder),
                                          std::move(fallback));
  } catch (const InputError& e) {
    if (e.file().empty()) p.fail(e.field() == "model" ? "model" : "safety", e.message());
    throw;
  }
}

}  // namespace autoscale::rl

namespace autoscale {

std::unique_ptr<Controller> make_rl_controller(Params& p, const ControllerContext& ctx) {
  return rl::make_rl_controller(p, ctx, &rl::load_registry_policy);
}

}  // namespace autoscale
