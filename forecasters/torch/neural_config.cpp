// The neural forecasters' configuration: Params and JSON in, checked NeuralConfig out. No torch here (this
// translation unit compiles in a second, neural.cpp is the one that pays for the torch headers).
#include <climits>
#include <cmath>
#include <string>

#include "controllers/base/error.hpp"
#include "forecasters/factories.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale::forecast {

namespace {

// Every numeric key with its range: from_params and from_json check the same ones, and
// sim/scenario/key_ranges.cpp and README.md show them.
struct IntKey {
  const char* key;
  int NeuralConfig::*member;
  long lo, hi;
};
const IntKey kInts[] = {
    {"input_steps", &NeuralConfig::input_steps, 1, 10000},
    {"max_horizon_steps", &NeuralConfig::max_horizon_steps, 1, 1000},
    {"hidden", &NeuralConfig::hidden, 1, 1024},
    {"layers", &NeuralConfig::layers, 1, 8},
    {"heads", &NeuralConfig::heads, 1, 64},
    {"epochs", &NeuralConfig::epochs, 1, 10000},
    {"batch_size", &NeuralConfig::batch_size, 1, 65536},
    {"patience", &NeuralConfig::patience, 1, 10000},
    {"threads", &NeuralConfig::threads, 1, 256},
};

struct NumberKey {
  const char* key;
  double NeuralConfig::*member;
  double lo, hi;
  bool lo_open;
};
const NumberKey kNumbers[] = {
    {"dropout", &NeuralConfig::dropout, 0, 0.9, false},
    {"learning_rate", &NeuralConfig::learning_rate, 0, 1, true},
    {"weight_decay", &NeuralConfig::weight_decay, 0, 1, false},
    {"validation_fraction", &NeuralConfig::validation_fraction, 0, 0.9, false},
};

constexpr double kQuantileLo = 0.001, kQuantileHi = 0.999;
const std::vector<std::string> kScalings{"log_window", "window", "global"};

// "" when `q` is a usable grid, else what a grid must be.
std::string quantile_problem(const std::vector<double>& q) {
  const std::string expected =
      "probabilities in [0.001, 0.999], strictly increasing, among them 0.5 (the median)";
  bool median = false;
  for (std::size_t i = 0; i < q.size(); ++i) {
    if (!(q[i] >= kQuantileLo && q[i] <= kQuantileHi)) return expected;
    if (i > 0 && !(q[i] > q[i - 1])) return expected;
    median = median || q[i] == 0.5;
  }
  return median ? "" : expected;
}

std::string heads_problem(const NeuralConfig& c) {
  if (c.kind != "transformer" || c.hidden % c.heads == 0) return "";
  return "a divisor of hidden (" + std::to_string(c.hidden) + ")";
}

}  // namespace

const std::vector<std::string>& neural_kinds() {
  static const std::vector<std::string> k{"lstm", "gru", "transformer"};
  return k;
}

bool is_neural_kind(const std::string& kind) {
  for (const auto& k : neural_kinds())
    if (k == kind) return true;
  return false;
}

NeuralConfig NeuralConfig::from_params(const std::string& kind, Params& p) {
  if (!is_neural_kind(kind)) p.fail("kind", "\"lstm\", \"gru\" or \"transformer\"");
  NeuralConfig c;
  c.kind = kind;
  for (const IntKey& k : kInts) {
    // Attention heads mean nothing to a recurrent network: left unread, finish() reports the key.
    if (std::string(k.key) == "heads" && kind != "transformer") continue;
    c.*k.member = static_cast<int>(read_int(p, k.key, c.*k.member, k.lo, k.hi));
  }
  for (const NumberKey& k : kNumbers) c.*k.member = read_number(p, k.key, c.*k.member, k.lo, k.hi, k.lo_open);
  c.quantiles = p.numbers("quantiles", c.quantiles);
  std::string problem = quantile_problem(c.quantiles);
  if (!problem.empty()) p.fail("quantiles", problem);
  problem = heads_problem(c);
  if (!problem.empty()) p.fail("heads", problem);
  c.scaling = p.choice("scaling", c.scaling, kScalings);
  c.time_features = p.boolean("time_features", c.time_features);
  c.seed = static_cast<std::uint64_t>(read_int(p, "seed", static_cast<long>(c.seed), 0, LONG_MAX));
  return c;
}

