#pragma once
// Params from an in-memory map: controllers configured from code (tests, benchmarks, `autoscale bench`).
#include <map>
#include <memory>
#include <stdexcept>
#include <variant>

#include "controllers/base/error.hpp"
#include "controllers/params.hpp"

namespace autoscale {

class MapParams : public Params {
 public:
  using Table = std::shared_ptr<MapParams>;
  using Value = std::variant<double, long, bool, std::string, std::vector<std::string>, Table,
                             std::vector<Table>, std::vector<double>>;
  explicit MapParams(std::map<std::string, Value> values = {}) : values_(std::move(values)) {}

  double number(const std::string& k, std::optional<double> f) override {
    if (auto* v = find(k)) {
      if (auto* l = std::get_if<long>(v)) return static_cast<double>(*l);
      return get<double>(k, *v);
    }
    return need(k, f);
  }
  long integer(const std::string& k, std::optional<long> f) override {
    if (auto* v = find(k)) return get<long>(k, *v);
    return need(k, f);
  }
  bool boolean(const std::string& k, std::optional<bool> f) override {
    if (auto* v = find(k)) return get<bool>(k, *v);
    return need(k, f);
  }
  std::string string(const std::string& k, std::optional<std::string> f) override {
    if (auto* v = find(k)) return get<std::string>(k, *v);
    return need(k, f);
  }
  std::vector<std::string> strings(const std::string& k, std::vector<std::string> f) override {
    if (auto* v = find(k)) return get<std::vector<std::string>>(k, *v);
    return f;
  }
  std::vector<double> numbers(const std::string& k, std::vector<double> f) override {
    if (auto* v = find(k)) return get<std::vector<double>>(k, *v);
    return f;
  }
  bool has(const std::string& k) const override { return values_.count(k) > 0; }
  bool is_list(const std::string& k) const override {
    const Value* v = find(k);
    return v && (std::holds_alternative<std::vector<double>>(*v) ||
                 std::holds_alternative<std::vector<std::string>>(*v) ||
                 std::holds_alternative<std::vector<Table>>(*v));
  }
  std::unique_ptr<Params> table(const std::string& k) override {
    const Value* v = find(k);
    if (!v) fail(k, "a section (this key is required)");
    return std::make_unique<MapParams>(*get<Table>(k, *v));
  }
  std::vector<std::unique_ptr<Params>> tables(const std::string& k) override {
    std::vector<std::unique_ptr<Params>> out;
    if (const Value* v = find(k))
      for (const Table& t : get<std::vector<Table>>(k, *v)) out.push_back(std::make_unique<MapParams>(*t));
    return out;
  }
  // Code-built settings have no typos to report.
  void finish() override {}

 protected:
  void raise(const std::string& k, const std::string& expected) const override {
    throw InputError("", 0, k, expected);
  }

 private:
  const Value* find(const std::string& k) const {
    auto it = values_.find(k);
    return it == values_.end() ? nullptr : &it->second;
  }
  template <class T>
  T get(const std::string& k, const Value& v) const {
    if (auto* p = std::get_if<T>(&v)) return *p;
    fail(k, "a value of another type");
  }
  template <class T>
  T need(const std::string& k, const std::optional<T>& f) const {
    if (!f) fail(k, "a value (this key is required)");
    return *f;
  }
  std::map<std::string, Value> values_;
};

}  // namespace autoscale
