// `autoscale_rl`: the RL environments for Python (pybind11), with Gymnasium's method names and return shapes,
// so that an agent written for Gymnasium works with a thin adapter (gymnasium itself is not needed):
//
//   import autoscale_rl, numpy as np
//   env = autoscale_rl.Env("scenarios/rl_env.toml", fidelity="fast", max_step=2, lambda_=0.01, mu=0.002)
//   obs, info = env.reset(seed=1)
//   obs, reward, terminated, truncated, info = env.step(env.action_n // 2)
//
// VectorEnv(...) steps num_envs environments with batched numpy arrays (auto-reset, final_obs in info). Bad
// input (a missing scenario, a bad --set override, an action outside the space) raises ValueError with the
// loader's message (file, line and key).
#include <optional>

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "controllers/base/error.hpp"
#include "sim/rl/sim_env.hpp"
#include "sim/scenario/scenario_loader.hpp"

namespace py = pybind11;
using namespace autoscale;

namespace {

rl::EnvSpec make_spec(const std::string& scenario, const std::optional<std::string>& service,
                      const std::string& fidelity, const std::string& action, int max_step, double lambda,
                      double mu, double interval_s, double day_s, int max_steps,
                      const std::vector<std::string>& overrides, const std::string& order = "cycle") {
  LoadOptions load;
  load.set = overrides;
  Scenario sc = load_scenario(scenario, load);
  rl::EnvSpec spec;
  spec.runs = sc.runs;
  spec.service = service.value_or("");
  if (fidelity == "exact")
    spec.fidelity = Fidelity::exact;
  else if (fidelity == "fast")
    spec.fidelity = Fidelity::fast;
  else if (fidelity == "fluid")
    spec.fidelity = Fidelity::fluid;
  else
    throw InputError("env", 0, "fidelity", "\"exact\", \"fast\" or \"fluid\", got \"" + fidelity + "\"");
  if (action != "discrete" && action != "continuous")
    throw InputError("env", 0, "action", "\"discrete\" or \"continuous\", got \"" + action + "\"");
  spec.action.discrete = action == "discrete";
  spec.action.max_step = max_step;
  spec.lambda_usd_per_violation_s = lambda;
  spec.mu_usd_per_change = mu;
  spec.interval_s = interval_s;
  spec.day_s = day_s;
  spec.max_steps = max_steps;
  if (order != "cycle" && order != "random")
    throw InputError("env", 0, "order", "\"cycle\" or \"random\", got \"" + order + "\"");
  spec.order = order == "random" ? rl::EnvSpec::Order::random : rl::EnvSpec::Order::cycle;
  return spec;
}

py::array_t<float> to_array(const std::vector<float>& v, ssize_t rows = -1) {
  if (rows < 0) return py::array_t<float>(static_cast<ssize_t>(v.size()), v.data());
  const ssize_t cols = rows ? static_cast<ssize_t>(v.size()) / rows : 0;
  return py::array_t<float>({rows, cols}, v.data());
}

py::dict info_dict(const rl::StepInfo& i) {
  py::dict d;
  d["time_s"] = i.time_s;
  d["cost_usd"] = i.cost_usd;
  d["sla_violation_s"] = i.sla_violation_s;
  d["changes"] = i.changes;
  d["desired"] = i.desired;
  d["ready"] = i.ready;
  d["arrival_rps"] = i.arrival_rps;
  d["run"] = i.run;
  d["seed"] = i.seed;
  return d;
}

class PyEnv {
 public:
  PyEnv(const std::string& scenario, const std::optional<std::string>& service, const std::string& fidelity,
        const std::string& action, int max_step, double lambda, double mu, double interval_s, double day_s,
        int max_steps, const std::vector<std::string>& overrides)
      : env_(make_spec(scenario, service, fidelity, action, max_step, lambda, mu, interval_s, day_s,
                       max_steps, overrides)) {}
  py::tuple reset(std::optional<uint64_t> seed, std::optional<py::dict> options) {
    int run = -1;
    if (options && options->contains("run")) run = (*options)["run"].cast<int>();
    const uint64_t s = seed ? *seed : next_seed_++;
    auto obs = env_.reset(s, run);
    return py::make_tuple(to_array(obs), info_dict(env_.info()));
  }
  py::tuple step(double action) {
    rl::StepResult r = env_.step(action);
    return py::make_tuple(to_array(r.obs), r.reward, r.terminated, r.truncated, info_dict(r.info));
  }
  int observation_size() const { return env_.observation_size(); }
  int action_n() const { return env_.action_space().size(); }
  bool discrete() const { return env_.action_space().discrete; }
  std::vector<std::string> names() const { return env_.observation_names(); }
  int runs() const { return static_cast<int>(env_.spec().runs.size()); }

