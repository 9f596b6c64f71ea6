// The model registry: SHA-256 against FIPS 180-4 test vectors, versioned artifacts that are never
// overwritten, references (name, name@version, path), and loading that refuses damaged artifacts.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/store/sha256.hpp"
#include "forecasters/torch/neural.hpp"

using namespace autoscale;
using namespace autoscale::forecast;
namespace fs = std::filesystem;

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[store]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55 and 56 bytes: the padding boundary
  CHECK(sha256_hex(std::string(55, 'x')) != sha256_hex(std::string(56, 'x')));
  std::string dir = fs::temp_directory_path() / ("sha-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir + "/f", std::ios::binary) << "abc";
  CHECK(sha256_file(dir + "/f") == sha256_hex("abc"));
  CHECK_THROWS_AS(sha256_file(dir + "/missing"), InputError);
  fs::remove_all(dir);
}

namespace {

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("store-" + tag + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// A tiny model trained in well under a second.
std::unique_ptr<NeuralForecaster> tiny_model(std::uint64_t seed) {
  NeuralConfig c;
  c.kind = "gru";
  c.input_steps = 8;
  c.max_horizon_steps = 2;
  c.hidden = 4;
  c.epochs = 2;
  c.seed = seed;
  auto m = std::make_unique<NeuralForecaster>(c);
  SeriesData s;
  s.name = "sine";
  s.step_s = 60;
  for (int i = 0; i < 120; ++i) s.values.push_back(10 + 3 * std::sin(i * 2 * M_PI / 24));
  SeriesData v = s;
  v.values.resize(40);
  m->train({s}, {v});
  return m;
}

}  // namespace

TEST_CASE("save_model writes versions 1, 2, ... and never overwrites one", "[store]") {
  TempDir dir("versions");
  auto m = tiny_model(1);
  ModelInfo a = save_model(dir.path, "demo", *m, {{"note", "first"}});
  ModelInfo b = save_model(dir.path, "demo", *m, {{"note", "second"}});
  CHECK(a.version == 1);
  CHECK(b.version == 2);
  CHECK(resolve_model("demo@1", dir.path).meta["note"] == "first");
  CHECK(resolve_model("demo", dir.path).version == 2);  // newest
  CHECK(resolve_model(a.dir, dir.path).version == 1);   // a path
  auto all = list_models(dir.path);
  REQUIRE(all.size() == 2);
  CHECK(all[0].version == 1);
  CHECK(all[1].version == 2);
  CHECK(fs::exists(fs::path(a.dir) / "weights.pt"));
  // no temporary directory left behind
  for (const auto& e : fs::directory_iterator(fs::path(dir.path) / "demo"))
    CHECK(e.path().filename().string()[0] != '.');
}

TEST_CASE("a loaded model predicts as the saved one", "[store]") {
  TempDir dir("roundtrip");
  auto m = tiny_model(3);
  ModelInfo info = save_model(dir.path, "rt", *m, nlohmann::json::object());
  auto loaded = load_model("rt@1", dir.path);
  std::vector<double> history;
  for (int i = 0; i < 30; ++i) history.push_back(10 + 3 * std::sin(i * 2 * M_PI / 24));
  m->fit(history, 60, 0);
  loaded->fit(history, 60, 0);
  Forecast a = m->predict({1, 2}, {0.1, 0.5, 0.9});
  Forecast b = loaded->predict({1, 2}, {0.1, 0.5, 0.9});
  CHECK(a.values == b.values);
  CHECK(loaded->max_horizon_steps() == 2);
  CHECK(loaded->trained_step_s() == 60);
}

TEST_CASE("references and damaged artifacts fail with the reason", "[store]") {
  TempDir dir("bad");
  auto m = tiny_model(5);
  ModelInfo info = save_model(dir.path, "x", *m, nlohmann::json::object());
  CHECK_THROWS_WITH(resolve_model("nope", dir.path),
                    Catch::Contains("no model named \"nope\"") && Catch::Contains("models there: x"));
  CHECK_THROWS_WITH(resolve_model("x@2", dir.path),
                    Catch::Contains("no version 2") && Catch::Contains("versions: 1"));
  CHECK_THROWS_WITH(resolve_model("x@0", dir.path), Catch::Contains("positive integer"));
  CHECK_THROWS_WITH(resolve_model("x@v1", dir.path), Catch::Contains("positive integer"));
  CHECK_THROWS_WITH(resolve_model("a b", dir.path), Catch::Contains("the character ' '"));
  CHECK_THROWS_AS(save_model(dir.path, "../escape", *m, nlohmann::json::object()), InputError);

  const std::string weights = info.dir + "/weights.pt";
  std::string bytes;
  {
    std::ifstream in(weights, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  SECTION("truncated weights") {
    std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() / 2);
    CHECK_THROWS_WITH(load_model("x@1", dir.path), Catch::Contains(weights) && Catch::Contains("truncated"));
  }
  SECTION("a flipped byte") {
    std::string bad = bytes;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x5a);
    std::ofstream(weights, std::ios::binary | std::ios::trunc) << bad;
    CHECK_THROWS_WITH(load_model("x@1", dir.path), Catch::Contains(weights) && Catch::Contains("SHA-256"));
  }
  SECTION("missing weights") {
    fs::remove(weights);
    CHECK_THROWS_WITH(load_model("x@1", dir.path), Catch::Contains("missing"));
  }
  SECTION("model.json not JSON") {
    std::ofstream(info.dir + "/model.json", std::ios::trunc) << "{ not json";
    CHECK_THROWS_WITH(load_model("x@1", dir.path),
                      Catch::Contains("model.json") && Catch::Contains("not valid JSON"));
  }
  SECTION("model.json of another kind than the network") {
    nlohmann::json j;
    std::ifstream(info.dir + "/model.json") >> j;
    j["kind"] = "ar";
    std::ofstream(info.dir + "/model.json", std::ios::trunc) << j.dump();
    CHECK_THROWS_WITH(load_model("x@1", dir.path), Catch::Contains("'kind'"));
  }
}

TEST_CASE("a forecaster section takes a registry model or a kind, not both", "[store]") {
  TempDir dir("section");
  auto m = tiny_model(7);
  save_model(dir.path, "s", *m, nlohmann::json::object());
  MapParams by_model({{"model", std::string("s@1")}});
  CHECK(forecaster_from_section(by_model, dir.path)->kind() == "gru");
  MapParams both({{"model", std::string("s@1")}, {"kind", std::string("ar")}});
  CHECK_THROWS_WITH(forecaster_from_section(both, dir.path), Catch::Contains("no kind beside `model`"));
  MapParams missing({{"model", std::string("t@1")}});
  CHECK_THROWS_WITH(forecaster_from_section(missing, dir.path), Catch::Contains("'model'"));
  MapParams classical({{"kind", std::string("ewma")}});
  CHECK(forecaster_from_section(classical, dir.path)->kind() == "ewma");
}
