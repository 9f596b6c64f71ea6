#include "sim/cli/calibrate.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "controllers/base/error.hpp"
#include "controllers/registry.hpp"
#include "sim/analysis/attribution.hpp"
#include "sim/cli/expectations.hpp"
#include "sim/cli/fork_pool.hpp"
#include "sim/cli/run_pool.hpp"
#include "sim/core/metrics.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/scenario/calibrate_loader.hpp"
#include "sim/scenario/key_ranges.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

namespace {

// SLA-violation seconds of a run: over the record intervals, each interval's length times the fraction of the
// end-user requests that arrived in it and violated the SLA (failed, slower than [sla] latency_s, or still in
// flight at the end for longer).
double violation_seconds(const RunResult& r) {
  const std::vector<double> fraction = sla_violation_fractions(r);  // per record interval (sim/analysis)
  double total = 0, t0 = 0;
  for (size_t i = 0; i < fraction.size(); ++i) {
    total += (r.time_s[i] - t0) * fraction[i];
    t0 = r.time_s[i];
  }
  return total;
}

struct Cell {  // one run of one grid point
  double objective = 0, cost_usd = 0, violation_s = 0, changes = 0, sla_violation_fraction = 0;
};

// The file read, every scenario at every seed loaded and every grid point's controller section checked
// against the first run's services (a point the controller refuses, say scale_in_below above
// scale_out_above, is skipped and reported): everything before anything runs (bad input: exit 2).
struct Prepared {
  CalibrationPlan plan;
  std::vector<RunSpec> runs;
  std::vector<std::string> sections, invalid;
  std::vector<size_t> valid;
};

Prepared prepare(const std::string& file) {
  Prepared p;
  p.plan = load_calibration(file);
  const CalibrationPlan& plan = p.plan;
  std::vector<RunSpec>& runs = p.runs;
  for (size_t k = 0; k < plan.scenario_paths.size(); ++k) {
    std::vector<std::optional<uint64_t>> seeds;
    if (plan.seeds.empty()) seeds.push_back(std::nullopt);
    for (uint64_t s : plan.seeds) seeds.push_back(s);
    for (const auto& seed : seeds) {
      LoadOptions load;
      load.set = plan.set;
      load.seed = seed;
      Scenario sc = load_scenario(plan.scenario_paths[k], load);
      for (RunSpec& r : sc.runs) {
        r.fidelity = plan.fidelity == "exact"   ? Fidelity::exact
                     : plan.fidelity == "fluid" ? Fidelity::fluid
                                                : Fidelity::fast;
        runs.push_back(r);
      }
    }
  }
  const size_t points = plan.points();
  p.sections.resize(points);
  p.invalid.resize(points);
  for (size_t i = 0; i < points; ++i) {
    p.sections[i] = calibration_controller_toml(plan, i);
    try {
      auto params =
          parse_controller_toml(p.sections[i], file + " [controller] at grid point " + std::to_string(i + 1));
      params->string("kind", std::nullopt);  // read by the scenario loader, not the factory
      ControllerContext ctx;
      for (const auto& s : runs.front().services) ctx.services.push_back(s.name);
      ctx.base_dir = runs.front().controller.base_dir;
      make_controller(plan.kind, *params, ctx);
      params->finish();
    } catch (const InputError& e) {
      p.invalid[i] = e.field() + ": " + e.message();
    }
  }
  for (size_t i = 0; i < points; ++i)
    if (p.invalid[i].empty()) p.valid.push_back(i);
  if (p.valid.empty())
    throw InputError(plan.file, 0, "grid",
                     "every grid point is refused by the controller; first: " + p.invalid[0]);
  return p;
}

}  // namespace

int cmd_validate_calibrate(const std::string& file) {
  Prepared p = prepare(file);
  std::cout << file << ": ok (" << p.plan.points() << " grid points, " << p.plan.points() - p.valid.size()
            << " refused by the controller; " << p.runs.size() << " runs each)\n";
  return 0;
}

