// PPO and DQN (forecasters/torch/rl.hpp) on toy problems with a known answer: the greedy policy must reach
// and hold the right count, not merely earn a better reward. Also: bit-reproducibility from a seed, the
// weights file and the registry round trip (SHA-256, damaged and foreign artifacts refused).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>

#include "controllers/base/error.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/torch/rl.hpp"

using namespace autoscale;
using namespace autoscale::rl;
namespace fs = std::filesystem;

namespace {

// "Constant load": each episode has a load in {0.1, ..., 0.9} and needs target = 10 * load instances;
// observation [load, current / 10]; action a in 0..4 changes current by a - 2 (clamped to 0..10); reward
// -|current - target|; episodes are truncated after 20 steps. Right answer: move towards the target by up to
// 2 per step, then hold (action 2).
class ConstantLoadEnv final : public VecEnvironment {
 public:
  static constexpr int kLength = 20;
  explicit ConstantLoadEnv(int n) : n_(n), target_(n), current_(n), t_(n), rng_(n) {}
  int num_envs() const override { return n_; }
  int observation_size() const override { return 2; }
  ActionSpace action_space() const override { return ActionSpace{true, 2}; }
  std::vector<float> reset(uint64_t seed) override {
    std::vector<float> obs(2 * n_);
    for (int i = 0; i < n_; ++i) {
      rng_[i].seed(seed * 1000003 + static_cast<uint64_t>(i));
      start(i);
      write(i, obs.data());
    }
    return obs;
  }
  VecStep step(const std::vector<double>& actions) override {
    if (actions.size() != static_cast<std::size_t>(n_)) throw std::logic_error("one action per environment");
    VecStep s;
    s.obs.resize(2 * n_);
    s.final_obs.resize(2 * n_);
    s.reward.resize(n_);
    s.terminated.assign(n_, 0);
    s.truncated.assign(n_, 0);
    for (int i = 0; i < n_; ++i) {
      int a = static_cast<int>(actions[i]);
      if (a < 0 || a > 4) throw std::logic_error("an action index outside 0..4");
      current_[i] = std::clamp(current_[i] + a - 2, 0, 10);
      s.reward[i] = -std::abs(current_[i] - target_[i]);
      if (++t_[i] == kLength) {
        s.truncated[i] = 1;
        write(i, s.final_obs.data());
        start(i);
      }
      write(i, s.obs.data());
    }
    return s;
  }

 private:
  void start(int i) {
    target_[i] = 1 + static_cast<int>(rng_[i]() % 9);
    current_[i] = static_cast<int>(rng_[i]() % 11);
    t_[i] = 0;
  }
  void write(int i, float* obs) const {
    obs[2 * i] = static_cast<float>(target_[i] / 10.0);
    obs[2 * i + 1] = static_cast<float>(current_[i] / 10.0);
  }
  int n_;
  std::vector<int> target_, current_, t_;
  std::vector<std::mt19937_64> rng_;
};

// Runs the greedy policy from every (target, start) pair; true when it is at the target from step 6 on
// (9 away needs 5 steps of 2) through step 12.
int pairs_reaching_and_holding(const Policy& p) {
  int ok = 0;
  for (int target = 1; target <= 9; ++target)
    for (int start = 0; start <= 10; ++start) {
      int current = start;
      bool held = true;
      for (int t = 1; t <= 12; ++t) {
        int a =
            static_cast<int>(p.act({static_cast<float>(target / 10.0), static_cast<float>(current / 10.0)}));
        current = std::clamp(current + a - 2, 0, 10);
        if (t >= 6 && current != target) held = false;
      }
      ok += held;
    }
  return ok;
}

// Continuous 1-D toy: observation [load] (a new uniform load every step), action the fraction f in [0, 1],
// reward -|f - (0.2 + 0.6 load)|; 10-step episodes, truncated.
class FractionEnv final : public VecEnvironment {
 public:
  explicit FractionEnv(int n) : n_(n), load_(n), t_(n), rng_(n) {}
  static double target(double load) { return 0.2 + 0.6 * load; }
  int num_envs() const override { return n_; }
  int observation_size() const override { return 1; }
  ActionSpace action_space() const override { return ActionSpace{false, 0}; }
  std::vector<float> reset(uint64_t seed) override {
    for (int i = 0; i < n_; ++i) {
      rng_[i].seed(seed * 7919 + static_cast<uint64_t>(i));
      t_[i] = 0;
      draw(i);
    }
    return std::vector<float>(load_.begin(), load_.end());
  }
  VecStep step(const std::vector<double>& actions) override {
    VecStep s;
    s.reward.resize(n_);
    s.terminated.assign(n_, 0);
    s.truncated.assign(n_, 0);
    s.final_obs.assign(n_, 0.0f);
    for (int i = 0; i < n_; ++i) {
      if (!(actions[i] >= 0.0 && actions[i] <= 1.0)) throw std::logic_error("a fraction outside [0, 1]");
      s.reward[i] = -std::abs(actions[i] - target(load_[i]));
      draw(i);
      if (++t_[i] == 10) {
        s.truncated[i] = 1;
        s.final_obs[i] = load_[i];
        t_[i] = 0;
        draw(i);
      }
    }
    s.obs.assign(load_.begin(), load_.end());
    return s;
  }

