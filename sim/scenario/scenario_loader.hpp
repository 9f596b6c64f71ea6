#pragma once
// Reads a scenario TOML file into a Scenario: strict (unknown keys are errors, with a "did you mean" hint),
// every error names the file, the line and the key. The only user of toml++.
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "controllers/params.hpp"
#include "sim/core/scenario.hpp"

namespace autoscale {

struct LoadOptions {
  std::vector<std::string> set;  // "dotted.key=value" overrides, applied before the runs' own overrides
  std::optional<uint64_t> seed;  // replaces the scenario's seed
  bool record_requests = false;
  std::ostream* warnings = nullptr;  // where warnings go (each once); nullptr: stderr
};

// Throws InputError on any bad input, including trace files and controller settings (every run is checked):
// every number is checked against its range (key_ranges.hpp), every name against kNameRule.
Scenario load_scenario(const std::string& path, const LoadOptions& opts);

// A controller section alone, as a file (`autoscale decide --controller FILE.toml`): `kind` and the
// controller's own keys at the top level, read with the same checks and file:line errors as the [controller]
// of a scenario.
// `schema` names the file's top level in the range table (key_ranges.cpp): "controller" for a controller,
// another name for other files read the same way (a training config, an evaluation config).
std::shared_ptr<Params> load_controller_toml(const std::string& path,
                                             const std::string& schema = "controller");
// The same from text; `origin` names it in errors.
std::shared_ptr<Params> parse_controller_toml(const std::string& text, const std::string& origin,
                                              const std::string& schema = "controller");
std::string tomlplusplus_version();

// What a TOML file of the project is, by its top-level tables: "scenario" (has [[services]], or anything not
// recognised), "train" ([data] and [model]), "forecast_eval" ([evaluation] or [[forecaster]]), "bench"
// ([[scenario]] and [[controller]]), "calibrate" ([grid] and [objective]), "train_rl" ([env] and
// [algorithm]). A syntax error is an InputError.
std::string config_file_kind(const std::string& path);

}  // namespace autoscale
