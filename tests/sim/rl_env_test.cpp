// The RL environments (sim/rl) against hand-worked expectations: the reward's cost of a static fleet, the
// SLA-violation seconds of an overloaded one, the action's effect on the desired count, determinism for a
// seed, auto-reset of vectorised environments, several fast-mode environments in one process, and exact
// mode's one.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>

#include "controllers/base/error.hpp"
#include "sim/core/presets.hpp"
#include "sim/rl/sim_env.hpp"

using namespace autoscale;
using namespace autoscale::rl;

namespace {
// One service of `n` dedicated 2-vCPU nodes at 0.05 USD/h, min 1 and max 10, Poisson arrivals of 50 ms work.
EnvSpec spec_of(double rps, int n, int max_step = 2) {
  QueuePreset p;
  p.instances = n;
  p.arrival_rps = rps;
  p.duration_s = 1800;
  p.hosts = 5;
  p.host_cores = 8;
  RunSpec run = single_queue(p);
  run.services[0].min_instances = 1;
  run.services[0].max_instances = 10;
  run.sla.latency_s = 0.5;
  EnvSpec s;
  s.runs = {run};
  s.fidelity = Fidelity::fast;
  s.action.max_step = max_step;
  s.lambda_usd_per_violation_s = 0.01;
  s.mu_usd_per_change = 0.5;
  return s;
}
}  // namespace

TEST_CASE("rl env: a step's reward is minus the fleet's cost over it when nothing violates", "[rl_env]") {
  // 4 nodes at 0.05 USD/h for 60 s: 4 x 0.05 / 60 USD; 10 rps of 50 ms on 8 cores never queue past 0.5 s.
  Env env(spec_of(10, 4));
  env.reset(1);
  const double per_step = 4 * 0.05 / 60;
  for (int k = 0; k < 5; ++k) {
    StepResult r = env.step(2);  // index max_step: no change
    CHECK(r.info.cost_usd == Approx(per_step).epsilon(1e-9));
    CHECK(r.info.sla_violation_s == 0);
    CHECK(r.info.changes == 0);
    CHECK(r.reward == Approx(-per_step).epsilon(1e-9));
    CHECK(r.info.time_s == Approx(120 + 60 * k));
  }
}

TEST_CASE(
    "rl env: the action moves the desired count by index minus max_step within min and max and costs mu",
    "[rl_env]") {
  Env env(spec_of(10, 4, 2));
  env.reset(1);
  StepResult r = env.step(4);  // +2
  CHECK(r.info.desired == 6);
  CHECK(r.info.changes == 1);  // one change (of two instances)
  CHECK(r.reward == Approx(-(r.info.cost_usd + 0.01 * r.info.sla_violation_s + 0.5)).epsilon(1e-12));
  r = env.step(0);  // -2
  CHECK(r.info.desired == 4);
  for (int k = 0; k < 5; ++k) r = env.step(4);
  CHECK(r.info.desired == 10);  // max_instances
  for (int k = 0; k < 10; ++k) r = env.step(0);
  CHECK(r.info.desired == 1);  // min_instances
  CHECK_THROWS_AS(env.step(5), InputError);
  CHECK_THROWS_AS(env.step(1.5), InputError);
}

TEST_CASE("rl env: an overloaded fleet violates for the whole step", "[rl_env]") {
  // One node of 2 workers (40 rps at most) under 200 rps with a 0.5 s SLA: once the queue has built, every
  // request finishing is late or rejected, so each step counts its full 60 s.
  Env env(spec_of(200, 1));
  env.reset(3);
  StepResult r;
  for (int k = 0; k < 4; ++k) r = env.step(0);
  CHECK(r.info.sla_violation_s == Approx(60).epsilon(1e-9));
  CHECK(r.reward == Approx(-(0.05 / 60 + 0.01 * 60)).epsilon(1e-9));
}