nlohmann::json NeuralConfig::to_json() const {
  nlohmann::json j;
  j["kind"] = kind;
  for (const IntKey& k : kInts) j[k.key] = this->*k.member;
  for (const NumberKey& k : kNumbers) j[k.key] = this->*k.member;
  j["quantiles"] = quantiles;
  j["scaling"] = scaling;
  j["time_features"] = time_features;
  j["seed"] = seed;
  return j;
}

NeuralConfig NeuralConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  auto bad = [&](const std::string& key, const std::string& expected) {
    throw InputError(origin, 0, "model." + key, expected);
  };
  if (!j.is_object()) bad("config", "an object");
  auto get = [&](const char* key) -> const nlohmann::json& {
    auto it = j.find(key);
    if (it == j.end()) bad(key, "a value (this key is required)");
    return *it;
  };
  NeuralConfig c;
  const nlohmann::json& kind = get("kind");
  if (!kind.is_string() || !is_neural_kind(kind.get<std::string>()))
    bad("kind", "\"lstm\", \"gru\" or \"transformer\"");
  c.kind = kind.get<std::string>();
  for (const IntKey& k : kInts) {
    const nlohmann::json& v = get(k.key);
    std::string expected = "an integer in [" + std::to_string(k.lo) + ", " + std::to_string(k.hi) + "]";
    if (!v.is_number_integer()) bad(k.key, expected);
    long x = v.get<long>();
    if (x < k.lo || x > k.hi) bad(k.key, expected);
    c.*k.member = static_cast<int>(x);
  }
  for (const NumberKey& k : kNumbers) {
    const nlohmann::json& v = get(k.key);
    double x = v.is_number() ? v.get<double>() : NAN;
    if (!std::isfinite(x) || x > k.hi || x < k.lo || (k.lo_open && x == k.lo))
      bad(k.key, std::string("a number in ") + (k.lo_open ? "(" : "[") + std::to_string(k.lo) + ", " +
                     std::to_string(k.hi) + "]");
  }
  for (const NumberKey& k : kNumbers) c.*k.member = get(k.key).get<double>();
  const nlohmann::json& q = get("quantiles");
  if (!q.is_array()) bad("quantiles", "an array of numbers");
  c.quantiles.clear();
  for (const auto& e : q) {
    if (!e.is_number()) bad("quantiles", "an array of numbers");
    c.quantiles.push_back(e.get<double>());
  }
  std::string problem = quantile_problem(c.quantiles);
  if (!problem.empty()) bad("quantiles", problem);
  problem = heads_problem(c);
  if (!problem.empty()) bad("heads", problem);
  const nlohmann::json& scaling = get("scaling");
  if (!scaling.is_string()) bad("scaling", "\"log_window\", \"window\" or \"global\"");
  c.scaling = scaling.get<std::string>();
  bool known = false;
  for (const auto& s : kScalings) known = known || s == c.scaling;
  if (!known) bad("scaling", "\"log_window\", \"window\" or \"global\"");
  const nlohmann::json& tf = get("time_features");
  if (!tf.is_boolean()) bad("time_features", "true or false");
  c.time_features = tf.get<bool>();
  const nlohmann::json& seed = get("seed");
  if (!seed.is_number_unsigned() && !(seed.is_number_integer() && seed.get<long>() >= 0))
    bad("seed", "a non-negative integer");
  c.seed = seed.get<std::uint64_t>();
  return c;
}

std::unique_ptr<Forecaster> make_neural(const std::string& kind, Params& settings) {
  return std::make_unique<NeuralForecaster>(NeuralConfig::from_params(kind, settings));
}

}  // namespace autoscale::forecast
