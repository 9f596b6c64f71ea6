// `static`: holds each controlled service at a fixed instance count (a baseline to compare autoscalers
// against).
#include "controllers/registry.hpp"

namespace autoscale {

namespace {
class StaticController : public Controller {
 public:
  StaticController(std::vector<std::string> services, int instances, double interval_s)
      : services_(std::move(services)), instances_(instances), interval_s_(interval_s) {}

  Decision decide(const Observation&) override {
    Decision d;
    for (const auto& s : services_) d.services.push_back({s, instances_, "", 0, "static"});
    return d;
  }
  double interval_s() const override { return interval_s_; }

 private:
  std::vector<std::string> services_;
  int instances_;
  double interval_s_;
};
}  // namespace

std::unique_ptr<Controller> make_static_controller(Params& p, const ControllerContext& ctx) {
  auto services = controlled_services(p, ctx);
  long instances = p.integer("instances", std::nullopt);
  if (instances < 0) p.fail("instances", "a non-negative instance count");
  double interval_s = p.number("interval_s", 60.0);
  if (interval_s <= 0) p.fail("interval_s", "a positive interval in seconds");
  return std::make_unique<StaticController>(std::move(services), static_cast<int>(instances), interval_s);
}

}  // namespace autoscale
