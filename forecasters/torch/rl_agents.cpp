// PPO and DQN in LibTorch behind Learner (forecasters/torch/rl.hpp): part of the plugin libautoscale_torch.so
// (forecasters/torch/rl_backend.hpp). Exports three extern "C" functions of its own (interface version,
// create, load); everything else is hidden.
//
// Weights are initialised from the learner's own generator (not torch's process-wide one), and sampling and
// shuffles use it too: a seed gives the same weights whatever else the process does with torch. Only torch's
// thread count is process-wide; training holds a lock while it sets it to cfg.threads.
#include <torch/torch.h>

#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>

#include "controllers/base/error.hpp"
#include "forecasters/torch/plugin_common.hpp"
#include "forecasters/torch/rl_backend.hpp"

namespace autoscale::rl {

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// The plugin's one lock and thread scope (forecasters/torch/plugin_common.hpp), shared with the forecasters'
// training.
using torch_state::archive_key;
using torch_state::fnv1a64;
using torch_state::ThreadScope;
std::mutex& thread_count_mutex() {
  return torch_state::mutex();
}

// std::mt19937_64's sequence is fixed by the standard; the distributions on top are ours (the standard
// library's are implementation-defined).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  double uniform() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }  // [0, 1)
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(g_() % n); }
  double normal() {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
  }

 private:
  std::mt19937_64 g_;
};

// What the networks are made of: enough to rebuild them from a description.
struct Spec {
  std::string algorithm;  // ppo | dqn
  int observation_size = 1;
  ActionSpace space;
  std::vector<int> hidden;
  double initial_log_std = -1.0;

  int outputs() const { return space.size(); }
};

// tanh MLP with Glorot-uniform weights from `rng` (zero biases); the last layer's scaled by last_scale.
struct MlpImpl : torch::nn::Module {
  std::vector<torch::Tensor> w, b;

  MlpImpl(int in, const std::vector<int>& hidden, int out, double last_scale, Rng& rng) {
    std::vector<int> sizes{in};
    sizes.insert(sizes.end(), hidden.begin(), hidden.end());
    sizes.push_back(out);
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
      int fan_in = sizes[l], fan_out = sizes[l + 1];
      double bound = std::sqrt(6.0 / (fan_in + fan_out)) * (l + 2 == sizes.size() ? last_scale : 1.0);
      std::vector<float> v(static_cast<std::size_t>(fan_in) * fan_out);
      for (float& x : v) x = static_cast<float>((2 * rng.uniform() - 1) * bound);
      w.push_back(
          register_parameter("w" + std::to_string(l), torch::from_blob(v.data(), {fan_out, fan_in}).clone()));
      b.push_back(register_parameter("b" + std::to_string(l), torch::zeros({fan_out})));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (std::size_t l = 0; l < w.size(); ++l) {
      x = torch::linear(x, w[l], b[l]);
      if (l + 1 < w.size()) x = torch::tanh(x);
    }
    return x;
  }
};

// PPO: actor `pi` (logits, or the Gaussian mean) and critic `v` (+ log_std when continuous); DQN: `q`.
struct Agent : torch::nn::Module {
  Spec spec;
  std::shared_ptr<MlpImpl> pi, v, q;
  torch::Tensor log_std;

  Agent(Spec s, Rng& rng) : spec(std::move(s)) {
    int in = spec.observation_size;
    if (spec.algorithm == "ppo") {
      pi = register_module("pi", std::make_shared<MlpImpl>(in, spec.hidden, spec.outputs(), 0.01, rng));
      v = register_module("v", std::make_shared<MlpImpl>(in, spec.hidden, 1, 1.0, rng));
      if (!spec.space.discrete)
        log_std = register_parameter("log_std", torch::full({1}, static_cast<float>(spec.initial_log_std)));
    } else {
      q = register_module("q", std::make_shared<MlpImpl>(in, spec.hidden, spec.outputs(), 1.0, rng));
    }
  }
  bool ppo() const { return spec.algorithm == "ppo"; }
  // What the greedy action is read from: logits / mean, or Q values.
  torch::Tensor head(const torch::Tensor& x) { return ppo() ? pi->forward(x) : q->forward(x); }
  torch::Tensor value(const torch::Tensor& x) { return v->forward(x).squeeze(1); }
};

