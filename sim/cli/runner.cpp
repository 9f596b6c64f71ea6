// `autoscale run / validate / inspect`. SimGrid allows one engine per process, so every run of a scenario is
// simulated in a child process of its own (several at once with --jobs) and writes a single-run file; the
// parent assembles the result file from them and reports from what it wrote.
#include "sim/cli/runner.hpp"
#include "autoscale_version.hpp"

#include <sys/mman.h>
#include <sys/wait.h>

#include <unistd.h>
#include <csignal>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "controllers/base/error.hpp"
#include "results/hdf5_store.hpp"
#include "sim/cli/run_pool.hpp"
#include "sim/decide/decide.hpp"
#include "sim/engine/simulation.hpp"

namespace autoscale {

namespace fs = std::filesystem;

namespace {

nlohmann::json summary_json(const Summary& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& v : s) {
    if (v.integer)
      j[v.key] = static_cast<int64_t>(v.value);
    else
      j[v.key] = v.value;
  }
  return j;
}

nlohmann::json runs_json(const std::vector<StoredRun>& runs) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& r : runs) j[r.name] = summary_json(r.summary);
  return j;
}

// NaN is a metric without a value (SCHEMA.md): latency_p95_during_scaling_s of a run in which no completed
// request arrived while scaling.
std::string format_value(const SummaryValue& v) {
  if (std::isnan(v.value)) {
    if (v.key == "latency_p95_during_scaling_s") return "no scaling";
    return "n/a";
  }
  char buf[64];
  if (v.integer)
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v.value));
  else if (v.value != 0 && (std::fabs(v.value) < 1e-3 || std::fabs(v.value) >= 1e7))
    std::snprintf(buf, sizeof buf, "%.4g", v.value);
  else
    std::snprintf(buf, sizeof buf, "%.4f", v.value);
  return buf;
}

void print_table(std::ostream& o, const std::vector<StoredRun>& runs) {
  size_t w0 = 6;
  for (const auto& k : summary_metric_names()) w0 = std::max(w0, k.size());
  std::vector<size_t> w;
  for (const auto& r : runs) {
    size_t m = std::max<size_t>(r.name.size(), 10);
    for (const auto& v : r.summary) m = std::max(m, format_value(v).size());
    w.push_back(m);
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(w0), "metric");
  o << buf;
  for (size_t i = 0; i < runs.size(); ++i) {
    std::snprintf(buf, sizeof buf, "  %*s", static_cast<int>(w[i]), runs[i].name.c_str());
    o << buf;
  }
  o << "\n";
  for (const auto& k : summary_metric_names()) {
    std::snprintf(buf, sizeof buf, "%-*s", static_cast<int>(w0), k.c_str());
    o << buf;
    for (size_t i = 0; i < runs.size(); ++i) {
      const SummaryValue* v = find_metric(runs[i].summary, k);
      std::snprintf(buf, sizeof buf, "  %*s", static_cast<int>(w[i]), v ? format_value(*v).c_str() : "-");
      o << buf;
    }
    o << "\n";
  }
  o << "latency_*: percentiles of completed requests only; failed requests (requests_failed) are not in "
       "them\n";
}

}  // namespace

int cmd_validate(const std::string& scenario, const LoadOptions& load) {
  Scenario sc = load_scenario(scenario, load);
  std::cout << scenario << ": ok (" << sc.runs.size() << " run" << (sc.runs.size() == 1 ? "" : "s") << ":";
  for (const auto& r : sc.runs) std::cout << " " << r.name;
  std::cout << "; " << sc.expectations.size() << " expectation" << (sc.expectations.size() == 1 ? "" : "s")
            << ")\n";
  return 0;
}

