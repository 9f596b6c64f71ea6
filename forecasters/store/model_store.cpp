#include "forecasters/store/model_store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "controllers/base/error.hpp"
#include "forecasters/store/sha256.hpp"
#include "forecasters/torch/neural.hpp"

namespace autoscale::forecast {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "autoscale-model";
constexpr int kFormatVersion = 1;
constexpr const char* kWeightsFile = "weights.pt";

// Registry names: what a directory name and a reference can hold unambiguously.
std::string name_problem(const std::string& name) {
  if (name.empty()) return "an empty name";
  if (name.size() > 64) return "a name of " + std::to_string(name.size()) + " characters";
  if (name[0] == '.' || name[0] == '-') return "a name starting with '" + std::string(1, name[0]) + "'";
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return "the character '" + std::string(1, c) + "' in \"" + name + "\"";
  return "";
}

// Positive decimal integers only ("1", "12"; not "01", "+1", "1.0").
int parse_version(const std::string& s) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return 0;
  for (char c : s)
    if (c < '0' || c > '9') return 0;
  return std::stoi(s);
}

std::vector<int> versions_in(const fs::path& dir) {
  std::vector<int> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    int v = parse_version(e.path().filename().string());
    if (v > 0 && e.is_directory()) out.push_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

nlohmann::json read_meta(const fs::path& dir) {
  fs::path file = dir / "model.json";
  std::ifstream in(file);
  if (!in)
    throw InputError(file.string(), 0, "",
                     "cannot read the model's description (expected a model artifact directory with "
                     "model.json and its weights)");
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), 0, "", std::string("not valid JSON: ") + e.what());
  }
  auto need = [&](const char* key, bool ok, const char* what) {
    if (!ok) throw InputError(file.string(), 0, key, std::string("expected ") + what);
  };
  need("format", j.is_object() && j.value("format", "") == kFormat,
       "\"format\": \"autoscale-model\" (this is not a model artifact)");
  need("format_version", j.contains("format_version") && j["format_version"].is_number_integer(),
       "an integer format version");
  int fv = j["format_version"].get<int>();
  need("format_version", fv <= kFormatVersion, "format version 1 (written by a newer autoscale?)");
  need("name", j.contains("name") && j["name"].is_string(), "the model's name");
  need("version", j.contains("version") && j["version"].is_number_integer(), "an integer version");
  need("kind", j.contains("kind") && j["kind"].is_string(), "the forecaster kind");
  need("model", j.contains("model") && j["model"].is_object(), "the model's description (an object)");
  need("weights",
       j.contains("weights") && j["weights"].is_object() && j["weights"].contains("file") &&
           j["weights"]["file"].is_string() && j["weights"].contains("sha256") &&
           j["weights"]["sha256"].is_string() && j["weights"].contains("bytes") &&
           j["weights"]["bytes"].is_number_integer(),
       "{\"file\", \"bytes\", \"sha256\"} of the weights");
  std::string wf = j["weights"]["file"].get<std::string>();
  need("weights.file", !name_problem(wf).size() && wf.find('/') == std::string::npos,
       "a file name inside the artifact directory");
  return j;
}

std::string available(const fs::path& models_dir) {
  std::string list;
  std::error_code ec;
  std::vector<std::string> names;
  if (fs::is_directory(models_dir, ec))
    for (const auto& e : fs::directory_iterator(models_dir, ec))
      if (e.is_directory() && !versions_in(e.path()).empty()) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return list.empty() ? "none" : list;
}

}  // namespace

std::string default_models_dir() {
  const char* env = std::getenv("AUTOSCALE_MODELS");
  return env && *env ? std::string(env) : std::string("models");
}