 private:
  rl::Env env_;
  uint64_t next_seed_ = 1;
};

class PyVecEnv {
 public:
  PyVecEnv(const std::string& scenario, int num_envs, const std::optional<std::string>& service,
           const std::string& fidelity, const std::string& action, int max_step, double lambda, double mu,
           double interval_s, double day_s, int max_steps, const std::vector<std::string>& overrides,
           const std::string& order)
      : env_(make_spec(scenario, service, fidelity, action, max_step, lambda, mu, interval_s, day_s,
                       max_steps, overrides, order),
             num_envs) {}
  py::tuple reset(std::optional<uint64_t> seed) {
    auto obs = env_.reset(seed.value_or(1));
    return py::make_tuple(to_array(obs, env_.num_envs()), infos());
  }
  py::tuple step(const std::vector<double>& actions) {
    rl::VecStep s = env_.step(actions);
    py::dict info = infos();
    info["final_obs"] = to_array(s.final_obs, env_.num_envs());
    std::vector<bool> term(s.terminated.begin(), s.terminated.end()),
        trunc(s.truncated.begin(), s.truncated.end());
    return py::make_tuple(to_array(s.obs, env_.num_envs()),
                          py::array_t<double>(static_cast<ssize_t>(s.reward.size()), s.reward.data()),
                          py::array(py::cast(term)), py::array(py::cast(trunc)), info);
  }
  int num_envs() const { return env_.num_envs(); }
  int observation_size() const { return env_.observation_size(); }
  int action_n() const { return env_.action_space().size(); }
  std::vector<std::string> names() const { return env_.env(0).observation_names(); }

 private:
  py::dict infos() {
    py::list l;
    for (const auto& i : env_.last_infos()) l.append(info_dict(i));
    py::dict d;
    d["envs"] = l;
    return d;
  }
  rl::VecEnv env_;
};

}  // namespace

PYBIND11_MODULE(autoscale_rl, m) {
  m.doc() = "autoscale lab's RL environments (Gymnasium-style reset/step over a scenario, any fidelity)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InputError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    }
  });
  py::class_<PyEnv>(m, "Env")
      .def(py::init<const std::string&, const std::optional<std::string>&, const std::string&,
                    const std::string&, int, double, double, double, double, int,
                    const std::vector<std::string>&>(),
           py::arg("scenario"), py::arg("service") = py::none(), py::arg("fidelity") = "fast",
           py::arg("action") = "discrete", py::arg("max_step") = 2, py::arg("lambda_") = 0.01,
           py::arg("mu") = 0.0, py::arg("interval_s") = 60.0, py::arg("day_s") = 86400.0,
           py::arg("max_steps") = 0, py::arg("overrides") = std::vector<std::string>{})
      .def("reset", &PyEnv::reset, py::arg("seed") = py::none(), py::arg("options") = py::none())
      .def("step", &PyEnv::step, py::arg("action"))
      .def("close", [](PyEnv&) {})
      .def_property_readonly("observation_size", &PyEnv::observation_size)
      .def_property_readonly("action_n", &PyEnv::action_n)
      .def_property_readonly("discrete", &PyEnv::discrete)
      .def_property_readonly("observation_names", &PyEnv::names)
      .def_property_readonly("runs", &PyEnv::runs);
  py::class_<PyVecEnv>(m, "VectorEnv")
      .def(py::init<const std::string&, int, const std::optional<std::string>&, const std::string&,
                    const std::string&, int, double, double, double, double, int,
                    const std::vector<std::string>&, const std::string&>(),
           py::arg("scenario"), py::arg("num_envs"), py::arg("service") = py::none(),
           py::arg("fidelity") = "fast", py::arg("action") = "discrete", py::arg("max_step") = 2,
           py::arg("lambda_") = 0.01, py::arg("mu") = 0.0, py::arg("interval_s") = 60.0,
           py::arg("day_s") = 86400.0, py::arg("max_steps") = 0,
           py::arg("overrides") = std::vector<std::string>{}, py::arg("order") = "cycle")
      .def("reset", &PyVecEnv::reset, py::arg("seed") = py::none())
      .def("step", &PyVecEnv::step, py::arg("actions"))
      .def("close", [](PyVecEnv&) {})
      .def_property_readonly("num_envs", &PyVecEnv::num_envs)
      .def_property_readonly("observation_size", &PyVecEnv::observation_size)
      .def_property_readonly("action_n", &PyVecEnv::action_n)
      .def_property_readonly("observation_names", &PyVecEnv::names);
}
