#pragma once
// The controller a wrapper (`scheduled`, `flapping_guard`) wraps: `[controller.inner]`, a controller section
// of its own with its own `kind`, read with the same checks (its keys have the ranges of a top-level
// controller's).
#include <memory>

#include "controllers/registry.hpp"

namespace autoscale::wrappers {

std::unique_ptr<Controller> make_inner(Params& p, const ControllerContext& ctx);

}  // namespace autoscale::wrappers
