#include "sim/scenario/train_rl_loader.hpp"

#include <fstream>
#include <sstream>

#include "sim/scenario/loader_detail.hpp"
#include "sim/scenario/toml_reader.hpp"

namespace autoscale {

using loader_detail::parse_text;
using loader_detail::resolve_path;

const std::vector<std::string>& train_rl_metrics() {
  static const std::vector<std::string> m = {"final_eval_reward", "best_eval_reward", "mean_episode_reward",
                                             "episodes", "updates"};
  return m;
}

RlTrainPlan load_train_rl(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "", "cannot open the RL training file (expected a readable TOML file)");
  std::stringstream buf;
  buf << in.rdbuf();
  RlTrainPlan plan;
  plan.file = path;
  plan.toml_text = buf.str();
  auto doc = std::make_shared<toml::table>(parse_text(plan.toml_text, path));
  toml_reader::Reader r(*doc, path, "", "train_rl");
  plan.name = r.name("name", std::nullopt);
  plan.seed = static_cast<uint64_t>(r.integer("seed", 1));

  if (!r.has("env")) r.fail("env", "an [env] table: the scenarios and the environment's settings");
  {
    toml_reader::Reader env = r.section("env");
    plan.scenarios = env.strings("scenarios", {});
    if (plan.scenarios.empty()) env.fail("scenarios", "a non-empty array of scenario files");
    for (const auto& s : plan.scenarios) plan.scenario_paths.push_back(resolve_path(path, s));
    plan.set = env.strings("set", {});
    plan.service = env.string("service", std::string());
    plan.fidelity = env.choice("fidelity", "fast", {"exact", "fast", "fluid"});
    plan.num_envs = env.count("num_envs", 4);
    if (plan.fidelity == "exact" && plan.num_envs > 1)
      env.fail("num_envs",
               "1 with fidelity = \"exact\" (one SimGrid engine per process); fast or fluid for more");
    plan.interval_s = env.number("interval_s", 60.0);
    plan.discrete = env.choice("action", "discrete", {"discrete", "continuous"}) == "discrete";
    plan.max_step = env.count("max_step", 2);
    plan.lambda_usd_per_violation_s = env.number("lambda_usd_per_violation_s", std::nullopt);
    plan.mu_usd_per_change = env.number("mu_usd_per_change", 0.0);
    plan.max_steps = env.count("max_steps", 0);
    plan.day_s = env.number("day_s", 86400.0);
    env.finish();
  }
  for (toml_reader::Reader& c : r.sections("curriculum")) {
    RlTrainPlan::Stage st;
    st.line = c.line();
    st.runs = c.strings("runs", {});
    st.steps = c.integer("steps", std::nullopt);
    c.finish();
    plan.curriculum.push_back(st);
  }

  const toml::table* alg = (*doc)["algorithm"].as_table();
  if (!alg) r.fail("algorithm", "an [algorithm] table with kind = \"ppo\" or \"dqn\"");
  r.get("algorithm");
  for (const auto& [key, node] : *alg) {
    std::string k(key.str());
    const int line = toml_reader::line_in_file(node.source());
    nlohmann::json v;
    if (auto i = node.value_exact<int64_t>())
      v = *i;
    else if (auto d = node.value_exact<double>())
      v = *d;
    else if (auto b = node.value_exact<bool>())
      v = *b;
    else if (auto s = node.value_exact<std::string>())
      v = *s;
    else if (const toml::array* a = node.as_array()) {
      v = nlohmann::json::array();
      for (const auto& e : *a) {
        if (auto i = e.value_exact<int64_t>())
          v.push_back(*i);
        else if (auto d = e.value_exact<double>())
          v.push_back(*d);
        else
          throw InputError(path, line, "algorithm." + k, "an array of numbers");
      }
    } else {
      throw InputError(path, line, "algorithm." + k, "a number, a string, a boolean or an array of numbers");
    }
    if (k == "kind") k = "algorithm";
    plan.algorithm[k] = v;
    plan.algorithm_lines.emplace_back(k, line);
  }
  if (!plan.algorithm.contains("algorithm"))
    throw InputError(path, toml_reader::line_in_file(alg->source()), "algorithm.kind", "\"ppo\" or \"dqn\"");

  for (toml_reader::Reader& er : r.sections("expect"))
    plan.expectations.push_back(toml_reader::read_expectation(er, train_rl_metrics()));
  if (r.has("eval")) {
    toml_reader::Reader ev = r.section("eval");
    plan.eval_every_updates = ev.count("every_updates", 10);
    plan.eval_seeds = toml_reader::read_seeds(ev, "seeds");
    ev.finish();
  }
  r.finish();
  return plan;
}

}  // namespace autoscale
