#include "controllers/registry.hpp"

#include <algorithm>

#include "controllers/base/error.hpp"
#include "controllers/rl/rl_controller.hpp"

namespace autoscale {

namespace {
struct Entry {
  const char* kind;
  ControllerFactory factory;
};
const Entry kRegistry[] = {
    {"static", &make_static_controller},
    {"threshold", &make_threshold_controller},
    {"aws_simple", &make_threshold_controller},  // `threshold` is AWS simple scaling: its documented name
    {"aws_target_tracking", &make_aws_target_tracking_controller},
    {"aws_step", &make_aws_step_controller},
    {"scheduled", &make_scheduled_controller},
    {"flapping_guard", &make_flapping_guard_controller},
    {"composite", &make_composite_controller},
    {"hpa", &make_hpa_controller},
    {"kpa", &make_kpa_controller},
    {"keda", &make_keda_controller},
    {"predictive", &make_predictive_controller},
    {"oracle", &make_oracle_controller},
    {"mpc", &make_mpc_controller},
    {"vote", &make_vote_controller},
    {"event", &make_event_controller},
    {"aws_predictive", &make_aws_predictive_controller},
    {"scryer", &make_scryer_controller},
    {"rl", &make_rl_controller},  // controllers/rl/
};
}  // namespace

std::vector<std::string> controller_kinds() {
  std::vector<std::string> kinds;
  for (const auto& e : kRegistry) kinds.emplace_back(e.kind);
  return kinds;
}

std::unique_ptr<Controller> make_controller(const std::string& kind, Params& params,
                                            const ControllerContext& ctx) {
  for (const auto& e : kRegistry)
    if (kind == e.kind) return e.factory(params, ctx);
  std::string expected = "a controller kind, one of:";
  for (const auto& k : controller_kinds()) expected += " " + k;
  std::string hint = closest_match(kind, controller_kinds());
  if (!hint.empty()) expected += " (did you mean '" + hint + "'?)";
  params.fail("kind", "unknown kind '" + kind + "'; expected " + expected);
}

std::vector<std::string> controlled_services(Params& params, const ControllerContext& ctx) {
  auto names = params.strings("services", ctx.services);
  for (const auto& n : names)
    if (std::find(ctx.services.begin(), ctx.services.end(), n) == ctx.services.end())
      params.fail("services", "unknown service '" + n + "'");
  return names;
}

std::vector<std::string> controlled_services_or_first(Params& params, const ControllerContext& ctx) {
  if (params.has("services")) return controlled_services(params, ctx);
  if (ctx.services.empty()) params.fail("services", "a service to scale");
  return {ctx.services.front()};
}

}  // namespace autoscale
