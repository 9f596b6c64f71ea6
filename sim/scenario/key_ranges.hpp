#pragma once
// The documented range of every numeric scenario key, in one table: the scenario reader checks every number
// it reads against it (and rejects NaN and infinity), and a unit test checks that README.md's scenario
// reference shows each range. Also the limits that involve several keys, and the one rule every name follows.
#include <cstdint>
#include <string>
#include <vector>

namespace autoscale {

enum class KeyKind {
  real,   // a TOML float or integer
  count,  // a TOML integer that fits an int
  int64,  // any non-negative TOML integer (the seed)
};

struct KeyRange {
  // The TOML table as README.md's reference names it: "" (top level), "services", "services.startup",
  // "cluster.instance_types.<name>", "traffic.sources" (every kind), "distribution" (a { dist = ... } table).
  const char* table;
  const char* key;
  KeyKind kind;
  double min;
  bool min_open;  // (min, max] rather than [min, max]
  double max;
  const char* what;  // unit or meaning, for messages
};

// Limits involving several keys (README.md, "Limits and names").
constexpr double kMaxDurationS = 365 * 86400.0;  // longest simulated run
constexpr double kMinIntervalS = 1e-3;           // shortest interval of any periodic activity
constexpr double kMaxIntervals = 1e7;    // duration_s / any interval (rows, scrapes, ticks, steps, ...)
constexpr double kMaxScrapesKept = 1e5;  // (lag_s + window_s) / scrape_interval_s
constexpr double kMaxRequestsPerArrival = 1e4;  // expected service requests per end-user request
constexpr size_t kMaxNameChars = 64;

const std::vector<KeyRange>& key_ranges();
// The range of table.key; throws std::logic_error when it has none (every key the reader reads has one).
const KeyRange& key_range(const std::string& table, const std::string& key);
// 10000, 0.001, 1e12, 2^63-1: a number as README.md and messages show it.
std::string format_number(double v);
// "[1, 10000]", "(0, 1]": the range as README.md shows it.
std::string range_text(const KeyRange& r);
bool in_range(const KeyRange& r, double v);
// "an integer in [1, 10000] (worker threads per instance)"
std::string expected_text(const KeyRange& r);

// What every name (scenario, run, service, node pool, instance type, traffic source) must be.
extern const char* const kNameRule;
// Empty when `name` follows kNameRule; otherwise what is wrong with it.
std::string name_problem(const std::string& name);

// A --seed value: a decimal integer in the range of the scenario's `seed`; throws InputError naming --seed.
uint64_t parse_seed(const std::string& text);

}  // namespace autoscale
