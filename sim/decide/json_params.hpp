#pragma once
// Params over a JSON object: a controller given as JSON (`autoscale decide --controller FILE.json`). The same
// checks as a scenario's TOML: every number against its documented range (sim/scenario/key_ranges), NaN and
// infinity rejected, unknown keys reported with a hint; errors name the file and the key's JSON path (JSON
// has no line numbers once parsed: the path says where).
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "controllers/params.hpp"

namespace autoscale {

class JsonParams : public Params {
 public:
  // `schema`: the range table's name for this section ("controller", "controller.metrics", ...); `path`: how
  // errors name it ("metrics[0].resource").
  JsonParams(std::shared_ptr<const nlohmann::json> doc, const nlohmann::json& object, std::string file,
             std::string path, std::string schema);
  // The whole file, a JSON object with `kind` and the controller's keys.
  static std::shared_ptr<JsonParams> load(const std::string& path);

  double number(const std::string& key, std::optional<double> fallback) override;
  long integer(const std::string& key, std::optional<long> fallback) override;
  bool boolean(const std::string& key, std::optional<bool> fallback) override;
  std::string string(const std::string& key, std::optional<std::string> fallback) override;
  std::vector<std::string> strings(const std::string& key, std::vector<std::string> fallback) override;
  std::vector<double> numbers(const std::string& key, std::vector<double> fallback) override;
  bool has(const std::string& key) const override;
  std::unique_ptr<Params> table(const std::string& key) override;
  std::vector<std::unique_ptr<Params>> tables(const std::string& key) override;
  void finish() override;

 protected:
  void raise(const std::string& key, const std::string& expected) const override;

 private:
  const nlohmann::json* get(const std::string& key);
  std::string field(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string sub_schema(const std::string& key) const { return schema_.empty() ? key : schema_ + "." + key; }
  std::shared_ptr<const nlohmann::json> doc_;
  const nlohmann::json& object_;
  std::string file_, path_, schema_;
  std::set<std::string> used_;
};

}  // namespace autoscale
