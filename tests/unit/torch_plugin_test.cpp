// LibTorch is a plugin (libautoscale_torch.so, forecasters/torch/backend.hpp) that the first neural model
// built or loaded in a process dlopen's: until then the process has not mapped it. Exceptions thrown inside
// the plugin are caught by type on this side.
#include <dlfcn.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "controllers/base/error.hpp"
#include "forecasters/torch/neural.hpp"

using namespace autoscale;
using namespace autoscale::forecast;

namespace {

// Whether a file whose path contains `part` is mapped into this process.
bool mapped(const std::string& part) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line))
    if (line.find(part) != std::string::npos) return true;
  return false;
}

// Whether the dynamic linker has libtorch_cpu loaded (RTLD_NOLOAD: asks, never loads).
bool torch_loaded() {
  void* h = ::dlopen("libtorch_cpu.so", RTLD_LAZY | RTLD_NOLOAD);
  if (h != nullptr) ::dlclose(h);
  return h != nullptr;
}

NeuralConfig tiny() {
  NeuralConfig c;
  c.kind = "gru";
  c.input_steps = 8;
  c.max_horizon_steps = 2;
  c.hidden = 4;
  c.epochs = 2;
  return c;
}

SeriesData sine(int n) {
  SeriesData s;
  s.name = "sine";
  s.step_s = 60;
  for (int i = 0; i < n; ++i) s.values.push_back(10 + 3 * std::sin(i * 2 * M_PI / 24));
  return s;
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("torch_plugin_test_" + std::to_string(::getpid()) + name))
      .string();
}

}  // namespace

// ctest runs every test case in a process of its own, so nothing neural has run in this one yet. (Run in one
// process with the others, a test case before this one may have loaded the plugin: then only the second half
// can be checked.)
TEST_CASE("LibTorch is not mapped until the first neural forecaster is built", "[torch_plugin]") {
  if (!mapped("libautoscale_torch.so")) {
    CHECK_FALSE(mapped("libtorch_cpu"));
    CHECK_FALSE(mapped("libc10"));
    CHECK_FALSE(torch_loaded());
    // The config and its JSON are torch-free.
    NeuralConfig c = tiny();
    CHECK(NeuralConfig::from_json(c.to_json(), "c").to_json() == c.to_json());
    CHECK(is_neural_kind("lstm"));
    CHECK_FALSE(mapped("libtorch_cpu"));
  } else {
    WARN("the plugin was loaded by an earlier test case in this process: only checking it stays loaded");
  }
  NeuralForecaster f(tiny());
  CHECK(mapped("libautoscale_torch.so"));
  CHECK(mapped("libtorch_cpu"));
  CHECK(torch_loaded());
  f.train({sine(120)}, {sine(40)});
  CHECK(f.trained());
  f.fit(sine(30).values, 60, 0);
  Forecast p = f.predict({1, 2}, {0.5});
  CHECK(std::isfinite(p.at(1, 0)));
}

TEST_CASE("exceptions thrown inside the plugin are caught by type outside it", "[torch_plugin]") {
  NeuralForecaster f(tiny());
  // Thrown by the plugin's backend: not trained, nothing observed.
  CHECK_THROWS_AS(f.loss({sine(60)}), InputError);
  CHECK_THROWS_AS(f.predict({1}), InputError);
  CHECK_THROWS_AS(f.observe(NAN, 1), std::runtime_error);
  f.train({sine(120)}, {sine(40)});
  const std::string path = temp_path("good.pt"), bad = temp_path("bad.pt");
  nlohmann::json d = f.save(path);
  std::ifstream in(path, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  // A truncated weights file: the plugin's InputError, as InputError and as its base classes, naming the
  // file.
  try {
    NeuralForecaster::load(d, bad);
    FAIL("no exception for a truncated weights file");
  } catch (const InputError& e) {
    INFO(e.what());
    CHECK(e.file() == bad);
    CHECK(std::string(e.what()).find(bad) != std::string::npos);
  }
  CHECK_THROWS_AS(NeuralForecaster::load(d, bad), std::runtime_error);
  CHECK_THROWS_AS(NeuralForecaster::load(d, bad), std::exception);
  CHECK_NOTHROW(NeuralForecaster::load(d, path));
  // Torch's own exceptions (c10::Error) arrive as std::exception: attention heads that do not divide the
  // width (a config from_params and from_json refuse, built directly here).
  NeuralConfig t = tiny();
  t.kind = "transformer";
  t.hidden = 5;
  t.heads = 2;
  NeuralForecaster transformer(t);
  CHECK_THROWS_AS(transformer.train({sine(120)}, {sine(40)}), std::exception);
  std::filesystem::remove(path);
  std::filesystem::remove(bad);
}