void copy_parameters(Agent& to, Agent& from) {
  torch::NoGradGuard no_grad;
  auto src = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(src[p.key()]);
}

std::shared_ptr<Agent> clone_agent(Agent& from) {
  Rng unused(0);
  auto a = std::make_shared<Agent>(from.spec, unused);
  copy_parameters(*a, from);
  return a;
}

// Greedy action of row `row` of head outputs (on CPU, contiguous float).
double greedy(const torch::Tensor& out, const Spec& spec, int64_t row) {
  const float* p = out.data_ptr<float>() + row * spec.outputs();
  if (!spec.space.discrete) return std::clamp(static_cast<double>(p[0]), 0.0, 1.0);
  int best = 0;
  for (int k = 1; k < spec.outputs(); ++k)
    if (p[k] > p[best]) best = k;
  return best;
}

torch::Tensor rows_tensor(const std::vector<float>& v, int64_t rows, int64_t cols) {
  return torch::from_blob(const_cast<float*>(v.data()), {rows, cols}).clone();
}

// The greedy policy of an agent: a frozen copy (policy(), load) or a view of the one being trained (what
// `evaluate` sees).
class GreedyPolicy final : public Policy {
 public:
  explicit GreedyPolicy(std::shared_ptr<Agent> agent) : agent_(std::move(agent)) {}
  double act(const std::vector<float>& obs) const override {
    const Spec& s = agent_->spec;
    if (static_cast<int>(obs.size()) != s.observation_size)
      throw InputError(
          "", 0, "observation",
          std::to_string(s.observation_size) + " values for this policy, got " + std::to_string(obs.size()));
    torch::NoGradGuard no_grad;
    torch::Tensor out = agent_->head(rows_tensor(obs, 1, s.observation_size)).contiguous();
    return greedy(out, s, 0);
  }
  int observation_size() const override { return agent_->spec.observation_size; }
  ActionSpace action_space() const override { return agent_->spec.space; }

 private:
  std::shared_ptr<Agent> agent_;
};

std::string serialize(Agent& a) {
  std::ostringstream out;
  torch::serialize::OutputArchive archive;
  for (const auto& p : a.named_parameters()) archive.write(archive_key(p.key()), p.value().detach());
  archive.save_to(out);
  return out.str();
}

nlohmann::json describe_agent(Agent& a) {
  long count = 0;
  for (const auto& p : a.parameters()) count += p.numel();
  nlohmann::json d{
      {"algorithm", a.spec.algorithm},
      {"observation_size", a.spec.observation_size},
      {"action_space", {{"discrete", a.spec.space.discrete}, {"max_step", a.spec.space.max_step}}},
      {"hidden", a.spec.hidden},
      {"activation", "tanh"},
      {"parameters", count},
      {"weights_fnv1a64", fnv1a64(serialize(a))}};
  return d;
}

