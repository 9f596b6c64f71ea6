#pragma once
// `rl`: a trained policy (a registry model) scales one service, behind a safety wrapper that hands the
// decision to a reactive fallback controller whenever the policy cannot be trusted. Every interval:
//  1. the observation is encoded (controllers/rl/features.hpp) and the fallback decides too (so that its
//     windows and counters stay current; its decision is used only when the policy's is not);
//  2. fallback when the service's metrics are invalid ("fallback:invalid_metrics"), when a feature's input
//  was
//     NaN or infinite ("fallback:non_finite:<feature>"), when a feature lies more than out_of_range_margin
//     outside the range seen in training ("fallback:out_of_range:<feature>", the first by index);
//  3. the policy acts; fallback when the action is absurd: NaN or infinite ("fallback:absurd:nan"), not a
//     whole index of a discrete space ("fallback:absurd:not_an_index"), outside its space
//     ("fallback:absurd:outside_space"), or a desired count below what carries the current load at 100 % CPU,
//     ceil(cpu_utilization x ready instances) ("fallback:absurd:below_load");
//  4. otherwise the policy's desired count ("rl"), within the safety bounds ("rl,min_instances",
//     "rl,max_instances") and rate limits ("rl,rate_limited_up", "rl,rate_limited_down").
// A fallback decision is kept within the safety bounds only. Diagnostics: raw_action, policy_desired (when
// the policy acted), fallback_desired, needed_instances (when CPU is known); on out_of_range the feature's
// value, feature_min and feature_max; strings fallback_rule and, on a fallback, the reason.
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/registry.hpp"
#include "controllers/rl/features.hpp"
#include "controllers/rl/policy.hpp"
#include "forecasters/torch/rl.hpp"

namespace autoscale::rl {

struct SafetyConfig {
  std::optional<int> min_instances;  // default: the service's
  std::optional<int> max_instances;
  std::optional<int> max_step_up;  // instances per decision; none: no limit
  std::optional<int> max_step_down;
  // How far (in feature units, after normalisation and clipping) an observation may lie outside
  // [feature_min, feature_max] of training before the fallback decides.
  double out_of_range_margin = 0.1;
  std::vector<std::string> unchecked_features;  // names exempt from the range check
  bool check_load = true;                       // the below_load check
};

struct RlConfig {
  std::string service;
  double interval_s = 60;
  SafetyConfig safety;
  // The training range, one entry per feature of the encoder (both empty: no range check).
  std::vector<double> feature_min;
  std::vector<double> feature_max;
};

class RlController : public Controller {
 public:
  // The policy's observation_size() must be the encoder's size() and the ranges (when given) as long: an
  // InputError on "model" otherwise. `fallback` is required.
  RlController(RlConfig cfg, std::shared_ptr<const Policy> policy, FeatureEncoder encoder,
               std::unique_ptr<Controller> fallback);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return cfg_.interval_s; }
  std::vector<std::string> scale_to_zero_services() const override {
    return fallback_->scale_to_zero_services();
  }
  std::map<std::string, MetricWindows> metric_windows() const override { return fallback_->metric_windows(); }
  bool wants_foresight() const override { return fallback_->wants_foresight(); }
  void set_foresight(Foresight& foresight) override { fallback_->set_foresight(foresight); }

 private:
  RlConfig cfg_;
  std::shared_ptr<const Policy> policy_;
  FeatureEncoder encoder_;
  std::unique_ptr<Controller> fallback_;
  std::vector<bool> checked_;  // per feature: range-checked
};

// A policy with its model.json (LoadedPolicy: forecasters/torch/rl.hpp), whose "features" object is a
// FeatureRecord.
using PolicyLoader = std::function<LoadedPolicy(const std::string& ref, const std::string& models_dir)>;

// The one place the registry's `rl` kind loads a policy: the LibTorch policies' loader, load_policy
// (forecasters/torch/rl.hpp; an rl_policy artifact of the model registry). InputError when it cannot.
LoadedPolicy load_registry_policy(const std::string& ref, const std::string& models_dir);

// The `rl` section (README.md), with the policy loaded by `loader` (the registry's make_rl_controller passes
// load_registry_policy; tests pass their own).
std::unique_ptr<Controller> make_rl_controller(Params& p, const ControllerContext& ctx,
                                               const PolicyLoader& loader);

}  // namespace autoscale::rl

namespace autoscale {

// The registry's factory for kind "rl" (controllers/registry.cpp): make_rl_controller with
// load_registry_policy.
std::unique_ptr<Controller> make_rl_controller(Params& p, const ControllerContext& ctx);

}  // namespace autoscale
