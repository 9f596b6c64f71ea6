// `autoscale bench BENCH.toml`: controllers against each other over scenarios and seeds.
#include "sim/cli/bench_run.hpp"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "results/bench_store.hpp"
#include "results/hdf5_store.hpp"
#include "sim/bench/stats.hpp"
#include "sim/cli/bench_attribution.hpp"
#include "sim/cli/bench_dist.hpp"
#include "sim/cli/bench_plan.hpp"
#include "sim/cli/run_pool.hpp"
#include "sim/dist/mpi_world.hpp"
#include "sim/engine/simulation.hpp"
#include "sim/scenario/bench_loader.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace autoscale {

namespace fs = std::filesystem;

namespace {

std::string fmt(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  if (v != 0 && (std::fabs(v) < 1e-3 || std::fabs(v) >= 1e6))
    std::snprintf(buf, sizeof buf, "%.3g", v);
  else
    std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

nlohmann::json number_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json interval_json(const bench::Interval& i) {
  return {{"mean", number_or_null(i.mean)},
          {"ci95_low", number_or_null(i.ci95_low)},
          {"ci95_high", number_or_null(i.ci95_high)},
          {"n", i.n}};
}

}  // namespace

int cmd_validate_bench(const std::string& file) {
  BenchSpec b = load_bench(file);
  std::printf("%s: ok (bench file: %zu scenarios x %zu controllers x %zu seeds)\n", file.c_str(),
              b.scenarios.size(), b.controllers.size(), b.seeds.size());
  return 0;
}

BenchPlan plan_bench(const std::string& file, const std::vector<std::uint64_t>& seeds, bool with_runs) {
  BenchPlan p;
  p.b = load_bench(file);
  if (!seeds.empty()) p.b.seeds = seeds;
  const BenchSpec& b = p.b;
  for (std::size_t s = 0; s < b.scenarios.size(); ++s)
    for (std::size_t k = 0; k < b.seeds.size(); ++k) {
      std::vector<RunSpec> rs;
      if (with_runs) rs = bench_runs(b, s, b.seeds[k]);
      for (std::size_t c = 0; c < b.controllers.size(); ++c) {
        if (with_runs) p.runs.push_back(std::move(rs[c]));
        p.cells.push_back({s, c, k});
      }
    }
  return p;
}

std::string bench_out(const BenchPlan& plan, const std::string& out) {
  return out.empty() ? (fs::path("results") / (plan.b.name + ".h5")).string() : out;
}

std::string cell_file(const std::string& dir, std::size_t index) {
  return dir + "/run-" + std::to_string(index) + ".h5";
}

int simulate_cells(const BenchPlan& plan, const std::vector<std::size_t>& indices, const std::string& dir,
                   int jobs, bool show_progress, const std::string& title) {
  const BenchSpec& b = plan.b;
  std::vector<PoolJob> pool;
  for (std::size_t i : indices) {
    const BenchCell& cell = plan.cells.at(i);
    pool.push_back({&plan.runs.at(i), b.scenarios[cell.scenario].file, cell_file(dir, i),
                    b.scenarios[cell.scenario].name + "/" + b.controllers[cell.controller].name + "/seed " +
                        std::to_string(b.seeds[cell.seed_index])});
  }
  return run_in_children(pool, jobs, show_progress, title);
}

int cmd_bench(const BenchArgs& args) {
  if (!args.chunk.empty()) return cmd_bench_chunk(args);
  if (!args.slurm_dir.empty()) return cmd_bench_slurm(args);
  if (dist::launched_by_mpirun()) {
    const dist::MpiWorld& world = dist::MpiWorld::get();
    if (world.size() > 1) return cmd_bench_mpi(args, world);
  }
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> seeds;
  for (int s = 1; s <= args.seeds; ++s) seeds.push_back(static_cast<std::uint64_t>(s));
  BenchPlan plan = plan_bench(args.file, seeds, true);
  const BenchSpec& b = plan.b;
  const std::string out = bench_out(plan, args.out);
  ScratchDir scratch(out, "bench");
  const bool show_progress = !args.quiet && isatty(STDERR_FILENO);
  if (!args.quiet && !show_progress)
    std::fprintf(stderr, "bench %s: %zu runs (%zu scenarios x %zu controllers x %zu seeds)\n", b.name.c_str(),
                 plan.cells.size(), b.scenarios.size(), b.controllers.size(), b.seeds.size());
  std::vector<std::size_t> all(plan.cells.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  int status =
      simulate_cells(plan, all, scratch.path(), default_jobs(args.jobs), show_progress, "bench " + b.name);
  if (status != 0) return status;
  std::vector<CellResult> results;
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    CellResult r{cell_file(scratch.path(), i), b.controllers[plan.cells[i].controller].name, {}};
    r.summary = read_summaries(r.file).at(0).summary;
    results.push_back(std::move(r));
  }
  return finish_bench(plan, results, out, args.json, started);
}

int finish_bench(const BenchPlan& plan, const std::vector<CellResult>& results, const std::string& out,
                 bool json, std::chrono::steady_clock::time_point started) {
  const BenchSpec& b = plan.b;
  const std::size_t nc = b.controllers.size(), ns = b.seeds.size();
  // values[scenario][controller][metric][seed]
  std::vector<std::vector<std::vector<std::vector<double>>>> values(
      b.scenarios.size(),
      std::vector<std::vector<std::vector<double>>>(
          nc, std::vector<std::vector<double>>(b.metrics.size(), std::vector<double>(ns, NAN))));
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    const BenchCell& cell = plan.cells[i];
    for (std::size_t m = 0; m < b.metrics.size(); ++m) {
      const SummaryValue* v = find_metric(results.at(i).summary, b.metrics[m]);
      values[cell.scenario][cell.controller][m][cell.seed_index] = v ? v->value : NAN;
    }
  }

