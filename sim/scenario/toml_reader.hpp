#pragma once
// The strict TOML reader behind scenario files and controller sections (sim/scenario is the only toml++
// user): it remembers which keys were read so that finish() reports the first one nobody asked for, checks
// every number against its range (key_ranges.cpp), and names the file, the line and the key in every error.
// Included by the scenario loader only.
#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"
#include "controllers/params.hpp"
#include "sim/core/distribution.hpp"
#include "sim/core/scenario.hpp"
#include "sim/scenario/key_ranges.hpp"

namespace autoscale::toml_reader {

inline constexpr const char* kOverrideFile = "--set";

// The line of a node in the scenario file; 0 for a node from --set (parsed with kOverrideFile as its path, or
// made by the loader from a --set assignment), which errors then blame on "--set".
inline int line_in_file(const toml::source_region& s) {
  if (s.path && *s.path == kOverrideFile) return 0;
  return static_cast<int>(s.begin.line);
}

// A strict reader over one TOML table: remembers which keys were read, so that finish() can report the first
// key nobody asked for. Every number it reads is checked against its range in key_ranges.cpp (`schema` names
// the table there).
class Reader : public Params {
 public:
  Reader(const toml::table& t, std::string file, std::string path, std::string schema)
      : Reader(t, std::move(file), std::move(path), std::move(schema), line_in_file(t.source())) {}

  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  int line_of(const std::string& key) const {
    const toml::node* n = t_.get(key);
    return n ? line_in_file(n->source()) : line();
  }
  int line() const { return line_; }
  const std::string& file_for(int line) const {
    static const std::string override_file = kOverrideFile;
    return line > 0 ? file_ : override_file;
  }
  void raise(const std::string& key, const std::string& expected) const override {
    throw located(key, expected);
  }
  // The error raise() throws, for a warning instead.
  InputError located(const std::string& key, const std::string& message) const {
    int l = line_of(key);
    return InputError(file_for(l), l, field(key), message);
  }
  bool has(const std::string& key) const override { return t_.contains(key); }
  bool is_list(const std::string& key) const override {
    const toml::node* n = t_.get(key);
    return n && n->is_array();
  }
  const toml::node* get(const std::string& key) {
    used_.insert(key);
    return t_.get(key);
  }

