#pragma once
// Reinforcement learning's contract between the three parts that meet here, pure and engine-free:
//  - the environments (sim/rl: a scenario driven one control interval per step, any fidelity),
//  - the learners (forecasters/torch: PPO and DQN in LibTorch, in the torch plugin),
//  - the `rl` controller (controllers/rl: a trained policy behind a safety wrapper).
// The observation vector is the one controllers/rl/features builds from an Observation, so that a policy
// sees in a simulation run exactly what it saw in training.
#include <cstdint>
#include <string>
#include <vector>

namespace autoscale::rl {

// What an action means for the controlled service.
struct ActionSpace {
  // discrete: an index a in [0, 2 * max_step] meaning "desired += a - max_step" (instances);
  // continuous: a value in [0, 1], the desired count as a fraction of max_instances (rounded).
  bool discrete = true;
  int max_step = 2;
  int size() const { return discrete ? 2 * max_step + 1 : 1; }
};

// One step of every environment of a vector: observations (num_envs x observation_size, row-major) after an
// automatic reset of those whose episode ended (the ended episode's last observation is in final_obs).
struct VecStep {
  std::vector<float> obs;
  std::vector<double> reward;
  std::vector<uint8_t> terminated;  // the episode reached a terminal state (the scenario's end)
  std::vector<uint8_t> truncated;   // cut short (a step limit)
  std::vector<float> final_obs;     // num_envs x observation_size: the last observation of an ended episode
};

// N environments stepped together (a learner's view of sim/rl's VecEnv, or of a test's toy problem).
class VecEnvironment {
 public:
  virtual ~VecEnvironment() = default;
  virtual int num_envs() const = 0;
  virtual int observation_size() const = 0;
  virtual ActionSpace action_space() const = 0;
  // Starts an episode in every environment; environment i's episodes derive from (seed, i) only.
  virtual std::vector<float> reset(uint64_t seed) = 0;
  // One action per environment: a discrete index (as a double) or a continuous fraction.
  virtual VecStep step(const std::vector<double>& actions) = 0;
};

}  // namespace autoscale::rl
