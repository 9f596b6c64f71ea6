#pragma once
// Private to the torch plugin (neural.cpp, rl_agents.cpp): what its two translation units share.
//
// Torch's random generator and thread count are process-wide, so every training in the plugin (a
// forecaster's, a policy's) holds one lock and sets the thread count for its own duration: trainings side by
// side (forecast-eval's threads, an RL run beside a forecaster) give the weights they give alone.
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace autoscale::torch_state {

// One lock for the whole plugin (an inline function's static: one object across its translation units).
inline std::mutex& mutex() {
  static std::mutex m;
  return m;
}

// Sets torch's intra-op threads for a scope (training must be single-threaded to be bit-reproducible).
class ThreadScope {
 public:
  explicit ThreadScope(int threads) : previous_(at::get_num_threads()) { at::set_num_threads(threads); }
  ~ThreadScope() { at::set_num_threads(previous_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

// The archive's keys have no dots (a TorchScript attribute name may not).
inline std::string archive_key(std::string name) {
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

// A weights file's checksum, in its description: a flipped byte anywhere (zip padding included, which torch
// never reads) makes the file another one.
inline std::string fnv1a64(const std::string& bytes) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ULL;
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(h));
  return text;
}

}  // namespace autoscale::torch_state