int cmd_calibrate(const CalibrateArgs& args) {
  const Prepared prepared = prepare(args.file);
  const CalibrationPlan& plan = prepared.plan;
  const std::vector<RunSpec>& runs = prepared.runs;
  const std::vector<std::string>& sections = prepared.sections;
  const std::vector<std::string>& invalid = prepared.invalid;
  const std::vector<size_t>& valid = prepared.valid;
  const size_t points = plan.points();

  const bool bar = !args.quiet && isatty(STDERR_FILENO);
  // Every valid point on every run, then [controller] as written (the baseline the search improves on).
  const size_t tasks = (valid.size() + 1) * runs.size();
  std::vector<ForkResult> results = run_forked(
      tasks, default_jobs(args.jobs),
      [&](size_t t) {
        const size_t v = t / runs.size();
        RunSpec run = runs[t % runs.size()];
        run.controller.kind = plan.kind;
        run.controller.params =
            parse_controller_toml(v < valid.size() ? sections[valid[v]] : plan.template_toml, args.file);
        run.controller.params->string("kind", std::nullopt);
        RunResult r = run_simulation(run, SimulationOptions{});
        Cell c;
        c.cost_usd = find_metric(r.summary, "cost_usd")->value;
        c.violation_s = violation_seconds(r);
        c.changes = find_metric(r.summary, "scaling_actions")->value;
        c.sla_violation_fraction = find_metric(r.summary, "sla_violation_fraction")->value;
        return nlohmann::json{{"cost_usd", c.cost_usd},
                              {"violation_s", c.violation_s},
                              {"changes", c.changes},
                              {"sla_violation_fraction", c.sla_violation_fraction}}
            .dump();
      },
      [&](size_t done, size_t total) {
        if (bar) std::fprintf(stderr, "\rcalibrate: %zu / %zu runs", done, total);
      });
  if (bar) std::fprintf(stderr, "\n");

  struct Row {
    size_t point;
    Cell mean;
  };
  std::vector<Row> rows;
  Row as_written{0, {}};
  for (size_t v = 0; v <= valid.size(); ++v) {
    Row row{v < valid.size() ? valid[v] : 0, {}};
    for (size_t k = 0; k < runs.size(); ++k) {
      const ForkResult& fr = results[v * runs.size() + k];
      if (!fr.ok)
        throw std::runtime_error("calibrate: " +
                                 (v < valid.size() ? "grid point " + std::to_string(valid[v] + 1)
                                                   : std::string("[controller] as written")) +
                                 ": " + fr.text);
      auto j = nlohmann::json::parse(fr.text);
      const double n = static_cast<double>(runs.size());
      row.mean.cost_usd += j["cost_usd"].get<double>() / n;
      row.mean.violation_s += j["violation_s"].get<double>() / n;
      row.mean.changes += j["changes"].get<double>() / n;
      row.mean.sla_violation_fraction += j["sla_violation_fraction"].get<double>() / n;
    }
    row.mean.objective = row.mean.cost_usd + plan.lambda_usd_per_violation_s * row.mean.violation_s +
                         plan.mu_usd_per_change * row.mean.changes;
    if (v < valid.size())
      rows.push_back(row);
    else
      as_written = row;
  }
  // The lowest objective; ties to the earlier point (deterministic).
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.mean.objective < b.mean.objective; });
  const Row& best = rows.front();
  // The [[expect]]s, on the winner and the rule as written.
  std::map<std::string, double> metrics = {
      {"best_objective", best.mean.objective},
      {"best_cost_usd", best.mean.cost_usd},
      {"best_violation_s", best.mean.violation_s},
      {"best_changes", best.mean.changes},
      {"best_sla_violation_fraction", best.mean.sla_violation_fraction},
      {"template_objective", as_written.mean.objective},
      {"template_cost_usd", as_written.mean.cost_usd},
      {"template_violation_s", as_written.mean.violation_s},
      {"template_changes", as_written.mean.changes},
      {"template_sla_violation_fraction", as_written.mean.sla_violation_fraction},
      {"improvement",
       as_written.mean.objective > 0 ? 1 - best.mean.objective / as_written.mean.objective : 0}};
  const ExpectationCheck expect = check_expectations(plan.file, plan.expectations, metrics);
  auto point_json = [&](const Row& r) {
    nlohmann::json values = nlohmann::json::object();
    const auto v = plan.point(r.point);
    for (size_t k = 0; k < plan.grid.size(); ++k) values[plan.grid[k].key] = nlohmann::json::parse(v[k]);
    return nlohmann::json{{"values", values},
                          {"objective", r.mean.objective},
                          {"cost_usd", r.mean.cost_usd},
                          {"violation_s", r.mean.violation_s},
                          {"changes", r.mean.changes},
                          {"sla_violation_fraction", r.mean.sla_violation_fraction}};
  };
  if (!args.out.empty()) {
    const std::string tmp = args.out + ".tmp" + std::to_string(getpid());
    {
      std::ofstream f(tmp);
      if (!f) throw InputError("command line", 0, "--out", "cannot write " + args.out);
      f << "# autoscale calibrate " << args.file << ": the best of " << valid.size() << " grid points on "
        << runs.size() << " runs (objective " << best.mean.objective << ")\n"
        << sections[best.point];
      if (!f) throw InputError("command line", 0, "--out", "cannot write " + args.out);
    }
    std::filesystem::rename(tmp, args.out);
  }
  if (args.json) {
    nlohmann::json all = nlohmann::json::array();
    for (const Row& r : rows) all.push_back(point_json(r));
    nlohmann::json skipped = nlohmann::json::array();
    for (size_t i = 0; i < points; ++i)
      if (!invalid[i].empty()) {
        nlohmann::json values = nlohmann::json::object();
        const auto v = plan.point(i);
        for (size_t k = 0; k < plan.grid.size(); ++k) values[plan.grid[k].key] = nlohmann::json::parse(v[k]);
        skipped.push_back({{"values", values}, {"reason", invalid[i]}});
      }
    std::cout << nlohmann::json{{"name", plan.name},
                                {"kind", plan.kind},
                                {"runs", runs.size()},
                                {"best", point_json(best)},
                                {"points", all},
                                {"skipped", skipped},
                                {"controller_toml", sections[best.point]},
                                {"as_written",
                                 {{"objective", as_written.mean.objective},
                                  {"cost_usd", as_written.mean.cost_usd},
                                  {"violation_s", as_written.mean.violation_s},
                                  {"changes", as_written.mean.changes},
                                  {"sla_violation_fraction", as_written.mean.sla_violation_fraction}}},
                                {"expectations", expect.results}}
                     .dump(2)
              << "\n";
    std::fprintf(stderr, "%s", expect.failures.c_str());
    return expect.ok() ? 0 : 1;
  }
  std::printf("calibrate %s: %s over %zu grid points (%zu refused) x %zu runs at %s fidelity\n",
              plan.name.c_str(), plan.kind.c_str(), valid.size(), points - valid.size(), runs.size(),
              plan.fidelity.c_str());
  std::printf("objective = cost_usd + %g x violation_s + %g x changes (means over the runs)\n\n",
              plan.lambda_usd_per_violation_s, plan.mu_usd_per_change);
  std::printf("%4s %12s %10s %12s %8s %10s  %s\n", "rank", "objective", "cost_usd", "violation_s", "changes",
              "sla_viol", "values");
  for (size_t k = 0; k < rows.size() && k < 10; ++k) {
    const Row& r = rows[k];
    std::string values;
    const auto v = plan.point(r.point);
    for (size_t a = 0; a < plan.grid.size(); ++a) values += (a ? ", " : "") + plan.grid[a].key + " = " + v[a];
    std::printf("%4zu %12.4f %10.4f %12.1f %8.1f %9.3f%%  %s\n", k + 1, r.mean.objective, r.mean.cost_usd,
                r.mean.violation_s, r.mean.changes, 100 * r.mean.sla_violation_fraction, values.c_str());
  }
  std::printf("\nbest controller section%s:\n%s\n",
              args.out.empty() ? "" : (" (written to " + args.out + ")").c_str(),
              sections[best.point].c_str());
  std::printf(
      "[controller] as written: objective %.4f (cost_usd %.4f, violation_s %.1f, changes %.1f); the best is "
      "%.1f %% lower\n",
      as_written.mean.objective, as_written.mean.cost_usd, as_written.mean.violation_s,
      as_written.mean.changes, 100 * metrics.at("improvement"));
  std::printf("%s", expect.text().c_str());
  return expect.ok() ? 0 : 1;
}

}  // namespace autoscale