  // The statistics per scenario.
  std::size_t baseline = nc;
  for (std::size_t c = 0; c < nc; ++c)
    if (b.controllers[c].name == b.baseline) baseline = c;
  auto metric_index = [&](const std::string& name) {
    for (std::size_t m = 0; m < b.metrics.size(); ++m)
      if (b.metrics[m] == name) return m;
    return b.metrics.size();
  };
  const std::size_t m_cost = metric_index("cost_usd"), m_sla = metric_index("sla_violation_fraction");
  std::size_t oracle = nc;
  for (std::size_t c = 0; c < nc; ++c)
    if (b.controllers[c].kind == "oracle") oracle = c;

  std::vector<BenchTable> tables;
  nlohmann::json j_scenarios = nlohmann::json::object(), j_pareto = nlohmann::json::object(),
                 j_baseline = nlohmann::json::object(), j_ranks = nlohmann::json::object(),
                 j_oracle = nlohmann::json::object();
  for (std::size_t s = 0; s < b.scenarios.size(); ++s) {
    BenchTable t;
    t.scenario = b.scenarios[s].name;
    t.metrics = b.metrics;
    for (const auto& c : b.controllers) t.controllers.push_back(c.name);
    t.seeds = b.seeds;
    t.values = values[s];
    nlohmann::json js = nlohmann::json::object(), jb = nlohmann::json::object();
    for (std::size_t c = 0; c < nc; ++c) {
      std::vector<bench::Interval> row, diff;
      nlohmann::json jc = nlohmann::json::object(), jd = nlohmann::json::object();
      for (std::size_t m = 0; m < b.metrics.size(); ++m) {
        row.push_back(bench::interval(values[s][c][m]));
        jc[b.metrics[m]] = interval_json(row.back());
        if (baseline < nc) {
          diff.push_back(bench::paired_difference(values[s][c][m], values[s][baseline][m]));
          jd[b.metrics[m]] = interval_json(diff.back());
        }
      }
      js[b.controllers[c].name] = jc;
      if (baseline < nc) jb[b.controllers[c].name] = jd;
      t.stats.push_back(row);
      t.vs_baseline.push_back(diff);
    }
    for (std::size_t m = 0; m < b.metrics.size(); ++m) {
      std::vector<double> means;
      for (std::size_t c = 0; c < nc; ++c) means.push_back(t.stats[c][m].mean);
      t.ranks.push_back(bench::ranks(means));
    }
    nlohmann::json jr = nlohmann::json::object();
    for (std::size_t c = 0; c < nc; ++c) jr[b.controllers[c].name] = t.ranks[0][c];
    if (m_cost < b.metrics.size() && m_sla < b.metrics.size()) {
      std::vector<double> x, y;
      for (std::size_t c = 0; c < nc; ++c) {
        x.push_back(t.stats[c][m_cost].mean);
        y.push_back(t.stats[c][m_sla].mean);
      }
      for (std::size_t i : bench::pareto_front(x, y)) t.pareto.push_back(b.controllers[i].name);
    }
    if (oracle < nc && m_cost < b.metrics.size()) {
      nlohmann::json jo = nlohmann::json::object();
      for (std::size_t c = 0; c < nc; ++c)
        jo[b.controllers[c].name] = number_or_null(t.stats[c][m_cost].mean / t.stats[oracle][m_cost].mean);
      j_oracle[t.scenario] = jo;
    }
    j_scenarios[t.scenario] = js;
    j_pareto[t.scenario] = t.pareto;
    if (baseline < nc) j_baseline[t.scenario] = jb;
    j_ranks[t.scenario] = jr;
    tables.push_back(std::move(t));
  }