// Replay buffer of transitions (DQN); next_obs is the ended episode's last observation at an episode end.
class Replay {
 public:
  Replay(int capacity, int obs_size) : cap_(capacity), d_(obs_size) {
    obs_.resize(static_cast<std::size_t>(cap_) * d_);
    next_.resize(obs_.size());
    act_.resize(cap_);
    rew_.resize(cap_);
    done_.resize(cap_);
  }
  void add(const float* obs, int64_t action, double reward, const float* next, bool terminated) {
    std::copy(obs, obs + d_, obs_.begin() + static_cast<std::ptrdiff_t>(pos_) * d_);
    std::copy(next, next + d_, next_.begin() + static_cast<std::ptrdiff_t>(pos_) * d_);
    act_[pos_] = action;
    rew_[pos_] = static_cast<float>(reward);
    done_[pos_] = terminated ? 1.0f : 0.0f;
    pos_ = (pos_ + 1) % cap_;
    size_ = std::min(size_ + 1, cap_);
  }
  int size() const { return size_; }
  struct Batch {
    torch::Tensor obs, act, rew, next, done;
  };
  Batch sample(int n, Rng& rng) const {
    std::vector<float> o(static_cast<std::size_t>(n) * d_), nx(o.size()), r(n), dn(n);
    std::vector<int64_t> a(n);
    for (int k = 0; k < n; ++k) {
      std::size_t i = rng.below(static_cast<std::size_t>(size_));
      std::copy_n(obs_.begin() + static_cast<std::ptrdiff_t>(i) * d_, d_, o.begin() + k * d_);
      std::copy_n(next_.begin() + static_cast<std::ptrdiff_t>(i) * d_, d_, nx.begin() + k * d_);
      a[k] = act_[i];
      r[k] = rew_[i];
      dn[k] = done_[i];
    }
    return {rows_tensor(o, n, d_), torch::from_blob(a.data(), {n}, torch::kLong).clone(),
            torch::from_blob(r.data(), {n}).clone(), rows_tensor(nx, n, d_),
            torch::from_blob(dn.data(), {n}).clone()};
  }

 private:
  int cap_, d_;
  std::vector<float> obs_, next_;
  std::vector<int64_t> act_;
  std::vector<float> rew_, done_;
  int pos_ = 0, size_ = 0;
};

class TorchLearner final : public LearnerBackend {
 public:
  TorchLearner(const TrainConfig& c, int observation_size, const ActionSpace& space) : cfg_(c), rng_(c.seed) {
    Spec s;
    s.algorithm = cfg_.algorithm;
    s.observation_size = observation_size;
    s.space = space;
    s.hidden = cfg_.hidden;
    s.initial_log_std = cfg_.initial_log_std;
    net_ = std::make_shared<Agent>(s, rng_);
    if (!net_->ppo()) target_ = clone_agent(*net_);
    opt_ = std::make_unique<torch::optim::Adam>(
        net_->parameters(),
        torch::optim::AdamOptions(cfg_.learning_rate).eps(cfg_.algorithm == "ppo" ? 1e-5 : 1e-8));
  }

  TrainReport train(VecEnvironment& env, const std::function<void(const TrainProgress&)>& progress,
                    const std::function<double(const Policy&)>& evaluate) override;
  Policy* policy() const override { return new GreedyPolicy(clone_agent(*net_)); }
  void save(const std::string& weights_path) const override;
  nlohmann::json describe() const override { return describe_agent(*net_); }

 private:
  const Spec& spec() const { return net_->spec; }
  // One update; fills the losses of `p`.
  void ppo_update(VecEnvironment& env, TrainProgress& p);
  void dqn_update(VecEnvironment& env, TrainProgress& p);
  void ended(double episode_return) {
    recent_.push_back(episode_return);
    if (recent_.size() > 100) recent_.pop_front();
    ++episodes_;
  }
  void check_step(const VecStep& s, int n) const;

  TrainConfig cfg_;
  Rng rng_;
  std::shared_ptr<Agent> net_, target_;
  std::unique_ptr<torch::optim::Adam> opt_;
  long steps_ = 0;
  int updates_ = 0, episodes_ = 0;
  std::deque<double> recent_;
  // The current episode of every environment.
  std::vector<float> obs_;
  std::vector<double> returns_;
  // DQN
  std::unique_ptr<Replay> replay_;
  long grad_debt_ = 0, since_target_ = 0;
};

