#pragma once
// The model registry: trained forecasters stored as versioned artifacts, models/<name>/<version>/ with the
// weights and a model.json (kind, hyper-parameters, feature config, normalisation constants, training data
// files with their SHA-256, split, seed, epochs, metrics, project version). Versions are 1, 2, 3, ... and
// never overwritten: a new artifact is written to a temporary directory and renamed into place.
//
// A reference names a model: "name" (its newest version), "name@version", or a path to an artifact directory
// (anything containing a '/', or an existing directory).
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "forecasters/forecaster.hpp"

namespace autoscale::forecast {

// $AUTOSCALE_MODELS when set, else "models" (relative to the working directory).
std::string default_models_dir();

struct ModelInfo {
  std::string name;
  int version = 0;
  std::string dir;      // the artifact directory
  nlohmann::json meta;  // model.json
};

// Resolves and reads model.json (not the weights). InputError naming the reference, the directory or the
// file when anything is missing or malformed.
ModelInfo resolve_model(const std::string& ref, const std::string& models_dir);
// Every artifact under models_dir, by name then version (unreadable ones are skipped: `models show` names
// the problem).
std::vector<ModelInfo> list_models(const std::string& models_dir);
// resolve_model, then checks the weights file against the SHA-256 in model.json and loads the model (a
// frozen forecaster). InputError naming the file on any mismatch.
std::unique_ptr<Forecaster> load_model(const std::string& ref, const std::string& models_dir);

// A forecaster section: either `model = "<reference>"` (a registry model; besides it only `models_dir`, a
// registry directory relative to base_dir) or `kind = "..."` with the kind's keys (make_forecaster). A
// reference that is a path is relative to base_dir (empty: the working directory). Calls finish().
std::unique_ptr<Forecaster> forecaster_from_section(Params& section, const std::string& models_dir,
                                                    const std::string& base_dir = "");

// The weights file of a resolved artifact, checked against model.json's size and SHA-256: its path, or
// InputError naming the file when it is missing, truncated or replaced.
std::string checked_weights(const ModelInfo& info);

// save_model for any kind of artifact (rl_policy too): `write(weights_path)` writes the weights and returns
// the model's description, stored under "model"; the rest as save_model.
ModelInfo save_artifact(const std::string& models_dir, const std::string& name, const std::string& kind,
                        const std::function<nlohmann::json(const std::string& weights_path)>& write,
                        const nlohmann::json& meta);

class NeuralForecaster;
// Stores a trained model as the next version of `name` under models_dir (created if needed): its weights
// and model.json = `meta` (training data, split, metrics, ...) plus format, name, version, kind, the model's
// description and the weights' file name, size and SHA-256. Written to a temporary directory and renamed
// into place; an existing version is never touched.
ModelInfo save_model(const std::string& models_dir, const std::string& name, const NeuralForecaster& model,
                     const nlohmann::json& meta);

}  // namespace autoscale::forecast
