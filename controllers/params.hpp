#pragma once
// A controller's configuration section, read key by key. Controllers see only this interface; the TOML reader
// behind it (sim/scenario) reports unknown keys and wrong types with the file and line, so controllers stay
// format-free.
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"

namespace autoscale {

class Params {
 public:
  virtual ~Params() = default;
  virtual double number(const std::string& key, std::optional<double> fallback) = 0;
  virtual long integer(const std::string& key, std::optional<long> fallback) = 0;
  virtual bool boolean(const std::string& key, std::optional<bool> fallback) = 0;
  virtual std::string string(const std::string& key, std::optional<std::string> fallback) = 0;
  virtual std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) = 0;
  // An array of numbers, each checked as number() checks one; `fallback` when absent.
  virtual std::vector<double> numbers(const std::string& key, std::vector<double> fallback) = 0;
  virtual bool has(const std::string& key) const = 0;
  // Whether the key holds an array (for keys that take a value or a list).
  virtual bool is_list(const std::string& /*key*/) const { return false; }
  // A nested section (a TOML table, a JSON object); throws when absent (check has() first).
  virtual std::unique_ptr<Params> table(const std::string& key) = 0;
  // An array of sections ([[x]] or [{...}] ); empty when absent.
  virtual std::vector<std::unique_ptr<Params>> tables(const std::string& key) = 0;
  // Throws for the first key of this section nobody read (a typo), naming it.
  virtual void finish() = 0;
  // A string among `allowed`; anything else fails naming the allowed values and the closest one.
  std::string choice(const std::string& key, std::optional<std::string> fallback,
                     const std::vector<std::string>& allowed) {
    std::string v = string(key, std::move(fallback));
    if (std::find(allowed.begin(), allowed.end(), v) != allowed.end()) return v;
    std::string list;
    for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + ("\"" + a + "\"");
    std::string hint = closest_match(v, allowed);
    fail(key, "unknown value \"" + v + "\"; expected one of " + list +
                  (hint.empty() ? "" : " (did you mean \"" + hint + "\"?)"));
  }
  // Throws an InputError naming this section's file, the key's line and `expected`.
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const {
    raise(key, expected);
    std::abort();  // raise() always throws
  }

 protected:
  virtual void raise(const std::string& key, const std::string& expected) const = 0;
};

}  // namespace autoscale