void TorchLearner::check_step(const VecStep& s, int n) const {
  std::size_t N = static_cast<std::size_t>(n), D = N * static_cast<std::size_t>(spec().observation_size);
  if (s.obs.size() != D || s.final_obs.size() != D || s.reward.size() != N || s.terminated.size() != N ||
      s.truncated.size() != N)
    throw InputError("", 0, "environment",
                     "a VecStep of " + std::to_string(n) + " environments (obs and final_obs of " +
                         std::to_string(D) + " values), got obs " + std::to_string(s.obs.size()) +
                         ", final_obs " + std::to_string(s.final_obs.size()) + ", reward " +
                         std::to_string(s.reward.size()));
  for (double r : s.reward)
    if (!std::isfinite(r)) throw InputError("", 0, "environment.reward", "finite rewards");
  for (float v : s.obs)
    if (!std::isfinite(v)) throw InputError("", 0, "environment.obs", "finite observations");
}

void TorchLearner::ppo_update(VecEnvironment& env, TrainProgress& p) {
  const Spec& s = spec();
  const int n = env.num_envs(), d = s.observation_size, T = cfg_.rollout_steps, A = s.outputs();
  const int64_t B = static_cast<int64_t>(T) * n;
  std::vector<float> ob(static_cast<std::size_t>(B) * d), act(B);
  std::vector<int64_t> act_index(B);
  std::vector<double> rew(B);
  std::vector<uint8_t> done(B);
  // Truncated episodes: (sample, final observation) to bootstrap from.
  std::vector<int64_t> trunc_at;
  std::vector<float> trunc_obs;
  std::vector<double> actions(n);
  for (int t = 0; t < T; ++t) {
    std::copy(obs_.begin(), obs_.end(), ob.begin() + static_cast<std::ptrdiff_t>(t) * n * d);
    torch::Tensor out;
    {
      torch::NoGradGuard no_grad;
      out = net_->pi->forward(rows_tensor(obs_, n, d)).contiguous();
    }
    const float* o = out.data_ptr<float>();
    for (int i = 0; i < n; ++i) {
      int64_t k = static_cast<int64_t>(t) * n + i;
      if (s.space.discrete) {
        const float* logits = o + static_cast<std::ptrdiff_t>(i) * A;
        double mx = *std::max_element(logits, logits + A), sum = 0;
        std::vector<double> e(A);
        for (int j = 0; j < A; ++j) sum += e[j] = std::exp(logits[j] - mx);
        double u = rng_.uniform() * sum, c = 0;
        int a = A - 1;
        for (int j = 0; j < A; ++j)
          if (u < (c += e[j])) {
            a = j;
            break;
          }
        act_index[k] = a;
        act[k] = static_cast<float>(a);
        actions[i] = a;
      } else {
        double a = o[i] + std::exp(net_->log_std.item<float>()) * rng_.normal();
        act[k] = static_cast<float>(a);
        actions[i] = std::clamp(a, 0.0, 1.0);
      }
    }
    VecStep st = env.step(actions);
    check_step(st, n);
    for (int i = 0; i < n; ++i) {
      int64_t k = static_cast<int64_t>(t) * n + i;
      rew[k] = st.reward[i];
      returns_[i] += st.reward[i];
      if (st.terminated[i] || st.truncated[i]) {
        done[k] = 1;
        ended(returns_[i]);
        returns_[i] = 0;
        if (!st.terminated[i]) {
          trunc_at.push_back(k);
          trunc_obs.insert(trunc_obs.end(), st.final_obs.begin() + static_cast<std::ptrdiff_t>(i) * d,
                           st.final_obs.begin() + static_cast<std::ptrdiff_t>(i + 1) * d);
        }
      }
    }
    obs_ = std::move(st.obs);
    steps_ += n;
  }

  torch::Tensor x = rows_tensor(ob, B, d);
  torch::Tensor a_t = s.space.discrete ? torch::from_blob(act_index.data(), {B}, torch::kLong).clone()
                                       : torch::from_blob(act.data(), {B}).clone();
  auto log_prob_entropy = [&](const torch::Tensor& xs, const torch::Tensor& as) {
    torch::Tensor head = net_->pi->forward(xs);
    if (s.space.discrete) {
      torch::Tensor logp = torch::log_softmax(head, 1);
      return std::make_pair(logp.gather(1, as.unsqueeze(1)).squeeze(1), -(logp.exp() * logp).sum(1).mean());
    }
    torch::Tensor mu = head.squeeze(1), ls = net_->log_std;
    torch::Tensor lp = -0.5 * ((as - mu) * torch::exp(-ls)).pow(2) - ls - 0.5 * kLog2Pi;
    return std::make_pair(lp, (0.5 + 0.5 * kLog2Pi + ls).sum());
  };
  torch::Tensor old_logp, values;
  std::vector<double> val(B), last(n), boot(trunc_at.size());
  {
    torch::NoGradGuard no_grad;
    old_logp = log_prob_entropy(x, a_t).first;
    values = net_->value(x).contiguous();
    torch::Tensor lv = net_->value(rows_tensor(obs_, n, d)).contiguous();
    for (int64_t k = 0; k < B; ++k) val[k] = values.data_ptr<float>()[k];
    for (int i = 0; i < n; ++i) last[i] = lv.data_ptr<float>()[i];
    if (!trunc_at.empty()) {
      torch::Tensor bv =
          net_->value(rows_tensor(trunc_obs, static_cast<int64_t>(trunc_at.size()), d)).contiguous();
      for (std::size_t j = 0; j < trunc_at.size(); ++j) boot[j] = bv.data_ptr<float>()[j];
    }
  }
  // A truncated episode continues in value: its last reward carries the discounted value of where it was cut.
  for (std::size_t j = 0; j < trunc_at.size(); ++j) rew[trunc_at[j]] += cfg_.gamma * boot[j];
  std::vector<float> adv(B), ret(B);
  for (int i = 0; i < n; ++i) {
    double gae = 0;
    for (int t = T - 1; t >= 0; --t) {
      int64_t k = static_cast<int64_t>(t) * n + i;
      double next_v = t == T - 1 ? last[i] : val[k + n];
      double keep = done[k] ? 0.0 : 1.0;
      double delta = rew[k] + cfg_.gamma * next_v * keep - val[k];
      gae = delta + cfg_.gamma * cfg_.gae_lambda * keep * gae;
      adv[k] = static_cast<float>(gae);
      ret[k] = static_cast<float>(gae + val[k]);
    }
  }
  torch::Tensor adv_t = torch::from_blob(adv.data(), {B}).clone(),
                ret_t = torch::from_blob(ret.data(), {B}).clone();
  adv_t = (adv_t - adv_t.mean()) / (adv_t.std() + 1e-8);

  std::vector<int64_t> order(B);
  for (int64_t k = 0; k < B; ++k) order[k] = k;
  double sum_pg = 0, sum_v = 0, sum_ent = 0;
  int grads = 0;
  for (int e = 0; e < cfg_.epochs; ++e) {
    for (int64_t k = B - 1; k > 0; --k)
      std::swap(order[k], order[rng_.below(static_cast<std::size_t>(k + 1))]);
    for (int64_t start = 0; start < B; start += cfg_.minibatch) {
      int64_t m = std::min<int64_t>(cfg_.minibatch, B - start);
      torch::Tensor idx = torch::from_blob(order.data() + start, {m}, torch::kLong).clone();
      torch::Tensor xb = x.index_select(0, idx), ab = a_t.index_select(0, idx);
      torch::Tensor advb = adv_t.index_select(0, idx), retb = ret_t.index_select(0, idx);
      auto [logp, entropy] = log_prob_entropy(xb, ab);
      torch::Tensor ratio = torch::exp(logp - old_logp.index_select(0, idx));
      torch::Tensor pg =
          -torch::min(ratio * advb, torch::clamp(ratio, 1 - cfg_.clip, 1 + cfg_.clip) * advb).mean();
      torch::Tensor vl = (net_->value(xb) - retb).pow(2).mean();
      torch::Tensor loss = pg + cfg_.value_coef * vl - cfg_.entropy_coef * entropy;
      opt_->zero_grad();
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net_->parameters(), cfg_.max_grad_norm);
      opt_->step();
      sum_pg += pg.item<double>();
      sum_v += vl.item<double>();
      sum_ent += entropy.item<double>();
      ++grads;
    }
  }
  p.policy_loss = grads ? sum_pg / grads : 0;
  p.value_loss = grads ? sum_v / grads : 0;
  p.entropy = grads ? sum_ent / grads : 0;
}