  // The result file: every run under /bench/<scenario>/<controller>/<seed>, the tables beside them.
  FileMeta meta;
  meta.seed = b.seeds.front();
  meta.text = {{"bench_toml", b.toml_text},
               {"bench_name", b.name},
               {"bench_file", b.file},
               {"autoscale_version", AUTOSCALE_VERSION},
               {"simgrid_version", simgrid_version()},
               {"hdf5_version", hdf5_version()},
               {"tomlplusplus_version", tomlplusplus_version()}};
  std::vector<BenchRunFile> files;
  for (std::size_t i = 0; i < plan.cells.size(); ++i) {
    const BenchCell& cell = plan.cells[i];
    files.push_back({results[i].file, results[i].run,
                     "/bench/" + b.scenarios[cell.scenario].name + "/" + b.controllers[cell.controller].name +
                         "/" + std::to_string(b.seeds[cell.seed_index])});
  }
  write_bench_file(out, meta, files, tables);
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // [[expect]]: bounds on means over the seeds (exit status 1 when one fails).
  int status_out = 0;
  nlohmann::json j_expect = nlohmann::json::array();
  std::string failures;
  for (const auto& e : b.expectations) {
    std::size_t m = metric_index(e.metric), c = nc, o = nc;
    for (std::size_t k = 0; k < nc; ++k) {
      if (b.controllers[k].name == e.controller) c = k;
      if (b.controllers[k].name == e.than_controller) o = k;
    }
    for (const BenchTable& t : tables) {
      if (!e.scenario.empty() && e.scenario != t.scenario) continue;
      double actual = t.stats[c][m].mean;
      double bound = o < nc ? e.value * t.stats[o][m].mean : e.value;
      bool ok = std::isfinite(actual) && std::isfinite(bound) && expectation_holds(actual, e.op, bound);
      std::string what = t.scenario + "/" + e.controller + ": mean " + e.metric + " " + e.op + " " +
                         fmt(e.value) + (o < nc ? " x " + e.than_controller + "'s (" + fmt(bound) + ")" : "");
      j_expect.push_back({{"line", e.line},
                          {"scenario", t.scenario},
                          {"controller", e.controller},
                          {"metric", e.metric},
                          {"op", e.op},
                          {"bound", number_or_null(bound)},
                          {"actual", number_or_null(actual)},
                          {"ok", ok}});
      if (!ok) {
        status_out = 1;
        failures += "expectation failed: " + b.file + ":" + std::to_string(e.line) + ": " + what +
                    ", actual " + fmt(actual) + "\n";
      }
    }
  }

