#include "controllers/wrappers/composite.hpp"

#include <cmath>
#include <numeric>
#include <set>

namespace autoscale::wrappers {

// Intervals as whole milliseconds (every interval is at least 0.001 s); their gcd is the composite's tick.
long to_ms(double s) {
  return std::lround(s * 1000);
}

CompositeController::CompositeController(std::vector<std::unique_ptr<Controller>> children, double tick_s)
    : children_(std::move(children)), tick_s_(tick_s) {
  for (const auto& c : children_) every_.push_back(std::max(1L, to_ms(c->interval_s()) / to_ms(tick_s_)));
}

Decision CompositeController::decide(const Observation& obs) {
  const long k = std::lround(obs.time_s / tick_s_);  // this tick's index: ticks fall at k x tick_s
  Decision out;
  for (size_t i = 0; i < children_.size(); ++i) {
    if (k % every_[i] != 0) continue;
    Decision d = children_[i]->decide(obs);
    out.services.insert(out.services.end(), d.services.begin(), d.services.end());
    out.node_pools.insert(out.node_pools.end(), d.node_pools.begin(), d.node_pools.end());
  }
  return out;
}

std::vector<std::string> CompositeController::scale_to_zero_services() const {
  std::vector<std::string> all;
  for (const auto& c : children_) {
    auto s = c->scale_to_zero_services();
    all.insert(all.end(), s.begin(), s.end());
  }
  return all;
}

bool CompositeController::wants_foresight() const {
  for (const auto& c : children_)
    if (c->wants_foresight()) return true;
  return false;
}

void CompositeController::set_foresight(Foresight& foresight) {
  for (const auto& c : children_)
    if (c->wants_foresight()) c->set_foresight(foresight);
}

std::map<std::string, MetricWindows> CompositeController::metric_windows() const {
  std::map<std::string, MetricWindows> all;
  for (const auto& c : children_) all.merge(c->metric_windows());  // services are disjoint
  return all;
}

}  // namespace autoscale::wrappers

namespace autoscale {

std::unique_ptr<Controller> make_composite_controller(Params& p, const ControllerContext& ctx) {
  using wrappers::CompositeController;
  using wrappers::to_ms;
  std::vector<std::unique_ptr<Controller>> children;
  std::set<std::string> taken;
  long tick_ms = 0;
  auto sections = p.tables("controllers");
  if (sections.empty()) p.fail("controllers", "expected at least one [[controller.controllers]] section");
  for (auto& section : sections) {
    const std::string kind = section->string("kind", std::nullopt);
    if (kind == "composite") section->fail("kind", "a controller kind other than composite");
    if (!section->has("services"))
      section->fail("services", "the services this controller scales (required in a composite)");
    // Each child names the services it scales; a service has one controller.
    for (const std::string& s : controlled_services(*section, ctx))
      if (!taken.insert(s).second)
        section->fail("services", "service '" + s + "' is already scaled by another of the controllers");
    auto child = make_controller(kind, *section, ctx);
    section->finish();
    tick_ms = std::gcd(tick_ms, to_ms(child->interval_s()));
    children.push_back(std::move(child));
  }
  return std::make_unique<CompositeController>(std::move(children), static_cast<double>(tick_ms) / 1000);
}

}  // namespace autoscale