 private:
  void draw(int i) { load_[i] = static_cast<float>(static_cast<double>(rng_[i]() >> 11) * 0x1.0p-53); }
  int n_;
  std::vector<float> load_;
  std::vector<int> t_;
  std::vector<std::mt19937_64> rng_;
};

TrainConfig ppo_config() {
  TrainConfig c;
  c.algorithm = "ppo";
  c.seed = 3;
  c.total_steps = 40000;
  c.hidden = {32, 32};
  c.learning_rate = 3e-3;
  c.gamma = 0.9;
  c.rollout_steps = 32;
  c.epochs = 4;
  c.minibatch = 64;
  c.entropy_coef = 0.01;
  return c;
}

TrainConfig dqn_config() {
  TrainConfig c;
  c.algorithm = "dqn";
  c.seed = 3;
  c.total_steps = 30000;
  c.hidden = {32, 32};
  c.learning_rate = 2e-3;
  // The reward after a move already says how far it is from the target, so a short horizon is as good an
  // answer and keeps the Q values small (learnt in fewer gradient steps).
  c.gamma = 0.5;
  c.epsilon_decay_steps = 10000;
  c.max_grad_norm = 10;
  c.rollout_steps = 32;
  c.buffer_size = 10000;
  c.batch_size = 64;
  c.learning_starts = 1000;
  c.train_every = 4;
  c.target_update_steps = 500;
  return c;
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct TempDir {
  std::string path;
  explicit TempDir(const std::string& tag)
      : path(fs::temp_directory_path() / ("rl-" + tag + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

// Greedy actions on a grid of observations of the constant-load problem.
std::vector<double> grid_actions(const Policy& p) {
  std::vector<double> out;
  for (int target = 0; target <= 10; ++target)
    for (int current = 0; current <= 10; ++current)
      out.push_back(p.act({static_cast<float>(target / 10.0), static_cast<float>(current / 10.0)}));
  return out;
}

}  // namespace

TEST_CASE("ppo learns to reach and hold the target count", "[rl_learn]") {
  ConstantLoadEnv env(8);
  Learner learner(ppo_config(), 2, env.action_space());
  std::unique_ptr<Policy> untrained = learner.policy();
  int updates = 0;
  std::vector<double> evals;
  TrainReport r = learner.train(
      env, [&](const TrainProgress& p) { updates = p.updates; },
      [&](const Policy& p) {
        evals.push_back(pairs_reaching_and_holding(p));
        return evals.back();
      });
  std::unique_ptr<Policy> policy = learner.policy();
  CHECK(pairs_reaching_and_holding(*untrained) < 30);
  CHECK(pairs_reaching_and_holding(*policy) == 99);
  // 40000 steps of 8 x 32 per update: 157 updates (rounded up), evaluated every 10 and after the last.
  CHECK(r.updates == 157);
  CHECK(updates == 157);
  CHECK(r.steps == 157 * 256);
  CHECK(r.curve.size() == 157);
  CHECK(evals.size() == 16);
  REQUIRE(r.final_eval_reward);
  CHECK(*r.final_eval_reward == 99);
  CHECK(r.episodes == 8 * (157 * 32 / 20));  // 20-step episodes ended by each of 8 environments
  // Optimal return per episode is at least -(9 + 7 + 5 + 3 + 1) = -25; a trained policy is near it.
  CHECK(r.mean_episode_reward > -30);
  CHECK(r.curve.front().mean_episode_reward < r.mean_episode_reward);
}

TEST_CASE("dqn learns to reach and hold the target count", "[rl_learn]") {
  ConstantLoadEnv env(4);
  Learner learner(dqn_config(), 2, env.action_space());
  TrainReport r = learner.train(env);
  std::unique_ptr<Policy> policy = learner.policy();
  CHECK(pairs_reaching_and_holding(*policy) == 99);
  CHECK(r.steps == 30080);  // whole updates of 4 x 32 steps
  CHECK(r.curve.back().epsilon == Approx(0.05));
  CHECK(r.curve.back().value_loss > 0);
}

TEST_CASE("continuous ppo learns a fraction within 0.05", "[rl_learn]") {
  FractionEnv env(8);
  TrainConfig c = ppo_config();
  c.total_steps = 40000;
  c.entropy_coef = 0;
  Learner learner(c, 1, env.action_space());
  learner.train(env);
  std::unique_ptr<Policy> policy = learner.policy();
  for (double load = 0; load <= 1.0001; load += 0.1) {
    double f = policy->act({static_cast<float>(load)});
    INFO("load " << load);
    CHECK(f >= 0.0);
    CHECK(f <= 1.0);
    CHECK(std::abs(f - FractionEnv::target(load)) < 0.05);
  }
}

TEST_CASE("a seed gives bit-identical weights and actions, another seed differs", "[rl_learn]") {
  TempDir tmp("seed");
  for (const std::string algorithm : {"ppo", "dqn"}) {
    INFO(algorithm);
    TrainConfig c = algorithm == "ppo" ? ppo_config() : dqn_config();
    c.total_steps = 3000;
    c.learning_starts = 500;
    auto run = [&](uint64_t seed, const std::string& file) {
      TrainConfig s = c;
      s.seed = seed;
      ConstantLoadEnv env(4);
      Learner learner(s, 2, env.action_space());
      learner.train(env);
      learner.save(tmp.path + "/" + file);
      return grid_actions(*learner.policy());
    };
    std::vector<double> a = run(5, "a.pt"), b = run(5, "b.pt");
    run(6, "c.pt");
    CHECK(a == b);
    CHECK(file_bytes(tmp.path + "/a.pt") == file_bytes(tmp.path + "/b.pt"));
    CHECK(file_bytes(tmp.path + "/a.pt") != file_bytes(tmp.path + "/c.pt"));
  }
}

TEST_CASE("a saved policy loads back with identical actions, the registry checks its SHA-256", "[rl_learn]") {
  TempDir tmp("store");
  ConstantLoadEnv env(4);
  TrainConfig c = ppo_config();
  c.total_steps = 2000;
  Learner learner(c, 2, env.action_space());
  learner.train(env);
  std::vector<double> expected = grid_actions(*learner.policy());

  // The file pair.
  learner.save(tmp.path + "/w.pt");
  nlohmann::json d = learner.describe();
  CHECK(d["kind"] == "rl_policy");
  CHECK(d["algorithm"] == "ppo");
  CHECK(d["observation_size"] == 2);
  CHECK(d["hidden"] == std::vector<int>{32, 32});
  CHECK(d["config"]["seed"] == 3);
  std::unique_ptr<Policy> loaded = load_policy_file(d, tmp.path + "/w.pt");
  CHECK(grid_actions(*loaded) == expected);
  CHECK(loaded->observation_size() == 2);
  CHECK(loaded->action_space().discrete);
  CHECK(loaded->action_space().max_step == 2);
  CHECK_THROWS_AS(loaded->act({0.5f}), InputError);
  nlohmann::json wrong = d;
  wrong["hidden"] = {16, 16};
  CHECK_THROWS_AS(load_policy_file(wrong, tmp.path + "/w.pt"), InputError);

  // The registry.
  std::string models = tmp.path + "/models";
  forecast::ModelInfo v1 = save_policy(models, "toy", learner, {{"scenario", "toy.toml"}});
  forecast::ModelInfo v2 = save_policy(models, "toy", learner, {{"scenario", "toy.toml"}});
  CHECK(v1.version == 1);
  CHECK(v2.version == 2);
  CHECK(v1.meta["kind"] == "rl_policy");
  CHECK(v1.meta["scenario"] == "toy.toml");
  CHECK(v1.meta["seed"] == 3);
  LoadedPolicy latest = load_policy("toy", models);
  CHECK(latest.meta["version"] == 2);
  CHECK(grid_actions(*latest.policy) == expected);
  CHECK(grid_actions(*load_policy("toy@1", models).policy) == expected);
  CHECK(grid_actions(*load_policy(v1.dir, models).policy) == expected);
  // A forecaster loader refuses a policy.
  CHECK_THROWS_AS(forecast::load_model("toy", models), InputError);

  // One flipped byte in the weights: refused, naming the file.
  std::string weights = v2.dir + "/" + v2.meta["weights"]["file"].get<std::string>();
  std::string bytes = file_bytes(weights);
  bytes[bytes.size() / 2] ^= 0x01;
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
  try {
    load_policy("toy@2", models);
    FAIL("a damaged weights file was loaded");
  } catch (const InputError& e) {
    CHECK(e.file() == weights);
    CHECK_THAT(e.message(), Catch::Contains("SHA-256"));
  }
  // An artifact of another kind.
  nlohmann::json meta = v1.meta;
  meta["kind"] = "lstm";
  std::ofstream(v1.dir + "/model.json", std::ios::trunc) << meta.dump(2);
  try {
    load_policy("toy@1", models);
    FAIL("an lstm artifact was loaded as a policy");
  } catch (const InputError& e) {
    CHECK(e.file() == v1.dir + "/model.json");
    CHECK(e.field() == "kind");
  }
}

TEST_CASE("bad training settings are refused, naming the key", "[rl_learn]") {
  auto field_of = [](const TrainConfig& c, ActionSpace space) {
    try {
      Learner learner(c, 2, space);
    } catch (const InputError& e) {
      return e.field();
    }
    return std::string("none");
  };
  TrainConfig c;
  CHECK(field_of(c, ActionSpace{true, 2}) == "none");
  c.algorithm = "a2c";
  CHECK(field_of(c, ActionSpace{true, 2}) == "algorithm.algorithm");
  c.algorithm = "dqn";
  CHECK(field_of(c, ActionSpace{false, 0}) == "algorithm.algorithm");
  c = TrainConfig{};
  c.clip = 0;
  CHECK(field_of(c, ActionSpace{true, 2}) == "algorithm.clip");
  c = TrainConfig{};
  c.hidden = {};
  CHECK(field_of(c, ActionSpace{true, 2}) == "algorithm.hidden");
  CHECK_THROWS_AS(TrainConfig::from_json({{"gama", 0.9}}, "RL.toml"), InputError);
  CHECK(TrainConfig::from_json({{"gamma", 0.5}, {"hidden", {8}}}, "RL.toml").to_json() == [] {
    TrainConfig t;
    t.gamma = 0.5;
    t.hidden = {8};
    return t.to_json();
  }());

  // An environment of another shape.
  ConstantLoadEnv env(2);
  Learner learner(TrainConfig{}, 3, ActionSpace{true, 2});
  CHECK_THROWS_AS(learner.train(env), InputError);
}
