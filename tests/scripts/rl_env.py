"""The RL environments from Python (the pybind11 module autoscale_rl), as a Gymnasium user would drive them:
reset/step shapes and dtypes, the reward against its parts, determinism for a seed, a random-policy episode to
its end, the vectorised environments' batches and auto-reset, and bad input as ValueError.

usage: /usr/bin/python3 rl_env.py <dir of autoscale_rl*.so> <repository root>
"""
import math
import os
import sys

sys.path.insert(0, sys.argv[1])
import numpy as np  # noqa: E402
import autoscale_rl  # noqa: E402

root = sys.argv[2]
scenario = os.path.join(root, "scenarios", "rl_env.toml")
short = ["duration_s=1800"]

env = autoscale_rl.Env(scenario, service="web", fidelity="fast", max_step=2, lambda_=0.01, mu=0.002,
                       day_s=21600, overrides=short)
assert env.action_n == 5 and env.discrete
assert env.observation_size == len(env.observation_names) == 20, env.observation_names
assert env.observation_names[0] == "cpu_utilization"
assert env.runs == 5

obs, info = env.reset(seed=7, options={"run": 2})
assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.shape == (20,), (obs.dtype, obs.shape)
assert info["run"] == 2 and info["time_s"] == 60.0

# A random policy to the episode's end (30 one-minute steps), the reward made of its parts.
rng = np.random.default_rng(1)
steps, total = 0, 0.0
while True:
    obs, reward, terminated, truncated, info = env.step(int(rng.integers(env.action_n)))
    steps += 1
    total += reward
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    parts = info["cost_usd"] + 0.01 * info["sla_violation_s"] + 0.002 * info["changes"]
    assert math.isclose(reward, -parts, rel_tol=1e-12, abs_tol=1e-15), (reward, parts)
    assert 0 <= info["sla_violation_s"] <= 60 + 1e-9 and info["cost_usd"] > 0
    assert 1 <= info["desired"] <= 40
    if terminated or truncated:
        break
assert terminated and not truncated and steps == 29, (steps, terminated, truncated)


def episode(seed):
    e = autoscale_rl.Env(scenario, service=None, fidelity="fast", overrides=short, day_s=21600)
    o, _ = e.reset(seed=seed, options={"run": 0})
    seen, rewards = [o], []
    for k in range(10):
        o, r, *_ = e.step(k % 5)
        seen.append(o)
        rewards.append(r)
    return np.stack(seen), rewards


a, b, c = episode(3), episode(3), episode(4)
assert np.array_equal(a[0], b[0]) and a[1] == b[1], "not deterministic"
assert not np.array_equal(a[0], c[0])

# Vectorised: batches, auto-reset with the last observation in info["final_obs"].
v = autoscale_rl.VectorEnv(scenario, 3, fidelity="fast", overrides=short, max_steps=4, day_s=21600)
o, infos = v.reset(seed=5)
assert o.shape == (3, 20) and o.dtype == np.float32 and len(infos["envs"]) == 3
for k in range(4):
    o, r, term, trunc, infos = v.step([2, 2, 2])
assert r.shape == (3,) and r.dtype == np.float64
assert trunc.tolist() == [True, True, True] and term.tolist() == [False, False, False]
assert infos["final_obs"].shape == (3, 20) and not np.array_equal(infos["final_obs"], o)
assert v.observation_names == env.observation_names


# Random run order: the runs of each new episode drawn from the reset seed (cycle order: env i, i + 3, ...).
def runs_of(order, seed):
    w = autoscale_rl.VectorEnv(scenario, 2, fidelity="fast", overrides=short, max_steps=1, order=order)
    _, inf = w.reset(seed=seed)
    seen = [i["run"] for i in inf["envs"]]
    for _ in range(6):
        _, _, _, _, inf = w.step([2, 2])
        seen += [i["run"] for i in inf["envs"]]
    return seen


assert runs_of("cycle", 1) == [(j % 2 + 2 * (j // 2)) % 5 for j in range(14)], runs_of("cycle", 1)
assert runs_of("random", 1) == runs_of("random", 1) and runs_of("random", 1) != runs_of("cycle", 1)

# Bad input: ValueError with the file, line or key.
for bad, want in [(lambda: autoscale_rl.Env(os.path.join(root, "scenarios", "no_such.toml")), "no_such.toml"),
                  (lambda: autoscale_rl.Env(scenario, overrides=["services.web.workers=0"]), "workers"),
                  (lambda: env.step(9), "action"),
                  (lambda: autoscale_rl.VectorEnv(scenario, 2, order="shuffled"), "order")]:
    try:
        bad()
    except ValueError as e:
        assert want in str(e), (want, str(e))
    else:
        raise AssertionError("no ValueError for " + want)
print("rl_env.py: ok")