  double number(const std::string& key, std::optional<double> fallback) override {
    const KeyRange& r = range(key, false);  // looked up even when absent: every key read has a range
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "a number");
    if (auto v = n->value_exact<double>()) return checked(key, r, *v, format_number(*v));
    if (auto v = n->value_exact<int64_t>())
      return checked(key, r, static_cast<double>(*v), std::to_string(*v));
    fail(key, "expected " + expected_text(r) + ", got " + type_name(*n));
  }
  long integer(const std::string& key, std::optional<long> fallback) override {
    const KeyRange& r = range(key, true);
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "an integer");
    if (auto v = n->value_exact<int64_t>()) {
      checked(key, r, static_cast<double>(*v), std::to_string(*v));
      return static_cast<long>(*v);
    }
    fail(key, "expected " + expected_text(r) + ", got " + type_name(*n));
  }
  // An integer whose range fits an int (static_assert in key_ranges.cpp).
  int count(const std::string& key, std::optional<long> fallback) {
    return static_cast<int>(integer(key, fallback));
  }
  bool boolean(const std::string& key, std::optional<bool> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "true or false");
    if (auto v = n->value_exact<bool>()) return *v;
    fail(key, "expected true or false, got " + type_name(*n));
  }
  std::string string(const std::string& key, std::optional<std::string> fallback) override {
    const toml::node* n = get(key);
    if (!n) return require(key, fallback, "a string");
    if (auto v = n->value_exact<std::string>()) return *v;
    fail(key, "expected a string, got " + type_name(*n));
  }
  // A string naming something (a service, a run, ...): it follows kNameRule.
  std::string name(const std::string& key, std::optional<std::string> fallback) {
    std::string v = string(key, fallback);
    std::string problem = name_problem(v);
    if (!problem.empty()) fail(key, problem + (has(key) ? "" : " (the default)") + "; expected " + kNameRule);
    return v;
  }
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) override {
    const toml::node* n = get(key);
    if (!n) return fallback;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of strings, got " + type_name(*n));
    std::vector<std::string> out;
    for (const auto& e : *a) {
      auto v = e.value_exact<std::string>();
      if (!v) fail(key, "expected an array of strings, found " + type_name(e));
      out.push_back(*v);
    }
    return out;
  }
  // An array of numbers, each in the key's range.
  std::vector<double> numbers(const std::string& key, std::vector<double> fallback = {}) override {
    const KeyRange& r = range(key, false);
    const toml::node* n = get(key);
    std::vector<double> out;
    if (!n) return fallback;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of numbers, got " + type_name(*n));
    for (const auto& e : *a) {
      std::string element = "element " + std::to_string(out.size()) + ": ";
      if (auto v = e.value_exact<double>())
        out.push_back(checked(key, r, *v, element + format_number(*v)));
      else if (auto i = e.value_exact<int64_t>())
        out.push_back(checked(key, r, static_cast<double>(*i), element + std::to_string(*i)));
      else
        fail(key, "expected an array of numbers, found " + type_name(e));
    }
    return out;
  }
  // A sub-table; an empty one (with this table's position) when absent.
  Reader section(const std::string& key) { return sub(key, schema_.empty() ? key : schema_ + "." + key); }
  // A sub-table under a name of the user's choosing (cluster.instance_types.<name>).
  Reader named(const std::string& key) { return sub(key, schema_ + ".<name>"); }
  std::vector<Reader> sections(const std::string& key) {
    const toml::node* n = get(key);
    std::vector<Reader> out;
    if (!n) return out;
    const toml::array* a = n->as_array();
    if (!a) fail(key, "expected an array of tables ([[" + field(key) + "]]), got " + type_name(*n));
    for (size_t i = 0; i < a->size(); ++i) {
      const toml::table* t = (*a)[i].as_table();
      if (!t) fail(key, "expected an array of tables ([[" + field(key) + "]]), found " + type_name((*a)[i]));
      // Named elements are addressed by name, as --set and [[run]] overrides address them
      // (services.web.workers).
      auto name = t->get_as<std::string>("name");
      std::string element = name && !name->get().empty() ? name->get() : std::to_string(i);
      out.emplace_back(*t, file_, field(key) + "." + element, schema_.empty() ? key : schema_ + "." + key);
    }
    return out;
  }
  const toml::table& raw() const { return t_; }
  // Keeps the document this reader points into alive (controller settings outlive the loader).
  void keep_alive(std::shared_ptr<const toml::table> doc) { doc_ = std::move(doc); }

  Distribution distribution(const std::string& key, const Distribution& fallback) {
    const toml::node* n = t_.get(key);
    if (!n) {
      used_.insert(key);
      return fallback;
    }
    if (!n->is_table()) return Distribution::constant(number(key, std::nullopt));
    Reader r = sub(key, "distribution");
    Distribution d;
    std::string kind = r.choice("dist", "constant",
                                {"constant", "uniform", "normal", "lognormal", "exponential", "empirical"});
    if (kind == "constant") {
      d.kind = Distribution::Kind::constant;
      d.mean = r.number("value", std::nullopt);
    } else if (kind == "uniform") {
      d.kind = Distribution::Kind::uniform;
      d.min = r.number("min", std::nullopt);
      d.max = r.number("max", std::nullopt);
      if (d.max < d.min) r.fail("max", "expected max >= min");
    } else if (kind == "normal" || kind == "lognormal") {
      d.kind = kind == "normal" ? Distribution::Kind::normal : Distribution::Kind::lognormal;
      d.mean = r.number("mean", std::nullopt);
      d.cv = r.number("cv", 0.0);
      if (d.kind == Distribution::Kind::lognormal && d.mean <= 0)
        r.fail("mean", "expected a mean > 0 for a lognormal");
    } else if (kind == "exponential") {
      d.kind = Distribution::Kind::exponential;
      d.mean = r.number("mean", std::nullopt);
    } else {
      d.kind = Distribution::Kind::empirical;
      d.values = r.numbers("values");
      if (d.values.empty()) r.fail("values", "expected a non-empty array of values");
    }
    r.finish();
    return d;
  }

  // Params: nested sections for controllers (HPA metrics, behavior policies), with the same file:line errors.
  std::unique_ptr<Params> table(const std::string& key) override {
    if (!has(key)) fail(key, "a table (this key is required)");
    return std::make_unique<Reader>(section(key));
  }
  std::vector<std::unique_ptr<Params>> tables(const std::string& key) override {
    std::vector<std::unique_ptr<Params>> out;
    for (Reader& r : sections(key)) out.push_back(std::make_unique<Reader>(std::move(r)));
    return out;
  }
  // Throws for the first key of this table that no one read.
  void finish() override {
    std::vector<std::string> known(used_.begin(), used_.end());
    for (auto&& [k, v] : t_) {
      std::string key(k.str());
      if (used_.count(key)) continue;
      std::string hint = closest_match(key, known);
      int l = line_in_file(k.source()) ? line_in_file(k.source()) : line_of(key);
      throw InputError(file_for(l), l, field(key),
                       "unknown key" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
    }
  }

 private:
  Reader(const toml::table& t, std::string file, std::string path, std::string schema, int line)
      : t_(t), file_(std::move(file)), path_(std::move(path)), schema_(std::move(schema)), line_(line) {}

  static const toml::table& empty() {
    static const toml::table e;
    return e;
  }
  Reader sub(const std::string& key, std::string schema) {
    const toml::node* n = get(key);
    if (!n) return Reader(empty(), file_, field(key), std::move(schema), line_);
    const toml::table* t = n->as_table();
    if (!t) fail(key, "expected a table, got " + type_name(*n));
    return Reader(*t, file_, field(key), std::move(schema));
  }
  const KeyRange& range(const std::string& key, bool integer) const {
    const KeyRange& r = key_range(schema_, key);
    if ((r.kind != KeyKind::real) != integer)
      throw std::logic_error("scenario key '" + field(key) + "' read with the wrong kind");
    return r;
  }
  double checked(const std::string& key, const KeyRange& r, double v, const std::string& shown) const {
    if (!std::isfinite(v))
      fail(key, "value " + shown + " is not a finite number; expected " + expected_text(r));
    if (!in_range(r, v)) fail(key, "value " + shown + " is out of range; expected " + expected_text(r));
    return v;
  }
  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string:
        return "a string";
      case toml::node_type::integer:
        return "an integer";
      case toml::node_type::floating_point:
        return "a float";
      case toml::node_type::boolean:
        return "a boolean";
      case toml::node_type::table:
        return "a table";
      case toml::node_type::array:
        return "an array";
      default:
        return "a date/time";
    }
  }
  template <class T>
  T require(const std::string& key, const std::optional<T>& fallback, const char* what) const {
    if (fallback) return *fallback;
    throw InputError(file_for(line()), line(), field(key),
                     std::string("missing required key; expected ") + what);
  }

  const toml::table& t_;
  std::string file_;
  std::string path_;
  std::string schema_;
  int line_;
  std::set<std::string> used_;
  std::shared_ptr<const toml::table> doc_;
};

// An array of seeds (integers in the key's range, read as numbers).
inline std::vector<uint64_t> read_seeds(Reader& r, const std::string& key) {
  std::vector<uint64_t> out;
  for (double s : r.numbers(key, {})) {
    if (s != static_cast<double>(static_cast<uint64_t>(s))) r.fail(key, "integers in [0, 2^63-1]");
    out.push_back(static_cast<uint64_t>(s));
  }
  return out;
}

// One [[expect]] of a file whose result has named numbers (`metrics`): metric, op, value.
inline Expectation read_expectation(Reader& er, const std::vector<std::string>& metrics) {
  Expectation e;
  e.line = er.line();
  e.metric = er.choice("metric", std::nullopt, metrics);
  e.op = er.choice("op", std::nullopt, {"<", "<=", ">", ">=", "==", "!="});
  e.value = er.number("value", std::nullopt);
  er.finish();
  return e;
}

}  // namespace autoscale::toml_reader
