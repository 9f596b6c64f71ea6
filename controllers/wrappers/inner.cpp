#include "controllers/wrappers/inner.hpp"

namespace autoscale::wrappers {

std::unique_ptr<Controller> make_inner(Params& p, const ControllerContext& ctx) {
  auto inner = p.table("inner");
  std::string kind = inner->string("kind", std::nullopt);
  auto controller = make_controller(kind, *inner, ctx);
  inner->finish();
  return controller;
}

}  // namespace autoscale::wrappers