  if (json) {
    nlohmann::json j = {{"bench", b.name},           {"output", out},      {"wall_s", wall_s},
                        {"runs", plan.cells.size()}, {"seeds", b.seeds},   {"metrics", b.metrics},
                        {"scenarios", j_scenarios},  {"pareto", j_pareto}, {"ranks", j_ranks}};
    if (baseline < nc) {
      j["baseline"] = b.baseline;
      j["vs_baseline"] = j_baseline;
    }
    if (oracle < nc) j["cost_vs_oracle"] = j_oracle;
    if (!b.expectations.empty()) j["expectations"] = j_expect;
    j["attribution"] = bench_attribution_json(plan, results);
    std::cout << j.dump(2) << "\n";
    std::cerr << failures;
    return status_out;
  }
  for (const BenchTable& t : tables) {
    std::printf("scenario %s: %zu seeds, mean [95 %% interval]%s\n", t.scenario.c_str(), ns,
                baseline < nc ? (", paired difference against " + b.baseline).c_str() : "");
    std::printf("%-22s %4s", "controller", "rank");
    for (const auto& m : b.metrics) std::printf("  %-30s", m.c_str());
    std::printf("\n");
    for (std::size_t c = 0; c < nc; ++c) {
      std::printf("%-22s %4d", t.controllers[c].c_str(), t.ranks[0][c]);
      for (std::size_t m = 0; m < b.metrics.size(); ++m) {
        const auto& i = t.stats[c][m];
        std::string cellt = fmt(i.mean) + " [" + fmt(i.ci95_low) + ", " + fmt(i.ci95_high) + "]";
        std::printf("  %-30s", cellt.c_str());
      }
      std::printf("\n");
      if (baseline < nc && c != baseline) {
        std::printf("%-22s %4s", ("  - " + b.baseline).c_str(), "");
        for (std::size_t m = 0; m < b.metrics.size(); ++m) {
          const auto& d = t.vs_baseline[c][m];
          std::string cellt =
              (d.mean >= 0 ? "+" : "") + fmt(d.mean) + " [" + fmt(d.ci95_low) + ", " + fmt(d.ci95_high) + "]";
          std::printf("  %-30s", cellt.c_str());
        }
        std::printf("\n");
      }
    }
    if (!t.pareto.empty()) {
      std::string p;
      for (const auto& n : t.pareto) p += (p.empty() ? "" : ", ") + n;
      std::printf("pareto front (cost_usd against sla_violation_fraction): %s\n", p.c_str());
    }
    if (oracle < nc && m_cost < b.metrics.size()) {
      std::printf("cost against the oracle:");
      for (std::size_t c = 0; c < nc; ++c)
        std::printf(" %s %.2fx", t.controllers[c].c_str(),
                    t.stats[c][m_cost].mean / t.stats[oracle][m_cost].mean);
      std::printf("\n");
    }
    print_bench_attribution(plan, results, t.scenario);
    std::printf("\n");
  }
  if (!j_expect.empty()) {
    std::size_t held = 0;
    for (const auto& x : j_expect) held += x["ok"].get<bool>() ? 1 : 0;
    std::printf("expectations: %zu of %zu hold\n", held, j_expect.size());
  }
  std::printf("results: %s (%zu runs in %.1f s of wall time)\n", out.c_str(), plan.cells.size(), wall_s);
  std::fflush(stdout);
  std::cerr << failures;
  return status_out;
}

}  // namespace autoscale