ModelInfo resolve_model(const std::string& ref, const std::string& models_dir) {
  ModelInfo info;
  std::error_code ec;
  if (ref.find('/') != std::string::npos ||
      (fs::is_directory(ref, ec) && fs::exists(fs::path(ref) / "model.json"))) {
    info.dir = ref;
    info.meta = read_meta(ref);
    info.name = info.meta["name"].get<std::string>();
    info.version = info.meta["version"].get<int>();
    return info;
  }
  std::string name = ref, version_text;
  if (auto at = ref.find('@'); at != std::string::npos) {
    name = ref.substr(0, at);
    version_text = ref.substr(at + 1);
  }
  std::string problem = name_problem(name);
  if (!problem.empty())
    throw InputError(
        "", 0, "model",
        "\"" + ref + "\" has " + problem + "; expected NAME, NAME@VERSION or a path to a model directory");
  fs::path dir = fs::path(models_dir) / name;
  std::vector<int> versions = versions_in(dir);
  if (versions.empty())
    throw InputError("", 0, "model",
                     "no model named \"" + name + "\" in the registry " + models_dir +
                         " (models there: " + available(models_dir) +
                         "; train one with `autoscale train`, or set --models / $AUTOSCALE_MODELS)");
  int version = versions.back();
  if (!version_text.empty()) {
    version = parse_version(version_text);
    if (version == 0)
      throw InputError("", 0, "model",
                       "\"" + ref + "\": the version must be a positive integer (NAME@1, NAME@2, ...)");
    if (!std::binary_search(versions.begin(), versions.end(), version)) {
      std::string list;
      for (int v : versions) list += (list.empty() ? "" : ", ") + std::to_string(v);
      throw InputError("", 0, "model",
                       "model \"" + name + "\" has no version " + version_text + " in " + models_dir +
                           " (versions: " + list + ")");
    }
  }
  info.dir = (dir / std::to_string(version)).string();
  info.meta = read_meta(info.dir);
  info.name = name;
  info.version = version;
  if (info.meta["name"].get<std::string>() != name || info.meta["version"].get<int>() != version)
    throw InputError((fs::path(info.dir) / "model.json").string(), 0, "name",
                     "the artifact of " + name + "@" + std::to_string(version) + " (it says " +
                         info.meta["name"].get<std::string>() + "@" +
                         std::to_string(info.meta["version"].get<int>()) + ")");
  return info;
}

std::vector<ModelInfo> list_models(const std::string& models_dir) {
  std::vector<ModelInfo> out;
  std::error_code ec;
  if (!fs::is_directory(models_dir, ec)) return out;
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(models_dir, ec))
    if (e.is_directory() && name_problem(e.path().filename().string()).empty())
      names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  for (const auto& name : names)
    for (int v : versions_in(fs::path(models_dir) / name)) {
      ModelInfo m;
      m.name = name;
      m.version = v;
      m.dir = (fs::path(models_dir) / name / std::to_string(v)).string();
      try {
        m.meta = read_meta(m.dir);
      } catch (const InputError&) {
        m.meta = nullptr;  // listed as damaged
      }
      out.push_back(std::move(m));
    }
  return out;
}

std::string checked_weights(const ModelInfo& info) {
  const nlohmann::json& w = info.meta["weights"];
  fs::path weights = fs::path(info.dir) / w["file"].get<std::string>();
  std::error_code ec;
  if (!fs::is_regular_file(weights, ec))
    throw InputError(weights.string(), 0, "weights", "the weights file named in model.json is missing");
  auto size = fs::file_size(weights, ec);
  auto expected = w["bytes"].get<long long>();
  if (ec || static_cast<long long>(size) != expected)
    throw InputError(weights.string(), 0, "weights",
                     std::to_string(expected) + " bytes as model.json records, found " +
                         std::to_string(size) + " (truncated or replaced)");
  std::string digest = sha256_file(weights.string());
  if (digest != w["sha256"].get<std::string>())
    throw InputError(weights.string(), 0, "weights",
                     "SHA-256 " + w["sha256"].get<std::string>() + " as model.json records, found " + digest +
                         " (the file is damaged or was replaced)");
  return weights.string();
}

