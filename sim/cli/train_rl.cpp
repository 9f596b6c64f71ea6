#include "sim/cli/train_rl.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "autoscale_version.hpp"
#include "controllers/base/error.hpp"
#include "forecasters/store/model_store.hpp"
#include "forecasters/store/sha256.hpp"
#include "forecasters/torch/rl.hpp"
#include "sim/cli/expectations.hpp"
#include "sim/rl/sim_env.hpp"
#include "sim/scenario/scenario_loader.hpp"
#include "sim/scenario/train_rl_loader.hpp"

namespace autoscale {

namespace {

using rl::EnvSpec;

// Everything train-rl checks before it trains.
struct Prepared {
  RlTrainPlan plan;
  rl::TrainConfig cfg;
  EnvSpec spec;
  std::vector<std::string> run_names;    // "<scenario>/<run>", by index into spec.runs
  std::vector<std::vector<int>> stages;  // per curriculum stage: the runs it allows
};

Prepared prepare(const std::string& file, std::optional<uint64_t> seed) {
  Prepared p;
  p.plan = load_train_rl(file);
  RlTrainPlan& plan = p.plan;
  if (seed) plan.seed = *seed;
  nlohmann::json alg = plan.algorithm;
  alg["seed"] = plan.seed;
  alg["eval_every_updates"] = plan.eval_every_updates;
  auto line_of = [&](const std::string& key) {
    for (const auto& [k, l] : plan.algorithm_lines)
      if (k == key) return l;
    return 0;
  };
  try {
    p.cfg = rl::TrainConfig::from_json(alg, file);
    p.cfg.validate(file);
  } catch (const InputError& e) {
    std::string key = e.field();
    if (key.rfind("algorithm.", 0) == 0) key = key.substr(10);
    const std::string shown = key == "algorithm" ? "algorithm.kind" : "algorithm." + key;
    throw InputError(file, line_of(key), shown, e.message());
  }
  EnvSpec& spec = p.spec;
  for (const auto& path : plan.scenario_paths) {
    LoadOptions load;
    load.set = plan.set;
    Scenario sc = load_scenario(path, load);
    for (RunSpec& r : sc.runs) {
      p.run_names.push_back(sc.name + "/" + r.name);
      spec.runs.push_back(std::move(r));
    }
  }
  spec.service = plan.service;
  spec.action.discrete = plan.discrete;
  spec.action.max_step = plan.max_step;
  spec.interval_s = plan.interval_s;
  spec.lambda_usd_per_violation_s = plan.lambda_usd_per_violation_s;
  spec.mu_usd_per_change = plan.mu_usd_per_change;
  spec.max_steps = plan.max_steps;
  spec.fidelity = plan.fidelity == "exact"   ? Fidelity::exact
                  : plan.fidelity == "fluid" ? Fidelity::fluid
                                             : Fidelity::fast;
  spec.day_s = plan.day_s;
  if (!spec.service.empty())
    for (size_t k = 0; k < spec.runs.size(); ++k)
      if (spec.runs[k].service_index(spec.service) < 0)
        throw InputError(file, 0, "env.service",
                         "a service of every run; run " + p.run_names[k] + " has no '" + spec.service + "'");
  for (const auto& st : plan.curriculum) {
    std::vector<int> allowed;
    for (const auto& name : st.runs) {
      int found = -1;
      for (size_t k = 0; k < p.run_names.size(); ++k)
        if (p.run_names[k] == name || p.run_names[k].substr(p.run_names[k].find('/') + 1) == name)
          found = static_cast<int>(k);
      if (found < 0) {
        std::string all;
        for (const auto& n : p.run_names) all += (all.empty() ? "" : ", ") + n;
        throw InputError(file, st.line, "curriculum.runs",
                         "run names of the scenarios (" + all + "), got '" + name + "'");
      }
      allowed.push_back(found);
    }
    p.stages.push_back(allowed);
  }
  rl::Env probe(spec);  // the service and the action space, checked
  return p;
}

// The learner's view of the environments: the curriculum's stage by the steps taken so far, and the least
// and greatest value of every feature seen (stored with the model: the `rl` controller's training range).
class TrainingEnv : public rl::VecEnvironment {
 public:
  TrainingEnv(rl::VecEnv& inner, const Prepared& p) : inner_(inner), p_(p) {
    const size_t m = static_cast<size_t>(inner.observation_size());
    lo_.assign(m, std::numeric_limits<double>::infinity());
    hi_.assign(m, -std::numeric_limits<double>::infinity());
    stage();
  }
  int num_envs() const override { return inner_.num_envs(); }
  int observation_size() const override { return inner_.observation_size(); }
  rl::ActionSpace action_space() const override { return inner_.action_space(); }
  std::vector<float> reset(uint64_t seed) override {
    steps_ = 0;
    stage();
    auto o = inner_.reset(seed);
    record(o);
    return o;
  }
  rl::VecStep step(const std::vector<double>& actions) override {
    stage();
    rl::VecStep s = inner_.step(actions);
    steps_ += inner_.num_envs();
    record(s.obs);
    record(s.final_obs, true);
    return s;
  }
  const std::vector<double>& feature_min() const { return lo_; }
  const std::vector<double>& feature_max() const { return hi_; }