int cmd_run(const RunArgs& args) {
  Scenario sc = load_scenario(args.scenario, args.load);
  std::string out = args.out.empty() ? (fs::path("results") / (sc.name + ".h5")).string() : args.out;
  ScratchDir scratch(out, "runs");
  const std::string& tmpdir = scratch.path();

  const bool show_progress = !args.quiet && isatty(STDERR_FILENO);
  std::vector<std::string> files;
  std::vector<PoolJob> jobs;
  for (size_t i = 0; i < sc.runs.size(); ++i) {
    files.push_back(tmpdir + "/run-" + std::to_string(i) + ".h5");
    jobs.push_back({&sc.runs[i], sc.file, files.back(), sc.runs[i].name});
  }
  std::cout.flush();
  auto t0 = std::chrono::steady_clock::now();
  int worst = run_in_children(jobs, default_jobs(args.jobs), show_progress, sc.name);
  if (worst != 0) return worst;

  FileMeta meta;
  meta.seed = sc.seed;
  meta.text = {{"scenario_toml", sc.toml_text},
               {"scenario_name", sc.name},
               {"scenario_file", sc.file},
               {"autoscale_version", AUTOSCALE_VERSION},
               {"simgrid_version", simgrid_version()},
               {"hdf5_version", hdf5_version()},
               {"tomlplusplus_version", tomlplusplus_version()}};
  assemble_results(out, meta, files);

  std::vector<StoredRun> runs = read_summaries(out);
  int status = 0;
  nlohmann::json expectations = nlohmann::json::array();
  std::ostringstream failures;
  for (const auto& e : sc.expectations) {
    for (const auto& r : runs) {
      if (!e.run.empty() && e.run != r.name) continue;
      const SummaryValue* v = find_metric(r.summary, e.metric);
      double actual = v ? v->value : NAN;
      double bound = e.value;
      std::string against;
      if (!e.than_run.empty()) {
        const SummaryValue* o = nullptr;
        for (const auto& x : runs)
          if (x.name == e.than_run) o = find_metric(x.summary, e.metric);
        bound = o ? e.value * o->value : NAN;
        std::ostringstream w;
        w << " (" << e.value << " x run '" << e.than_run << "')";
        against = w.str();
      }
      bool ok = v && expectation_holds(actual, e.op, bound);
      expectations.push_back({{"run", r.name},
                              {"metric", e.metric},
                              {"op", e.op},
                              {"value", bound},
                              {"than_run", e.than_run},
                              {"actual", actual},
                              {"ok", ok},
                              {"line", e.line}});
      if (!ok) {
        status = 1;
        failures << "expectation failed: " << sc.file << ":" << e.line << ": run '" << r.name
                 << "': " << e.metric << " " << e.op << " " << bound << against << ", actual " << actual
                 << "\n";
      }
    }
  }
  if (args.json) {
    nlohmann::json j = {
        {"scenario", sc.name}, {"output", out}, {"runs", runs_json(runs)}, {"expectations", expectations}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "scenario " << sc.name << " (seed " << sc.seed << ")\n";
    print_table(std::cout, runs);
    if (!sc.expectations.empty())
      std::cout << "expectations: "
                << (expectations.size() - static_cast<size_t>(std::count_if(
                                              expectations.begin(), expectations.end(),
                                              [](const nlohmann::json& x) { return !x["ok"].get<bool>(); })))
                << " of " << expectations.size() << " hold\n";
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "results: " << out << " (" << runs.size() << " run" << (runs.size() == 1 ? "" : "s")
              << " in " << std::fixed << std::setprecision(1) << wall << " s of wall time)\n";
  }
  std::cerr << failures.str();
  return status;
}

int cmd_inspect(const std::string& file, bool json) {
  std::vector<StoredRun> runs = read_summaries(file);
  if (json) {
    nlohmann::json j = {{"file", file}, {"runs", runs_json(runs)}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << file << "\n";
    print_table(std::cout, runs);
  }
  return 0;
}

}  // namespace autoscale

namespace autoscale {

int cmd_decide(const std::string& controller_file, const std::string& observations_file,
               const std::string& out) {
  if (out.empty()) {
    run_decide(controller_file, observations_file, std::cout);
    return 0;
  }
  std::ostringstream text;
  run_decide(controller_file, observations_file, text);
  const std::string tmp = out + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary);
    if (!(f << text.str()) || !f.flush()) {
      std::remove(tmp.c_str());
      throw InputError("command line", 0, "--out", "cannot write '" + out + "' (expected a writable file)");
    }
  }
  if (std::rename(tmp.c_str(), out.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError("command line", 0, "--out", "cannot write '" + out + "' (expected a writable file)");
  }
  return 0;
}

}  // namespace autoscale
