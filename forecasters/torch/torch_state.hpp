#pragma once
// Private to the torch plugin (neural.cpp, rl_agents.cpp): torch's random generator and thread count are
// process-wide, so every training in the plugin (a forecaster's, a policy's) holds one lock and sets the
// thread count for its own duration: trainings side by side (forecast-eval's threads, an RL run beside a
// forecaster) give the weights they give alone.
#include <torch/torch.h>

#include <mutex>

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

}  // namespace autoscale::torch_state
