#include "sim/scenario/bench_loader.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>

#include "controllers/base/error.hpp"
#include "controllers/registry.hpp"
#include "sim/core/metrics.hpp"
#include "sim/scenario/key_ranges.hpp"
#include "sim/scenario/loader_detail.hpp"
#include "sim/scenario/scenario_loader.hpp"
#include "sim/scenario/toml_reader.hpp"

namespace autoscale {

namespace fs = std::filesystem;
using namespace loader_detail;
using toml_reader::Reader;

namespace {

std::string read_text(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw InputError(path, 0, "", std::string("cannot open ") + what + " (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const toml::table& doc_of(const BenchSpec& b) {
  return *static_cast<const toml::table*>(b.doc.get());
}

// The [[controller]] tables of the bench file, in order.
const toml::array& controller_tables(const BenchSpec& b) {
  return *doc_of(b).get_as<toml::array>("controller");
}

// [scenario.controllers.<name>] of the bench's scenario `i`: its settings for controller `name`; nullptr when
// none.
const toml::table* scenario_controller(const BenchSpec& b, std::size_t i, const std::string& name) {
  const toml::array* scenarios = doc_of(b).get_as<toml::array>("scenario");
  if (!scenarios || i >= scenarios->size()) return nullptr;
  const toml::table* s = scenarios->get(i)->as_table();
  const toml::table* all = s ? s->get_as<toml::table>("controllers") : nullptr;
  return all ? all->get_as<toml::table>(name) : nullptr;
}

// The scenario file with its --set overrides (as `autoscale run --set` applies them).
toml::table scenario_base(const BenchSpec::ScenarioRef& s, const std::string& text) {
  toml::table t = parse_text(text, s.file);
  for (const auto& a : s.set) merge(t, override_table(a), s.file, "");
  return t;
}

// The override table of run `name` of a scenario document, without its name; nullptr when the scenario has no
// such run.
const toml::table* find_run(const toml::table& doc, const std::string& name) {
  const toml::array* runs = doc.get_as<toml::array>("run");
  if (!runs) return nullptr;
  for (const auto& e : *runs) {
    const toml::table* t = e.as_table();
    if (!t) continue;
    auto n = t->get_as<std::string>("name");
    if (n && n->get() == name) return t;
  }
  return nullptr;
}

bool find_name(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::vector<std::string> run_names(const Scenario& sc) {
  std::vector<std::string> out;
  for (const auto& r : sc.runs) out.push_back(r.name);
  return out;
}

}  // namespace

BenchSpec load_bench(const std::string& path) {
  BenchSpec b;
  b.file = path;
  b.toml_text = read_text(path, "bench file");
  auto doc = std::make_shared<toml::table>(parse_text(b.toml_text, path));
  b.doc = doc;
  Reader r(*doc, path, "", "bench");
  b.name = r.name("name", fs::path(path).stem().string());
  b.description = r.string("description", "");

  // seeds: a count (seeds 1..N) or a list of seeds
  auto integral_seed = [&](double v, const std::string& shown) {
    if (v != std::floor(v)) r.fail("seeds", "whole numbers, got " + shown);
    return static_cast<std::uint64_t>(v);
  };
  if (r.is_list("seeds")) {
    for (double v : r.numbers("seeds")) b.seeds.push_back(integral_seed(v, format_number(v)));
    if (b.seeds.empty()) r.fail("seeds", "a count or a non-empty list of seeds");
    std::set<std::uint64_t> unique(b.seeds.begin(), b.seeds.end());
    if (unique.size() != b.seeds.size()) r.fail("seeds", "distinct seeds (a seed listed twice)");
  } else {
    double n = r.number("seeds", 10.0);
    std::uint64_t count = integral_seed(n, format_number(n));
    if (count < 1 || count > 10000) r.fail("seeds", "a count in [1, 10000] or a list of seeds");
    for (std::uint64_t s = 1; s <= count; ++s) b.seeds.push_back(s);
  }
  b.metrics = r.strings("metrics", {"sla_violation_fraction", "cost_usd", "latency_p95_s",
                                    "scaling_reversals", "under_provisioned_seconds"});
  if (b.metrics.empty()) r.fail("metrics", "at least one summary metric");
  for (const auto& m : b.metrics)
    if (!find_name(summary_metric_names(), m)) {
      std::string hint = closest_match(m, summary_metric_names());
      r.fail("metrics", "unknown metric \"" + m + "\"; expected summary metrics (results/SCHEMA.md)" +
                            (hint.empty() ? "" : "; did you mean \"" + hint + "\"?"));
    }
  b.baseline = r.string("baseline", "");

  std::set<std::string> names;
  std::vector<Reader> scenario_readers = r.sections("scenario");
  for (Reader& sr : scenario_readers) {
    BenchSpec::ScenarioRef s;
    s.file = resolve_path(path, sr.string("file", std::nullopt));
    s.name = sr.name("name", fs::path(s.file).stem().string());
    if (!names.insert(s.name).second)
      sr.fail("name", "a name of its own (two scenarios named \"" + s.name + "\"; set `name`)");
    s.set = sr.strings("set", {});
    s.run = sr.string("run", "");
    // [scenario.controllers.<name>]: this scenario's settings for a controller, over its [[controller]]
    // section
    if (const toml::node* n = sr.get("controllers")) {
      const toml::table* t = n->as_table();
      if (!t) sr.fail("controllers", "a table of controller names ([scenario.controllers.<name>] tables)");
      for (auto&& [k, v] : *t) {
        if (!v.is_table())
          sr.fail("controllers." + std::string(k.str()),
                  "a table ([scenario.controllers." + std::string(k.str()) + "])");
        s.tuned.emplace_back(k.str());
      }
    }
    sr.finish();
    b.scenarios.push_back(s);
  }
  if (b.scenarios.empty()) r.fail("scenario", "at least one [[scenario]] with a `file`");

  std::vector<Reader> controllers = r.sections("controller");
  if (controllers.empty())
    r.fail("controller", "at least one [[controller]] (an inline section, or `run = \"...\"`)");
  names.clear();
  for (Reader& cr : controllers) {
    BenchSpec::ControllerRef c;
    c.name = cr.name("name", std::nullopt);
    if (!names.insert(c.name).second)
      cr.fail("name", "a name of its own (two controllers named \"" + c.name + "\")");
    if (cr.has("run")) {
      c.run = cr.string("run", std::nullopt);
      if (cr.has("kind")) cr.fail("kind", "no kind beside `run` (the scenario's run brings its controller)");
      cr.finish();
    } else {
      c.kind = cr.string("kind", std::nullopt);
    }
    b.controllers.push_back(c);
  }
  for (std::size_t i = 0; i < b.scenarios.size(); ++i)
    for (const auto& t : b.scenarios[i].tuned) {
      auto c = std::find_if(b.controllers.begin(), b.controllers.end(),
                            [&](const BenchSpec::ControllerRef& x) { return x.name == t; });
      if (c == b.controllers.end() || !c->run.empty())
        scenario_readers[i].fail("controllers." + t,
                                 "the name of an inline [[controller]] section (a controller taken from a "
                                 "scenario's run brings its own settings)");
    }
  if (!b.baseline.empty() && !names.count(b.baseline))
    r.fail("baseline", "the name of one of the [[controller]] sections, got \"" + b.baseline + "\"");
  std::vector<std::string> controller_names, scenario_names;
  for (const auto& c : b.controllers) controller_names.push_back(c.name);
  for (const auto& s : b.scenarios) scenario_names.push_back(s.name);
  for (Reader& er : r.sections("expect")) {
    BenchSpec::Expect e;
    e.line = er.line();
    e.scenario = er.has("scenario") ? er.choice("scenario", std::nullopt, scenario_names) : "";
    e.controller = er.choice("controller", std::nullopt, controller_names);
    e.metric = er.choice("metric", std::nullopt, b.metrics);
    e.op = er.choice("op", std::nullopt, {"<", "<=", ">", ">=", "==", "!="});
    if (er.has("than_controller")) {
      e.than_controller = er.choice("than_controller", std::nullopt, controller_names);
      if (e.than_controller == e.controller)
        er.fail("than_controller", "another controller than `controller`, to compare the two");
    }
    // With than_controller, value is a factor on the other controller's mean (default 1).
    e.value = er.number("value", e.than_controller.empty() ? std::nullopt : std::optional<double>(1.0));
    er.finish();
    b.expectations.push_back(e);
  }
  r.finish();

  // Every scenario loads as `autoscale run` loads it, has the runs the controllers name, and every inline
  // controller's keys are checked against its services (errors name the bench file's lines).
  for (std::size_t i = 0; i < b.scenarios.size(); ++i) {
    const auto& s = b.scenarios[i];
    LoadOptions lo;
    lo.set = s.set;
    Scenario sc = load_scenario(s.file, lo);
    auto runs_text = [&] {
      std::string l;
      for (const auto& n : run_names(sc)) l += (l.empty() ? "" : ", ") + n;
      return l;
    };
    if (!s.run.empty() && !find_name(run_names(sc), s.run))
      scenario_readers[i].fail("run", "a run of " + s.file + " (runs: " + runs_text() + ")");
    ControllerContext ctx;
    for (const auto& sv : sc.runs.front().services) ctx.services.push_back(sv.name);
    ctx.base_dir = fs::path(path).parent_path().string();
    for (std::size_t k = 0; k < b.controllers.size(); ++k) {
      const auto& c = b.controllers[k];
      Reader& cr = controllers[k];
      if (!c.run.empty()) {
        if (!find_name(run_names(sc), c.run))
          cr.fail("run", "a run of scenario " + s.file + " (runs: " + runs_text() + ")");
        continue;
      }
      if (const toml::table* tuned = scenario_controller(b, i, c.name)) {
        toml::table merged = *controller_tables(b).get(k)->as_table();
        merge(merged, toml::table(*tuned), path, "");
        Reader mr(merged, path, "scenario." + s.name + ".controllers." + c.name, "bench.controller");
        mr.get("name");  // read with the [[controller]] section
        mr.get("kind");
        try {
          make_controller(c.kind, mr, ctx);
          mr.finish();
        } catch (const InputError& e) {
          // the merged copy has no source lines: blame the scenario's table for this controller
          if (e.line() > 0) throw;
          throw InputError(path, toml_reader::line_in_file(tuned->source()), e.field(), e.message());
        }
      } else {
        make_controller(c.kind, cr, ctx);
        cr.finish();
      }
    }
  }
  return b;
}

std::vector<RunSpec> bench_runs(const BenchSpec& b, std::size_t index, std::uint64_t seed) {
  const BenchSpec::ScenarioRef& s = b.scenarios.at(index);
  const std::string text = read_text(s.file, "scenario file");
  const toml::table base = scenario_base(s, text);
  const toml::array& sections = controller_tables(b);
  Warnings warnings(std::cerr);
  std::vector<RunSpec> out;
  for (std::size_t k = 0; k < b.controllers.size(); ++k) {
    const auto& c = b.controllers[k];
    auto doc = std::make_shared<toml::table>(base);
    const std::string& run_name = c.run.empty() ? s.run : c.run;
    const toml::table* over = nullptr;
    if (!run_name.empty()) {
      over = find_run(*doc, run_name);
      if (!over)
        throw InputError(s.file, 0, "run", "a run named \"" + run_name + "\" (bench " + b.file + ")");
    } else if (const toml::array* runs = doc->get_as<toml::array>("run"); runs && !runs->empty()) {
      over = runs->get(0)->as_table();  // the scenario's first run
    }
    toml::table run_over = over ? *over : toml::table{};
    run_over.erase("name");
    doc->erase("run");
    doc->erase("expect");
    merge(*doc, std::move(run_over), s.file, "");
    if (c.run.empty()) {
      toml::table section = *sections.get(k)->as_table();
      if (const toml::table* tuned = scenario_controller(b, index, c.name))
        merge(section, toml::table(*tuned), b.file, "");
      section.erase("name");
      doc->insert_or_assign("controller", std::move(section));
    }
    RunSpec run = read_run(doc, s.file, c.name, seed, false, warnings);
    if (c.run.empty()) run.controller.base_dir = fs::path(b.file).parent_path().string();
    std::ostringstream effective;
    effective << *doc;
    run.config_toml = effective.str();
    out.push_back(std::move(run));
  }
  return out;
}

}  // namespace autoscale
