#include "sim/decide/json_params.hpp"

#include <cmath>
#include <fstream>
#include <vector>

#include "controllers/base/error.hpp"
#include "sim/scenario/key_ranges.hpp"

namespace autoscale {

namespace {
std::string type_name(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  return "null";
}
}  // namespace

JsonParams::JsonParams(std::shared_ptr<const nlohmann::json> doc, const nlohmann::json& object,
                       std::string file, std::string path, std::string schema)
    : doc_(std::move(doc)),
      object_(object),
      file_(std::move(file)),
      path_(std::move(path)),
      schema_(std::move(schema)) {}

std::shared_ptr<JsonParams> JsonParams::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open controller file (expected a readable JSON file)");
  auto doc = std::make_shared<nlohmann::json>();
  try {
    in >> *doc;
  } catch (const nlohmann::json::parse_error& e) {
    throw InputError(path, 0, "", std::string("JSON syntax error: ") + e.what());
  }
  if (!doc->is_object())
    throw InputError(path, 0, "", "expected a JSON object with `kind` and the controller's keys");
  return std::make_shared<JsonParams>(doc, *doc, path, "", "controller");
}

void JsonParams::raise(const std::string& key, const std::string& expected) const {
  throw InputError(file_, 0, field(key), expected);
}

bool JsonParams::has(const std::string& key) const {
  return object_.contains(key) && !object_.at(key).is_null();
}

const nlohmann::json* JsonParams::get(const std::string& key) {
  used_.insert(key);
  auto it = object_.find(key);
  if (it == object_.end() || it->is_null()) return nullptr;
  return &*it;
}

double JsonParams::number(const std::string& key, std::optional<double> fallback) {
  const KeyRange& r = key_range(schema_, key);
  const nlohmann::json* v = get(key);
  if (!v) {
    if (!fallback) fail(key, "a number (this key is required)");
    return *fallback;
  }
  if (!v->is_number()) fail(key, "expected " + expected_text(r) + ", got " + type_name(*v));
  double x = v->get<double>();
  if (!std::isfinite(x) || !in_range(r, x))
    fail(key, "value " + format_number(x) + " is out of range; expected " + expected_text(r));
  return x;
}

long JsonParams::integer(const std::string& key, std::optional<long> fallback) {
  const KeyRange& r = key_range(schema_, key);
  const nlohmann::json* v = get(key);
  if (!v) {
    if (!fallback) fail(key, "an integer (this key is required)");
    return *fallback;
  }
  if (!v->is_number_integer() && !v->is_number_unsigned())
    fail(key, "expected " + expected_text(r) + ", got " + type_name(*v));
  double x = v->get<double>();
  if (!in_range(r, x))
    fail(key, "value " + format_number(x) + " is out of range; expected " + expected_text(r));
  return v->get<long>();
}

bool JsonParams::boolean(const std::string& key, std::optional<bool> fallback) {
  const nlohmann::json* v = get(key);
  if (!v) {
    if (!fallback) fail(key, "true or false (this key is required)");
    return *fallback;
  }
  if (!v->is_boolean()) fail(key, "expected true or false, got " + type_name(*v));
  return v->get<bool>();
}

std::string JsonParams::string(const std::string& key, std::optional<std::string> fallback) {
  const nlohmann::json* v = get(key);
  if (!v) {
    if (!fallback) fail(key, "a string (this key is required)");
    return *fallback;
  }
  if (!v->is_string()) fail(key, "expected a string, got " + type_name(*v));
  return v->get<std::string>();
}

std::vector<std::string> JsonParams::strings(const std::string& key, std::vector<std::string> fallback) {
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_array()) fail(key, "expected an array of strings, got " + type_name(*v));
  std::vector<std::string> out;
  for (const auto& e : *v) {
    if (!e.is_string()) fail(key, "expected an array of strings, found " + type_name(e));
    out.push_back(e.get<std::string>());
  }
  return out;
}

std::vector<double> JsonParams::numbers(const std::string& key, std::vector<double> fallback) {
  const KeyRange& r = key_range(schema_, key);
  const nlohmann::json* v = get(key);
  if (!v) return fallback;
  if (!v->is_array()) fail(key, "expected an array of numbers, got " + type_name(*v));
  std::vector<double> out;
  for (const auto& e : *v) {
    if (!e.is_number()) fail(key, "expected an array of numbers, found " + type_name(e));
    double x = e.get<double>();
    if (!std::isfinite(x) || !in_range(r, x))
      fail(key, "element " + std::to_string(out.size()) + ": value " + format_number(x) +
                    " is out of range; expected " + expected_text(r));
    out.push_back(x);
  }
  return out;
}

std::unique_ptr<Params> JsonParams::table(const std::string& key) {
  const nlohmann::json* v = get(key);
  if (!v) fail(key, "an object (this key is required)");
  if (!v->is_object()) fail(key, "expected an object, got " + type_name(*v));
  return std::make_unique<JsonParams>(doc_, *v, file_, field(key), sub_schema(key));
}

std::vector<std::unique_ptr<Params>> JsonParams::tables(const std::string& key) {
  std::vector<std::unique_ptr<Params>> out;
  const nlohmann::json* v = get(key);
  if (!v) return out;
  if (!v->is_array()) fail(key, "expected an array of objects, got " + type_name(*v));
  for (size_t i = 0; i < v->size(); ++i) {
    const nlohmann::json& e = (*v)[i];
    if (!e.is_object()) fail(key, "expected an array of objects, found " + type_name(e));
    out.push_back(std::make_unique<JsonParams>(doc_, e, file_, field(key) + "[" + std::to_string(i) + "]",
                                               sub_schema(key)));
  }
  return out;
}

void JsonParams::finish() {
  std::vector<std::string> known(used_.begin(), used_.end());
  for (auto it = object_.begin(); it != object_.end(); ++it) {
    if (used_.count(it.key())) continue;
    std::string hint = closest_match(it.key(), known);
    throw InputError(file_, 0, field(it.key()),
                     "unknown key" + (hint.empty() ? std::string() : " (did you mean '" + hint + "'?)"));
  }
}

}  // namespace autoscale