std::unique_ptr<Forecaster> load_model(const std::string& ref, const std::string& models_dir) {
  ModelInfo info = resolve_model(ref, models_dir);
  fs::path weights = checked_weights(info);
  std::string kind = info.meta["kind"].get<std::string>();
  if (!is_neural_kind(kind))
    throw InputError((fs::path(info.dir) / "model.json").string(), 0, "kind",
                     "a stored kind (lstm, gru, transformer), got \"" + kind + "\"");
  if (info.meta["model"].value("kind", kind) != kind)
    throw InputError((fs::path(info.dir) / "model.json").string(), 0, "model.kind",
                     "the kind \"" + kind + "\" of the artifact, got \"" +
                         info.meta["model"].value("kind", std::string()) + "\"");
  return NeuralForecaster::load(info.meta["model"], weights.string());
}

std::unique_ptr<Forecaster> forecaster_from_section(Params& section, const std::string& models_dir,
                                                    const std::string& base_dir) {
  if (section.has("model")) {
    std::string ref = section.string("model", std::nullopt);
    std::string dir = models_dir;
    if (section.has("models_dir")) {
      fs::path d = section.string("models_dir", std::nullopt);
      dir = (d.is_absolute() || base_dir.empty() ? d : fs::path(base_dir) / d).lexically_normal().string();
    }
    if (section.has("kind"))
      section.fail("kind", "no kind beside `model` (the registry model's kind is in its model.json)");
    section.finish();
    if (ref.find('/') != std::string::npos && !fs::path(ref).is_absolute() && !base_dir.empty())
      ref = (fs::path(base_dir) / ref).lexically_normal().string();
    try {
      return load_model(ref, dir);
    } catch (const InputError& e) {
      if (e.file().empty()) section.fail("model", e.message());
      throw;
    }
  }
  std::string kind = section.string("kind", std::nullopt);
  return make_forecaster(kind, section);
}

ModelInfo save_model(const std::string& models_dir, const std::string& name, const NeuralForecaster& model,
                     const nlohmann::json& meta) {
  return save_artifact(
      models_dir, name, model.kind(), [&](const std::string& weights) { return model.save(weights); }, meta);
}

ModelInfo save_artifact(const std::string& models_dir, const std::string& name, const std::string& kind,
                        const std::function<nlohmann::json(const std::string& weights_path)>& write,
                        const nlohmann::json& meta) {
  std::string problem = name_problem(name);
  if (!problem.empty())
    throw InputError("", 0, "name",
                     "a model name of letters, digits, '_', '-' and '.' (not first), got " + problem);
  fs::path dir = fs::path(models_dir) / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create the model directory " + dir.string() + ": " + ec.message());
  fs::path tmp = dir / (".tmp-" + std::to_string(::getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directories(tmp, ec);
  if (ec) throw std::runtime_error("cannot create " + tmp.string() + ": " + ec.message());
  try {
    fs::path weights = tmp / kWeightsFile;
    nlohmann::json description = write(weights.string());
    nlohmann::json j = meta;
    j["format"] = kFormat;
    j["format_version"] = kFormatVersion;
    j["name"] = name;
    j["kind"] = kind;
    j["model"] = description;
    j["weights"] = {{"file", kWeightsFile},
                    {"bytes", static_cast<long long>(fs::file_size(weights))},
                    {"sha256", sha256_file(weights.string())}};
    // The next free version; a concurrent writer that took it first makes us try the one after.
    for (int attempt = 0; attempt < 100; ++attempt) {
      std::vector<int> versions = versions_in(dir);
      int version = versions.empty() ? 1 : versions.back() + 1;
      j["version"] = version;
      {
        std::ofstream out(tmp / "model.json");
        out << j.dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write " + (tmp / "model.json").string());
      }
      fs::path final_dir = dir / std::to_string(version);
      // rename(2) onto an existing non-empty directory fails: a version is never overwritten.
      if (::rename(tmp.c_str(), final_dir.c_str()) == 0) {
        ModelInfo info;
        info.name = name;
        info.version = version;
        info.dir = final_dir.string();
        info.meta = j;
        return info;
      }
    }
    throw std::runtime_error("cannot find a free version directory under " + dir.string());
  } catch (...) {
    fs::remove_all(tmp, ec);
    throw;
  }
}

}  // namespace autoscale::forecast
