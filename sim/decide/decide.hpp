#pragma once
// `autoscale decide`: observations of one scaled target, one JSON object per line (the format of
// ../README.md, "autoscale decide"), replayed through a controller; one JSON line out per line in. The lines
// become the same Observation the simulator builds, and the controller object is the one the simulator runs.
#include <istream>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "controllers/observation.hpp"
#include "controllers/params.hpp"

namespace autoscale {

enum class LineFormat { hpa, kpa };
LineFormat line_format_for(const std::string& kind);

// One observation line; throws InputError naming `file`, `line` and the field.
Observation parse_observation(const nlohmann::json& j, LineFormat format, const std::string& file, int line);

// Reads the controller (a TOML or JSON file, by extension), replays every line of `observations` and writes
// the decisions to `out`. Throws InputError on bad input (nothing is written for a bad line).
void run_decide(const std::string& controller_file, const std::string& observations_file, std::ostream& out);

}  // namespace autoscale
