#include "sim/core/startup.hpp"

#include <algorithm>
#include <cmath>

namespace autoscale {

double readiness_time(const StartupSpec& st, double boot_end, double init_done) {
  double first = boot_end + st.readiness_initial_delay_s;
  double k = std::max(0.0, std::ceil((init_done - first) / st.readiness_period_s - 1e-9));
  double ready_at = first + (k + st.readiness_success_threshold - 1) * st.readiness_period_s;
  return std::max(ready_at, init_done);
}

double startup_ready_s(const StartupSpec& st, const std::array<double, 4>& phases, double init_cpu_wall_s) {
  double boot_end = phases[0] + phases[1] + phases[2];
  return readiness_time(st, boot_end, boot_end + std::max(phases[3], init_cpu_wall_s));
}

std::vector<double> startup_samples_s(const StartupSpec& st, double init_cpu_wall_s, Rng& rng, int n) {
  std::vector<double> out;
  out.reserve(static_cast<size_t>(std::max(0, n)));
  for (int i = 0; i < n; ++i) {
    std::array<double, 4> p;
    p[0] = st.launch_s.sample(rng);
    p[1] = st.provision_s.sample(rng);
    p[2] = st.boot_s.sample(rng);
    p[3] = st.init_s.sample(rng);
    out.push_back(startup_ready_s(st, p, init_cpu_wall_s));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::map<std::string, std::vector<double>> startup_samples_s(const RunSpec& run) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& s : run.services) {
    Rng rng(run.seed, "startup_samples/" + s.name);
    double init_cpu_wall_s = s.startup.init_cpu_s * run.reference_speed_gflops / run.hosts.speed_gflops;
    out[s.name] = startup_samples_s(s.startup, init_cpu_wall_s, rng, kStartupSamples);
  }
  return out;
}

}  // namespace autoscale