void TorchLearner::dqn_update(VecEnvironment& env, TrainProgress& p) {
  const Spec& s = spec();
  const int n = env.num_envs(), d = s.observation_size, A = s.outputs();
  if (!replay_) replay_ = std::make_unique<Replay>(cfg_.buffer_size, d);
  std::vector<double> actions(n);
  double sum_loss = 0, eps = 0;
  int grads = 0;
  for (int t = 0; t < cfg_.rollout_steps; ++t) {
    double frac =
        cfg_.epsilon_decay_steps > 0
            ? std::min(1.0, static_cast<double>(steps_) / static_cast<double>(cfg_.epsilon_decay_steps))
            : 1.0;
    eps = cfg_.epsilon_start + (cfg_.epsilon_end - cfg_.epsilon_start) * frac;
    torch::Tensor q;
    {
      torch::NoGradGuard no_grad;
      q = net_->q->forward(rows_tensor(obs_, n, d)).contiguous();
    }
    for (int i = 0; i < n; ++i) {
      bool explore = rng_.uniform() < eps;
      actions[i] = explore ? static_cast<double>(rng_.below(static_cast<std::size_t>(A))) : greedy(q, s, i);
    }
    VecStep st = env.step(actions);
    check_step(st, n);
    for (int i = 0; i < n; ++i) {
      bool end = st.terminated[i] || st.truncated[i];
      const float* next = (end ? st.final_obs.data() : st.obs.data()) + static_cast<std::ptrdiff_t>(i) * d;
      replay_->add(obs_.data() + static_cast<std::ptrdiff_t>(i) * d, static_cast<int64_t>(actions[i]),
                   st.reward[i], next, st.terminated[i] != 0);
      returns_[i] += st.reward[i];
      if (end) {
        ended(returns_[i]);
        returns_[i] = 0;
      }
    }
    obs_ = std::move(st.obs);
    steps_ += n;
    since_target_ += n;
    if (steps_ >= cfg_.learning_starts) {
      grad_debt_ += n;
      for (; grad_debt_ >= cfg_.train_every; grad_debt_ -= cfg_.train_every) {
        Replay::Batch b = replay_->sample(cfg_.batch_size, rng_);
        torch::Tensor y;
        {
          torch::NoGradGuard no_grad;
          torch::Tensor qt = target_->q->forward(b.next);
          torch::Tensor next_q = cfg_.double_dqn
                                     ? qt.gather(1, net_->q->forward(b.next).argmax(1, true)).squeeze(1)
                                     : std::get<0>(qt.max(1));
          y = b.rew + cfg_.gamma * (1 - b.done) * next_q;
        }
        torch::Tensor qa = net_->q->forward(b.obs).gather(1, b.act.unsqueeze(1)).squeeze(1);
        torch::Tensor loss = torch::smooth_l1_loss(qa, y);
        opt_->zero_grad();
        loss.backward();
        torch::nn::utils::clip_grad_norm_(net_->parameters(), cfg_.max_grad_norm);
        opt_->step();
        sum_loss += loss.item<double>();
        ++grads;
      }
    }
    if (since_target_ >= cfg_.target_update_steps) {
      copy_parameters(*target_, *net_);
      since_target_ = 0;
    }
  }
  p.value_loss = grads ? sum_loss / grads : 0;
  p.epsilon = eps;
}

