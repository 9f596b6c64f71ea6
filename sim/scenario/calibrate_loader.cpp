#include "sim/scenario/calibrate_loader.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "sim/scenario/loader_detail.hpp"
#include "sim/scenario/toml_reader.hpp"

namespace autoscale {

using loader_detail::parse_text;
using loader_detail::resolve_path;

namespace {
constexpr size_t kMaxPoints = 100000;

// A plain value as TOML, numbers in their shortest exact form (0.7, not 0.69999999999999996).
std::string value_text(const toml::node& n) {
  if (const auto* d = n.as_floating_point()) {
    const double v = d->get();
    if (std::isfinite(v)) {
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof buf, v);
      std::string t(buf, res.ptr);
      if (t.find_first_of(".eE") == std::string::npos) t += ".0";
      return t;
    }
  }
  std::ostringstream o;
  n.visit([&](const auto& v) { o << toml::toml_formatter(v); });
  return o.str();
}

// A table as TOML: its plain values (and arrays of them) one per line in the shortest exact form, then its
// sub-tables as toml++ writes them.
std::string table_text(const toml::table& t) {
  std::string out;
  toml::table rest;
  for (const auto& [key, node] : t) {
    const bool plain = !node.is_table() && !node.is_array_of_tables();
    if (!plain) {
      rest.insert(key, node);
      continue;
    }
    std::string value;
    if (const auto* a = node.as_array()) {
      bool flat = true;
      for (const auto& e : *a) flat = flat && !e.is_table() && !e.is_array();
      if (!flat) {
        rest.insert(key, node);
        continue;
      }
      for (const auto& e : *a) value += (value.empty() ? "" : ", ") + value_text(e);
      value = "[" + value + "]";
    } else {
      value = value_text(node);
    }
    std::ostringstream k;
    k << toml::toml_formatter(toml::table{{key.str(), 0}});
    const std::string line = k.str();  // "key = 0": toml++ quotes the key as it must
    out += line.substr(0, line.rfind('=')) + "= " + value + "\n";
  }
  if (!rest.empty()) {
    std::ostringstream o;
    o << toml::toml_formatter(rest);
    out += o.str() + "\n";
  }
  return out;
}
}  // namespace

const std::vector<std::string>& calibration_metrics() {
  static const std::vector<std::string> m = {"best_objective",
                                             "best_cost_usd",
                                             "best_violation_s",
                                             "best_changes",
                                             "best_sla_violation_fraction",
                                             "template_objective",
                                             "template_cost_usd",
                                             "template_violation_s",
                                             "template_changes",
                                             "template_sla_violation_fraction",
                                             "improvement"};
  return m;
}

size_t CalibrationPlan::points() const {
  size_t n = 1;
  for (const auto& a : grid) n *= a.values.size();
  return n;
}

std::vector<std::string> CalibrationPlan::point(size_t i) const {
  std::vector<std::string> out(grid.size());
  for (size_t k = grid.size(); k-- > 0;) {
    out[k] = grid[k].values[i % grid[k].values.size()];
    i /= grid[k].values.size();
  }
  return out;
}

CalibrationPlan load_calibration(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the calibration file (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = std::make_shared<toml::table>(parse_text(buf.str(), path));
  toml_reader::Reader r(*doc, path, "", "calibrate");
  CalibrationPlan plan;
  plan.file = path;
  plan.name = r.string("name", std::string("calibrated"));
  plan.scenarios = r.strings("scenarios", {});
  if (plan.scenarios.empty()) r.fail("scenarios", "a non-empty array of scenario files");
  for (const auto& s : plan.scenarios) plan.scenario_paths.push_back(resolve_path(path, s));
  plan.seeds = toml_reader::read_seeds(r, "seeds");
  plan.fidelity = r.choice("fidelity", "fast", {"exact", "fast", "fluid"});
  plan.set = r.strings("set", {});
  {
    if (!r.has("objective"))
      r.fail("objective", "an [objective] table (lambda_usd_per_violation_s, mu_usd_per_change)");
    auto o = r.table("objective");
    plan.lambda_usd_per_violation_s = o->number("lambda_usd_per_violation_s", std::nullopt);
    plan.mu_usd_per_change = o->number("mu_usd_per_change", 0.0);
    o->finish();
  }
  const toml::table* ctl = (*doc)["controller"].as_table();
  if (!ctl) r.fail("controller", "a [controller] table: the controller section to calibrate (with its kind)");
  r.get("controller");
  const toml::node* kind = ctl->get("kind");
  if (!kind || !kind->is_string())
    throw InputError(path, toml_reader::line_in_file(ctl->source()), "controller.kind",
                     "a controller kind (a string)");
  plan.kind = kind->as_string()->get();
  plan.template_toml = table_text(*ctl);
  const toml::table* grid = (*doc)["grid"].as_table();
  if (!grid || grid->empty())
    r.fail("grid", "a [grid] table: keys of [controller], each an array of values to try");
  r.get("grid");
  for (const auto& [key, node] : *grid) {
    const std::string k(key.str());
    const int line = toml_reader::line_in_file(node.source());
    const toml::array* values = node.as_array();
    if (!values || values->empty())
      throw InputError(path, line, "grid." + k, "a non-empty array of values for controller key '" + k + "'");
    if (k == "kind") throw InputError(path, line, "grid.kind", "a key of the controller; the kind is fixed");
    CalibrationPlan::Axis axis{k, {}};
    for (const auto& v : *values) {
      if (v.is_table() || v.is_array() || v.is_array_of_tables())
        throw InputError(path, line, "grid." + k, "plain values (numbers, strings, booleans)");
      axis.values.push_back(value_text(v));
    }
    plan.grid.push_back(axis);
  }
  for (toml_reader::Reader& er : r.sections("expect"))
    plan.expectations.push_back(toml_reader::read_expectation(er, calibration_metrics()));
  if (plan.points() > kMaxPoints)
    r.fail("grid", "at most " + std::to_string(kMaxPoints) + " points (the product of the arrays' lengths)");
  r.finish();
  return plan;
}

std::string calibration_controller_toml(const CalibrationPlan& plan, size_t i) {
  toml::table t = parse_text(plan.template_toml, plan.file);
  const std::vector<std::string> values = plan.point(i);
  for (size_t k = 0; k < plan.grid.size(); ++k) {
    toml::table one = parse_text("v = " + values[k], plan.file);
    toml::node* v = one.get("v");
    v->visit([&](auto& x) { t.insert_or_assign(plan.grid[k].key, std::move(x)); });
  }
  return table_text(t);
}

}  // namespace autoscale