TEST_CASE("rl env: the same seed gives the same episode and another seed another", "[rl_env]") {
  auto episode = [](uint64_t seed) {
    Env env(spec_of(60, 3));
    std::vector<float> all = env.reset(seed);
    std::vector<double> rewards;
    for (int k = 0; k < 20; ++k) {
      StepResult r = env.step(k % 5);
      all.insert(all.end(), r.obs.begin(), r.obs.end());
      rewards.push_back(r.reward);
    }
    return std::make_pair(all, rewards);
  };
  auto a = episode(5), b = episode(5), c = episode(6);
  CHECK(a.first == b.first);
  CHECK(a.second == b.second);
  CHECK(a.first != c.first);
}

TEST_CASE("rl env: vectorised environments auto-reset at the episode's end and share a process", "[rl_env]") {
  EnvSpec s = spec_of(30, 3);
  s.max_steps = 3;  // truncated after 3 steps
  VecEnv v(s, 3);
  REQUIRE(v.num_envs() == 3);
  const size_t m = static_cast<size_t>(v.observation_size());
  std::vector<float> first = v.reset(11);
  REQUIRE(first.size() == 3 * m);
  VecStep st;
  for (int k = 0; k < 3; ++k) st = v.step({2, 2, 2});
  for (int i = 0; i < 3; ++i) {
    CHECK(st.truncated[static_cast<size_t>(i)] == 1);
    CHECK(st.terminated[static_cast<size_t>(i)] == 0);
  }
  // final_obs holds the ended episode's last observation; obs the next episode's first, at a new seed.
  CHECK(std::vector<float>(st.final_obs.begin(), st.final_obs.begin() + static_cast<long>(m)) !=
        std::vector<float>(st.obs.begin(), st.obs.begin() + static_cast<long>(m)));
  CHECK(v.last_infos()[0].time_s == Approx(60));
  // The same reset seed replays the same episodes.
  VecEnv w(s, 3);
  CHECK(w.reset(11) == first);
}

TEST_CASE("rl env: exact mode runs one environment per process and refuses more", "[rl_env]") {
  EnvSpec s = spec_of(10, 2);
  s.fidelity = Fidelity::exact;
  CHECK_THROWS_AS(VecEnv(s, 2), InputError);
  Env env(s);
  env.reset(1);
  StepResult r = env.step(2);
  CHECK(r.info.cost_usd == Approx(2 * 0.05 / 60).epsilon(1e-9));
}

TEST_CASE("rl env: episodes take the runs in cycle order, or drawn from the seed in random order",
          "[rl_env]") {
  EnvSpec s = spec_of(30, 2);
  s.max_steps = 1;  // a new episode after every step
  s.runs = {s.runs[0], s.runs[0], s.runs[0], s.runs[0]};
  auto runs_of = [&](uint64_t seed) {
    VecEnv v(s, 2);
    v.reset(seed);
    std::vector<int> seen = {v.last_infos()[0].run, v.last_infos()[1].run};
    for (int k = 0; k < 20; ++k) {
      v.step({2, 2});
      seen.push_back(v.last_infos()[0].run);
      seen.push_back(v.last_infos()[1].run);
    }
    return seen;
  };
  // cycle: environment i's k-th episode runs (i + 2k) mod 4.
  std::vector<int> cycle = runs_of(3);
  for (size_t j = 0; j < cycle.size(); ++j) CHECK(cycle[j] == static_cast<int>((j % 2 + 2 * (j / 2)) % 4));
  s.order = EnvSpec::Order::random;
  std::vector<int> random = runs_of(3);
  CHECK(random == runs_of(3));
  CHECK(random != runs_of(4));
  std::vector<int> env0;
  for (size_t j = 0; j < random.size(); j += 2) env0.push_back(random[j]);
  std::sort(env0.begin(), env0.end());
  CHECK(std::unique(env0.begin(), env0.end()) - env0.begin() > 2);  // cycle order would give env 0 runs 0, 2
  for (int r : random) CHECK((r >= 0 && r < 4));
}