TrainReport TorchLearner::train(VecEnvironment& env,
                                const std::function<void(const TrainProgress&)>& progress,
                                const std::function<double(const Policy&)>& evaluate) {
  const Spec& s = spec();
  if (env.observation_size() != s.observation_size)
    throw InputError("", 0, "environment",
                     "observations of " + std::to_string(s.observation_size) +
                         " values (the learner's), the environment's have " +
                         std::to_string(env.observation_size()));
  ActionSpace es = env.action_space();
  if (es.discrete != s.space.discrete || (es.discrete && es.max_step != s.space.max_step))
    throw InputError(
        "", 0, "environment",
        "the learner's action space (" +
            std::string(s.space.discrete ? "discrete, max_step " + std::to_string(s.space.max_step)
                                         : "continuous") +
            "), the environment's differs");
  const int n = env.num_envs();
  if (n < 1) throw InputError("", 0, "environment", "at least one environment");

  std::lock_guard<std::mutex> lock(thread_count_mutex());
  ThreadScope threads(cfg_.threads);
  auto t0 = std::chrono::steady_clock::now();
  obs_ = env.reset(cfg_.seed);
  if (obs_.size() != static_cast<std::size_t>(n) * s.observation_size)
    throw InputError("", 0, "environment",
                     "reset() of " + std::to_string(n * s.observation_size) + " values, got " +
                         std::to_string(obs_.size()));
  returns_.assign(n, 0.0);
  TrainReport report;
  const long end = steps_ + cfg_.total_steps;
  GreedyPolicy live(net_);
  int since_eval = 0;
  while (steps_ < end) {
    TrainProgress p;
    if (net_->ppo())
      ppo_update(env, p);
    else
      dqn_update(env, p);
    ++updates_;
    ++since_eval;
    p.steps = steps_;
    p.updates = updates_;
    p.episodes = episodes_;
    p.mean_episode_reward = std::numeric_limits<double>::quiet_NaN();
    if (!recent_.empty()) {
      double sum = 0;
      for (double r : recent_) sum += r;
      p.mean_episode_reward = sum / static_cast<double>(recent_.size());
    }
    if (evaluate && (since_eval >= cfg_.eval_every_updates || steps_ >= end)) {
      torch::NoGradGuard no_grad;
      p.eval_reward = evaluate(live);
      since_eval = 0;
      report.final_eval_reward = p.eval_reward;
      if (!report.best_eval_reward || *p.eval_reward > *report.best_eval_reward)
        report.best_eval_reward = p.eval_reward;
    }
    p.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report.curve.push_back(p);
    if (progress) progress(p);
  }
  if (!report.curve.empty()) report.mean_episode_reward = report.curve.back().mean_episode_reward;
  report.steps = steps_;
  report.updates = updates_;
  report.episodes = episodes_;
  report.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

void TorchLearner::save(const std::string& weights_path) const {
  std::string bytes;
  try {
    bytes = serialize(*net_);
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    throw InputError(weights_path, 0, "weights",
                     "a policy torch can serialize (" + what.substr(0, what.find('\n')) + ")");
  }
  const std::string tmp = weights_path + ".tmp" + std::to_string(::getpid());
  bool written = static_cast<bool>(std::ofstream(tmp, std::ios::binary | std::ios::trunc)
                                       .write(bytes.data(), static_cast<std::streamsize>(bytes.size())));
  std::error_code ec;
  if (written) std::filesystem::rename(tmp, weights_path, ec);
  if (!written || ec) {
    std::remove(tmp.c_str());
    throw InputError(weights_path, 0, "weights",
                     "a writable path" + (ec ? " (" + ec.message() + ")" : std::string()));
  }
}

std::string shape_text(at::IntArrayRef s) {
  std::string t = "[";
  for (std::size_t i = 0; i < s.size(); ++i) t += (i ? ", " : "") + std::to_string(s[i]);
  return t + "]";
}

Policy* load(const nlohmann::json& description, const std::string& path) {
  auto bad = [&](const std::string& field, const std::string& expected) {
    throw InputError(path, 0, field, expected);
  };
  const nlohmann::json& j = description;
  if (!j.is_object()) bad("model", "a policy description written by describe() (an object)");
  Spec s;
  try {
    s.algorithm = j.at("algorithm").get<std::string>();
    s.observation_size = j.at("observation_size").get<int>();
    s.space.discrete = j.at("action_space").at("discrete").get<bool>();
    s.space.max_step = j.at("action_space").at("max_step").get<int>();
    s.hidden = j.at("hidden").get<std::vector<int>>();
    std::string checksum = j.at("weights_fnv1a64").get<std::string>();
    (void)checksum;
  } catch (const nlohmann::json::exception& e) {
    bad("model", std::string("algorithm, observation_size, action_space {discrete, max_step}, hidden and "
                             "weights_fnv1a64 (") +
                     e.what() + ")");
  }
  if (s.algorithm != "ppo" && s.algorithm != "dqn")
    bad("model.algorithm", "\"ppo\" or \"dqn\", got \"" + s.algorithm + "\"");
  if (s.observation_size < 1 || s.observation_size > 1000000)
    bad("model.observation_size", "a positive size");
  if (s.space.discrete && (s.space.max_step < 1 || s.space.max_step > 1000))
    bad("model.action_space.max_step", "1..1000");
  if (!s.space.discrete && s.algorithm == "dqn") bad("model.action_space", "discrete actions for dqn");
  for (int h : s.hidden)
    if (h < 1 || h > 100000) bad("model.hidden", "positive layer sizes");
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) bad("weights", "an existing weights file");
  std::ifstream in(path, std::ios::binary);
  std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  std::string checksum = j["weights_fnv1a64"].get<std::string>();
  if (fnv1a64(bytes) != checksum)
    bad("weights", "the file save() wrote (FNV-1a " + checksum + " in the description, " + fnv1a64(bytes) +
                       " on disk: truncated, corrupt or another policy's)");
  Rng unused(0);
  auto agent = std::make_shared<Agent>(s, unused);
  try {
    std::istringstream stream(bytes);
    torch::serialize::InputArchive archive;
    archive.load_from(stream);
    auto named = agent->named_parameters();
    if (archive.keys().size() != named.size())
      bad("weights", std::to_string(named.size()) + " tensors for this " + s.algorithm + " policy, found " +
                         std::to_string(archive.keys().size()));
    torch::NoGradGuard no_grad;
    for (auto& p : named) {
      torch::Tensor t;
      if (!archive.try_read(archive_key(p.key()), t))
        bad(p.key(), "a tensor of shape " + shape_text(p.value().sizes()));
      if (t.sizes() != p.value().sizes() || t.scalar_type() != p.value().scalar_type())
        bad(p.key(),
            "a float tensor of shape " + shape_text(p.value().sizes()) + ", found " + shape_text(t.sizes()));
      if (!torch::isfinite(t).all().item<bool>()) bad(p.key(), "finite weights");
      p.value().copy_(t);
    }
  } catch (const InputError&) {
    throw;
  } catch (const c10::Error& e) {
    std::string what = e.what_without_backtrace();
    bad("weights", "a weights file written by save() (" + what.substr(0, what.find('\n')) + ")");
  }
  return new GreedyPolicy(agent);
}

}  // namespace

#define AUTOSCALE_TORCH_EXPORT __attribute__((visibility("default")))

extern "C" AUTOSCALE_TORCH_EXPORT int autoscale_torch_rl_abi() {
  return kRlBackendAbi;
}

extern "C" AUTOSCALE_TORCH_EXPORT LearnerBackend* autoscale_torch_rl_create(const TrainConfig& cfg,
                                                                            int observation_size,
                                                                            const ActionSpace& space) {
  return new TorchLearner(cfg, observation_size, space);
}

extern "C" AUTOSCALE_TORCH_EXPORT Policy* autoscale_torch_rl_load(const nlohmann::json& description,
                                                                  const std::string& weights_path) {
  return load(description, weights_path);
}

static_assert(std::is_same_v<decltype(autoscale_torch_rl_abi), RlAbiFn>);
static_assert(std::is_same_v<decltype(autoscale_torch_rl_create), RlCreateFn>);
static_assert(std::is_same_v<decltype(autoscale_torch_rl_load), RlLoadFn>);

}  // namespace autoscale::rl
