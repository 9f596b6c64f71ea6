#pragma once
// Maps a scenario's `controller.kind` to a factory. Adding a controller: one file in controllers/ plus one
// line in registry.cpp.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "controllers/controller.hpp"
#include "controllers/params.hpp"

namespace autoscale {

struct ControllerContext {
  std::vector<std::string> services;  // every service of the scenario, in declaration order
  // The directory of the file the controller was read from: relative paths in its keys (a forecaster's
  // registry model) are resolved against it. Empty: the working directory.
  std::string base_dir = {};
  // What monitoring already holds when the run starts ([monitoring] history_s): each service's arrival rate
  // (1/s) over [-n * history_step_s, 0), one mean per step, oldest first. Empty: no history.
  double history_step_s = 0;
  std::map<std::string, std::vector<double>> history_arrival_rps = {};
  // Each service's launch request -> ready time (s), a sample of the scenario's startup distribution sorted
  // ascending (drawn from its own stream: the run's other streams are not shifted; no contention for room or
  // CPU). Empty when unknown (`autoscale decide`).
  std::map<std::string, std::vector<double>> startup_samples_s = {};
};

using ControllerFactory = std::unique_ptr<Controller> (*)(Params&, const ControllerContext&);

// Throws InputError (via params.fail("kind", ...)) for an unknown kind.
std::unique_ptr<Controller> make_controller(const std::string& kind, Params& params,
                                            const ControllerContext& ctx);
std::vector<std::string> controller_kinds();

// The factories, one per controller family.
std::unique_ptr<Controller> make_static_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_threshold_controller(Params&, const ControllerContext&);
// AWS EC2 Auto Scaling (controllers/aws/) and the wrappers around any controller (controllers/wrappers/).
std::unique_ptr<Controller> make_aws_target_tracking_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_aws_step_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_scheduled_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_flapping_guard_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_composite_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_hpa_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_kpa_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_keda_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_predictive_controller(Params&,
                                                       const ControllerContext&);  // controllers/predictive/
std::unique_ptr<Controller> make_oracle_controller(Params&, const ControllerContext&);  // controllers/oracle/
std::unique_ptr<Controller> make_mpc_controller(Params&, const ControllerContext&);     // controllers/mpc/
std::unique_ptr<Controller> make_vote_controller(Params&, const ControllerContext&);    // controllers/vote/
std::unique_ptr<Controller> make_event_controller(Params&, const ControllerContext&);   // controllers/event/
// controllers/aws_predictive/, controllers/scryer/
std::unique_ptr<Controller> make_aws_predictive_controller(Params&, const ControllerContext&);
std::unique_ptr<Controller> make_scryer_controller(Params&, const ControllerContext&);

// Helper shared by factories: the `services` key, checked against the scenario's services (default: all).
std::vector<std::string> controlled_services(Params& params, const ControllerContext& ctx);
// The same, for controllers that scale one target unless told otherwise (a Kubernetes object's
// scaleTargetRef): by default the first service.
std::vector<std::string> controlled_services_or_first(Params& params, const ControllerContext& ctx);

}  // namespace autoscale
