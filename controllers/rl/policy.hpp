#pragma once
// A trained policy as the `rl` controller sees it: an observation vector (controllers/rl/features.hpp) in,
// one action of its ActionSpace out. The LibTorch policies (the torch plugin) implement it; tests use small
// hand-written ones.
#include <vector>

#include "controllers/rl/environment.hpp"

namespace autoscale::rl {

class Policy {
 public:
  virtual ~Policy() = default;
  // The action for `obs` (observation_size() values): a discrete index (as a double) or a continuous
  // fraction. Deterministic: the greedy / mean action.
  virtual double act(const std::vector<float>& obs) const = 0;
  virtual int observation_size() const = 0;
  virtual ActionSpace action_space() const = 0;
};

}  // namespace autoscale::rl
