#pragma once
// Internal to sim/scenario: the pieces of the scenario loader that the bench loader shares (parsing, --set
// overrides, the deep merge of runs, reading one run). Included by sim/scenario/*.cpp only.
#include <toml++/toml.h>

#include <memory>
#include <ostream>
#include <set>
#include <string>

#include "controllers/base/error.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale::loader_detail {

// Warnings are printed once each, however many runs repeat them.
class Warnings {
 public:
  explicit Warnings(std::ostream& out) : out_(out) {}
  void add(const InputError& e) {
    if (seen_.insert(e.what()).second) out_ << "warning: " << e.what() << "\n";
  }

 private:
  std::ostream& out_;
  std::set<std::string> seen_;
};

toml::table parse_text(const std::string& text, const std::string& file);
// config_file_kind() of a parsed file.
std::string file_kind(const toml::table& top);
// Deep merge of `over` into `base` (moves keep their source lines); see scenario_loader.cpp.
void merge(toml::table& base, toml::table&& over, const std::string& file, const std::string& path);
// A --set assignment "dotted.key=value" as a table.
toml::table override_table(const std::string& assignment);
std::string resolve_path(const std::string& scenario_file, const std::string& p);
// One run from a document with the run's overrides merged in (every check of load_scenario).
RunSpec read_run(const std::shared_ptr<toml::table>& doc, const std::string& file, const std::string& name,
                 uint64_t seed, bool record_requests, Warnings& warnings);

}  // namespace autoscale::loader_detail
