#include "sim/cli/bench_fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "controllers/base/error.hpp"
#include "sim/cli/fork_pool.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale {

namespace {

// The compared metrics, and below what difference a metric counts as equal whatever its relative error
// (a handful of requests out of a million, a millisecond, a hundredth of a cent): relative errors of
// near-zero quantities say nothing.
struct Compared {
  const char* metric;
  double floor;
};
constexpr Compared kCompared[] = {{"latency_p95_s", 1e-3},
                                  {"latency_p99_s", 1e-3},
                                  {"sla_violation_fraction", 1e-4},
                                  {"requests_failed", 10},
                                  {"cost_usd", 1e-4}};

struct Measured {
  bool ok = false;
  std::string error;
  double wall_s = 0;
  nlohmann::json summary;
};

// Simulates `run` in a child process of its own (sim/cli/fork_pool), which sends back its summary as JSON.
Measured in_child(const RunSpec& run, const std::string& file) {
  ForkResult r = run_forked(1, 1, [&](size_t) {
                   SimulationOptions opts;
                   opts.file = file;
                   nlohmann::json out = nlohmann::json::object();
                   for (const auto& m : run_simulation(run, opts).summary) out[m.key] = m.value;
                   return out.dump();
                 }).front();
  Measured m;
  m.wall_s = r.wall_s;
  if (!r.ok) {
    m.error = r.text;
  } else {
    m.ok = true;
    m.summary = nlohmann::json::parse(r.text);
  }
  return m;
}

Fidelity fidelity_of(const std::string& name) {
  if (name == "exact") return Fidelity::exact;
  if (name == "fast") return Fidelity::fast;
  if (name == "fluid") return Fidelity::fluid;
  throw InputError("command line", 0, "--levels",
                   "unknown fidelity '" + name + "'; expected exact, fast or fluid");
}

}  // namespace

int cmd_bench_fidelity(const BenchFidelityArgs& args) {
  std::vector<std::string> levels = args.levels;
  for (const auto& l : levels) fidelity_of(l);
  if (std::find(levels.begin(), levels.end(), "exact") == levels.end())
    levels.insert(levels.begin(), "exact");
  std::vector<Scenario> scenarios;
  for (const auto& f : args.scenarios) scenarios.push_back(load_scenario(f, args.load));

  nlohmann::json runs = nlohmann::json::array();
  nlohmann::json worst = nlohmann::json::object();
  bool pass = true;
  size_t total = 0, done = 0;
  for (const auto& sc : scenarios) total += sc.runs.size() * levels.size();
  if (!args.json) {
    std::printf("%-22s %-16s %-6s %9s %8s", "scenario", "run", "level", "wall_s", "speedup");
    for (const auto& c : kCompared) std::printf(" %12.12s", c.metric);
    std::printf("\n");
  }
  for (const auto& sc : scenarios) {
    for (const RunSpec& base : sc.runs) {
      nlohmann::json row = {{"scenario", sc.name}, {"run", base.name}, {"levels", nlohmann::json::object()}};
      Measured exact;
      for (const auto& level : levels) {
        if (!args.quiet)
          std::fprintf(stderr, "bench fidelity: [%zu/%zu] %s / %s at %s\n", ++done, total, sc.name.c_str(),
                       base.name.c_str(), level.c_str());
        RunSpec run = base;
        run.fidelity = fidelity_of(level);
        Measured m = in_child(run, sc.file);
        if (!m.ok)
          throw std::runtime_error(sc.file + ": run '" + base.name + "' at " + level + ": " + m.error);
        if (level == "exact") exact = m;
        nlohmann::json lv = {{"wall_s", m.wall_s}, {"speedup", exact.wall_s / m.wall_s}};
        const bool held =
            std::find(args.report_only.begin(), args.report_only.end(), level) == args.report_only.end();
        bool level_ok = true;
        for (const auto& c : kCompared) {
          const double e = exact.summary.value(c.metric, 0.0), v = m.summary.value(c.metric, 0.0);
          const double diff = std::abs(v - e);
          const double rel = e != 0 ? diff / std::abs(e) : (diff == 0 ? 0.0 : INFINITY);
          const bool within = diff <= c.floor || rel <= args.tolerance;
          lv["metrics"][c.metric] = {{"value", v}, {"exact", e}, {"rel_error", rel}, {"within", within}};
          if (level != "exact") {
            double& w = worst[level][c.metric].is_null() ? (worst[level][c.metric] = 0.0).get_ref<double&>()
                                                         : worst[level][c.metric].get_ref<double&>();
            if (diff > c.floor) w = std::max(w, rel);
          }
          level_ok = level_ok && within;
        }
        lv["within_tolerance"] = level_ok;
        if (held && !level_ok) pass = false;
        row["levels"][level] = lv;
        if (!args.json) {
          std::printf("%-22.22s %-16.16s %-6s %9.2f %8.1f", sc.name.c_str(), base.name.c_str(), level.c_str(),
                      m.wall_s, exact.wall_s / m.wall_s);
          for (const auto& c : kCompared) {
            const auto& mm = lv["metrics"][c.metric];
            if (level == "exact")
              std::printf(" %12.4g", mm["value"].get<double>());
            else
              std::printf(" %+11.2f%%%s",
                          100 * (mm["value"].get<double>() - mm["exact"].get<double>()) /
                              std::max(std::abs(mm["exact"].get<double>()), 1e-300),
                          mm["within"].get<bool>() ? "" : "!");
          }
          std::printf("\n");
          std::fflush(stdout);
        }
      }
      runs.push_back(row);
    }
  }
  if (args.json) {
    std::cout << nlohmann::json{{"tolerance", args.tolerance},
                                {"runs", runs},
                                {"worst_rel_error", worst},
                                {"pass", pass}}
                     .dump(2)
              << "\n";
  } else {
    std::printf(
        "\nexact: the value; other levels: their difference from exact (! beyond %.0f %% and beyond the "
        "floor: 1 ms, 0.01 pp of SLA violations, 10 requests, 0.0001 USD)\n",
        100 * args.tolerance);
  }
  return pass ? 0 : 1;
}

}  // namespace autoscale