 private:
  void stage() {
    long until = 0;
    for (size_t k = 0; k < p_.stages.size(); ++k) {
      until += p_.plan.curriculum[k].steps;
      if (steps_ < until || k + 1 == p_.stages.size()) {
        inner_.allow_runs(p_.stages[k]);
        return;
      }
    }
  }
  void record(const std::vector<float>& obs, bool finals = false) {
    const size_t m = lo_.size();
    for (size_t i = 0; i + m <= obs.size(); i += m) {
      if (finals && std::all_of(obs.begin() + static_cast<long>(i), obs.begin() + static_cast<long>(i + m),
                                [](float v) { return v == 0.0f; }))
        continue;  // no episode ended there
      for (size_t j = 0; j < m; ++j) {
        lo_[j] = std::min(lo_[j], static_cast<double>(obs[i + j]));
        hi_[j] = std::max(hi_[j], static_cast<double>(obs[i + j]));
      }
    }
  }
  rl::VecEnv& inner_;
  const Prepared& p_;
  long steps_ = 0;
  std::vector<double> lo_, hi_;
};

// The greedy policy's mean episode reward over every run at every held-back seed (a fresh environment).
double evaluate(const EnvSpec& spec, const std::vector<uint64_t>& seeds, const rl::Policy& policy) {
  rl::Env env(spec);
  double total = 0;
  int episodes = 0;
  for (uint64_t seed : seeds)
    for (size_t run = 0; run < spec.runs.size(); ++run) {
      std::vector<float> obs = env.reset(seed, static_cast<int>(run));
      double sum = 0;
      for (;;) {
        rl::StepResult r = env.step(policy.act(obs));
        sum += r.reward;
        obs = std::move(r.obs);
        if (r.terminated || r.truncated) break;
      }
      total += sum;
      ++episodes;
    }
  return episodes ? total / episodes : 0;
}

}  // namespace

int cmd_validate_train_rl(const std::string& file) {
  Prepared p = prepare(file, std::nullopt);
  std::cout << file << ": ok (" << p.spec.runs.size() << " training runs, " << p.cfg.algorithm << ", "
            << p.cfg.total_steps << " steps)\n";
  return 0;
}

int cmd_train_rl(const TrainRlArgs& args) {
  Prepared p = prepare(args.config, args.seed);
  const std::string models_dir = args.models_dir.empty() ? forecast::default_models_dir() : args.models_dir;
  rl::VecEnv venv(p.spec, p.plan.num_envs);
  TrainingEnv env(venv, p);
  rl::Learner learner(p.cfg, env.observation_size(), env.action_space());
  const bool bar = !args.quiet && isatty(STDERR_FILENO);
  std::vector<uint64_t> eval_seeds = p.plan.eval_seeds;
  rl::TrainReport report = learner.train(
      env,
      [&](const rl::TrainProgress& t) {
        if (!bar) return;
        std::fprintf(
            stderr, "\rtrain-rl %s: %ld / %ld steps, %d updates, %d episodes, mean reward %.3f%s, %.0f s   ",
            p.plan.name.c_str(), t.steps, p.cfg.total_steps, t.updates, t.episodes, t.mean_episode_reward,
            t.eval_reward ? (", eval " + std::to_string(*t.eval_reward)).c_str() : "", t.wall_s);
        if (t.eval_reward) std::fprintf(stderr, "\n");
      },
      eval_seeds.empty() ? std::function<double(const rl::Policy&)>()
                         : [&](const rl::Policy& pol) { return evaluate(p.spec, eval_seeds, pol); });
  if (bar) std::fprintf(stderr, "\n");

  rl::FeatureRecord features;
  {
    rl::Env probe(p.spec);
    features.names = probe.observation_names();
    features.scales = probe.scales();
    features.options = probe.feature_options();
  }
  features.feature_min = env.feature_min();
  features.feature_max = env.feature_max();
  nlohmann::json data = nlohmann::json::array();
  for (size_t k = 0; k < p.plan.scenario_paths.size(); ++k)
    data.push_back(
        {{"scenario", p.plan.scenarios[k]}, {"sha256", forecast::sha256_file(p.plan.scenario_paths[k])}});
  nlohmann::json meta = {
      {"training_file", args.config},
      {"config_toml", p.plan.toml_text},
      {"data", data},
      {"runs", p.run_names},
      {"seed", p.plan.seed},
      {"env",
       {{"service", p.spec.service.empty() ? p.spec.runs.front().traffic.entry_service : p.spec.service},
        {"interval_s", p.spec.interval_s},
        {"action", p.spec.action.discrete ? "discrete" : "continuous"},
        {"max_step", p.spec.action.max_step},
        {"fidelity", p.plan.fidelity},
        {"num_envs", p.plan.num_envs},
        {"lambda_usd_per_violation_s", p.spec.lambda_usd_per_violation_s},
        {"mu_usd_per_change", p.spec.mu_usd_per_change}}},
      {"features", features.to_json()},
      {"metrics", report.to_json()},
      {"eval_seeds", eval_seeds},
      {"project_version", AUTOSCALE_VERSION}};
  forecast::ModelInfo info = rl::save_policy(models_dir, p.plan.name, learner, meta);
  const double eval = report.final_eval_reward.value_or(std::nan(""));
  // The file's [[expect]]s (the model is stored whatever they say, as a scenario's results are).
  const std::map<std::string, double> metrics = {
      {"final_eval_reward", eval},
      {"best_eval_reward", report.best_eval_reward.value_or(std::nan(""))},
      {"mean_episode_reward", report.mean_episode_reward},
      {"episodes", static_cast<double>(report.episodes)},
      {"updates", static_cast<double>(report.updates)}};
  const ExpectationCheck expect = check_expectations(args.config, p.plan.expectations, metrics);
  if (args.json) {
    std::cout << nlohmann::json{{"name", info.name},
                                {"version", info.version},
                                {"dir", info.dir},
                                {"steps", report.steps},
                                {"updates", report.updates},
                                {"episodes", report.episodes},
                                {"mean_episode_reward", report.mean_episode_reward},
                                {"final_eval_reward",
                                 report.final_eval_reward ? nlohmann::json(eval) : nlohmann::json()},
                                {"best_eval_reward", report.best_eval_reward
                                                         ? nlohmann::json(*report.best_eval_reward)
                                                         : nlohmann::json()},
                                {"wall_s", report.wall_s},
                                {"expectations", expect.results}}
                     .dump(2)
              << "\n";
    std::fprintf(stderr, "%s", expect.failures.c_str());
  } else {
    std::printf("trained %s@%d (%s, %ld steps, %d updates, %d episodes, %.0f s): mean episode reward %.4f",
                info.name.c_str(), info.version, p.cfg.algorithm.c_str(), report.steps, report.updates,
                report.episodes, report.wall_s, report.mean_episode_reward);
    if (report.final_eval_reward) std::printf(", held-back seeds %.4f", eval);
    std::printf("\nmodel: %s\n", info.dir.c_str());
    std::printf("%s", expect.text().c_str());
  }
  return expect.ok() ? 0 : 1;
}

}  // namespace autoscale
