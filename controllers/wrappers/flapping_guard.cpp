#include "controllers/wrappers/flapping_guard.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "controllers/wrappers/inner.hpp"

namespace autoscale::wrappers {

Decision FlappingGuard::decide(const Observation& obs) {
  Decision d = inner_->decide(obs);
  for (auto& sd : d.services) {
    const ServiceObservation* s = obs.find(sd.service);
    if (!s || std::find(services_.begin(), services_.end(), sd.service) == services_.end()) continue;
    const int current = s->desired;
    const double v = sd.metric_value;
    if (sd.desired >= current || !(v > 0) || !std::isfinite(v)) continue;
    auto projected = [&](int n) { return n > 0 ? v * current / n : std::numeric_limits<double>::infinity(); };
    int n = sd.desired;
    while (n < current && projected(n) >= threshold_) ++n;
    if (n == sd.desired) continue;
    sd.diagnostics["projected_metric"] = projected(sd.desired);
    sd.diagnostics["inner_desired"] = sd.desired;
    sd.diagnostic_strings["inner_rule"] = sd.rule;
    sd.desired = n;
    sd.rule = "flapping_guard";
  }
  return d;
}

}  // namespace autoscale::wrappers

namespace autoscale {

std::unique_ptr<Controller> make_flapping_guard_controller(Params& p, const ControllerContext& ctx) {
  auto services = controlled_services(p, ctx);
  double threshold = p.number("scaleOutThreshold", std::nullopt);
  auto inner = wrappers::make_inner(p, ctx);
  return std::make_unique<wrappers::FlappingGuard>(std::move(inner), std::move(services), threshold);
}

}  // namespace autoscale
