#pragma once
// How long an instance takes from its launch request until it is ready, as the fleet times it: the phases
// launch, provision, boot and init drawn in this order, then readiness probes every period from boot end +
// initial delay (the first after init succeeds; ready after success_threshold consecutive successes). The
// fleet uses these functions for its own instances; controllers get a sample of the same distribution
// (ControllerContext::startup_samples_s) to plan with.
#include <array>
#include <map>
#include <string>
#include <vector>

#include "sim/core/random.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

// How many launch-to-ready times the engine draws per service for its controller.
constexpr int kStartupSamples = 2000;

// When the readiness probe passes: boot ended at `boot_end`, init finished at `init_done` (same clock).
double readiness_time(const StartupSpec& st, double boot_end, double init_done);
// Launch request until ready from drawn phases {launch, provision, boot, init} (seconds), with room at once
// and init's CPU taking `init_cpu_wall_s` uncontended (init lasts the longer of the two).
double startup_ready_s(const StartupSpec& st, const std::array<double, 4>& phases, double init_cpu_wall_s);
// `n` launch-to-ready times drawn from `rng` (phases drawn as the fleet draws them), sorted ascending.
std::vector<double> startup_samples_s(const StartupSpec& st, double init_cpu_wall_s, Rng& rng, int n);
// Per service of `run`: kStartupSamples sorted launch-to-ready times, from the stream
// "startup_samples/<service>" of the run's seed (its own stream: the fleet's draws are not shifted), init CPU
// at the hosts' speed uncontended.
std::map<std::string, std::vector<double>> startup_samples_s(const RunSpec& run);

}  // namespace autoscale
