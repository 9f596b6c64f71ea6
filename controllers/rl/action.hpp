#pragma once
// What a policy's action means for the controlled service's desired count (ActionSpace, environment.hpp),
// shared by the RL environments and the `rl` controller.
#include <algorithm>
#include <cmath>
#include <string>

#include "controllers/rl/environment.hpp"

namespace autoscale::rl {

// Why `action` is not an action of `space`, or "" when it is: "nan" (NaN or infinite), "not_an_index" (a
// discrete action that is not a whole number), "outside_space" (a discrete index outside [0, size() - 1], a
// continuous fraction outside [0, 1]).
inline std::string action_problem(const ActionSpace& space, double action) {
  if (!std::isfinite(action)) return "nan";
  if (space.discrete) {
    if (action != std::round(action)) return "not_an_index";
    if (action < 0 || action > space.size() - 1) return "outside_space";
    return "";
  }
  if (action < 0 || action > 1) return "outside_space";
  return "";
}

inline bool valid_action(const ActionSpace& space, double action) {
  return action_problem(space, action).empty();
}

// The desired count `action` asks for, within [min_instances, max_instances]: discrete, current_desired +
// (index - max_step) (the index rounded to the nearest whole number); continuous, round(fraction x
// max_instances). A non-finite action keeps current_desired (clamped).
inline int apply_action(const ActionSpace& space, double action, int current_desired, int min_instances,
                        int max_instances) {
  long want = current_desired;
  if (std::isfinite(action)) {
    if (space.discrete) {
      double index = std::clamp(std::round(action), 0.0, static_cast<double>(space.size() - 1));
      want = current_desired + static_cast<long>(index) - space.max_step;
    } else {
      want = std::lround(std::clamp(action, 0.0, 1.0) * max_instances);
    }
  }
  return static_cast<int>(std::clamp<long>(want, min_instances, std::max(min_instances, max_instances)));
}

}  // namespace autoscale::rl
