#include "controllers/vote/vote_controller.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "controllers/registry.hpp"
#include "controllers/wrappers/composite.hpp"

namespace autoscale {

bool vote_passes(VoteRule rule, int votes, int voters) {
  if (voters <= 0 || votes <= 0) return false;
  switch (rule) {
    case VoteRule::any:
      return true;
    case VoteRule::majority:
      return 2 * votes > voters;
    case VoteRule::all:
      return votes == voters;
  }
  return false;
}

ServiceDecision tally_votes(const std::string& service, int current,
                            const std::vector<VoterProposal>& proposals, VoteRule out_rule,
                            VoteRule in_rule) {
  ServiceDecision d{service, current, "", 0, "vote_hold"};
  std::string names[3];  // out, in, hold
  int counts[3] = {0, 0, 0};
  const VoterProposal* pick[2] = {nullptr, nullptr};  // the largest count of the out- and of the in-voters
  for (const auto& p : proposals) {
    int way = p.desired > current ? 0 : p.desired < current ? 1 : 2;
    ++counts[way];
    names[way] += (names[way].empty() ? "" : ",") + p.voter;
    if (way < 2 && (!pick[way] || p.desired > pick[way]->desired)) pick[way] = &p;
    d.diagnostics[p.voter + "_desired"] = p.desired;
  }
  const int n = static_cast<int>(proposals.size());
  const VoterProposal* winner = nullptr;
  if (vote_passes(out_rule, counts[0], n)) {
    winner = pick[0];
    d.rule = "vote_out";
  } else if (vote_passes(in_rule, counts[1], n)) {
    winner = pick[1];
    d.rule = "vote_in";
  }
  if (winner) {
    d.desired = winner->desired;
    d.metric = winner->metric;
    d.metric_value = winner->metric_value;
    d.diagnostic_strings["decided_by"] = winner->voter;
  }
  d.diagnostics["votes_out"] = counts[0];
  d.diagnostics["votes_in"] = counts[1];
  d.diagnostics["votes_hold"] = counts[2];
  const char* keys[3] = {"voted_out", "voted_in", "voted_hold"};
  for (int w = 0; w < 3; ++w)
    if (!names[w].empty()) d.diagnostic_strings[keys[w]] = names[w];
  return d;
}

VoteController::VoteController(std::vector<std::string> services, std::vector<std::string> names,
                               std::vector<std::unique_ptr<Controller>> voters, VoteRule out_rule,
                               VoteRule in_rule)
    : services_(std::move(services)),
      names_(std::move(names)),
      voters_(std::move(voters)),
      last_(voters_.size()),
      out_rule_(out_rule),
      in_rule_(in_rule) {
  long tick_ms = 0;
  for (const auto& v : voters_) tick_ms = std::gcd(tick_ms, wrappers::to_ms(v->interval_s()));
  tick_s_ = static_cast<double>(tick_ms) / 1000;
  for (const auto& v : voters_) every_.push_back(std::max(1L, wrappers::to_ms(v->interval_s()) / tick_ms));
}

Decision VoteController::decide(const Observation& obs) {
  const long k = std::lround(obs.time_s / tick_s_);
  for (size_t i = 0; i < voters_.size(); ++i) {
    if (k % every_[i] != 0) continue;
    Decision d = voters_[i]->decide(obs);
    last_[i].clear();
    for (auto& sd : d.services) last_[i][sd.service] = std::move(sd);
  }
  Decision out;
  for (const auto& name : services_) {
    const ServiceObservation* s = obs.find(name);
    if (!s) continue;
    std::vector<VoterProposal> proposals;
    for (size_t i = 0; i < voters_.size(); ++i) {
      auto it = last_[i].find(name);
      if (it == last_[i].end()) continue;
      const ServiceDecision& sd = it->second;
      proposals.push_back({names_[i], sd.desired, sd.metric, sd.metric_value});
    }
    if (proposals.empty()) continue;  // no voter scales it: left as it is
    out.services.push_back(tally_votes(name, s->desired, proposals, out_rule_, in_rule_));
  }
  return out;
}

std::vector<std::string> VoteController::scale_to_zero_services() const {
  std::set<std::string> all;
  for (const auto& v : voters_)
    for (auto& s : v->scale_to_zero_services()) all.insert(s);
  return {all.begin(), all.end()};
}

std::map<std::string, MetricWindows> VoteController::metric_windows() const {
  std::map<std::string, MetricWindows> all;
  for (const auto& v : voters_) all.merge(v->metric_windows());  // the first voter's windows win
  return all;
}

bool VoteController::wants_foresight() const {
  return std::any_of(voters_.begin(), voters_.end(), [](const auto& v) { return v->wants_foresight(); });
}

void VoteController::set_foresight(Foresight& foresight) {
  for (const auto& v : voters_)
    if (v->wants_foresight()) v->set_foresight(foresight);
}

std::unique_ptr<Controller> make_vote_controller(Params& p, const ControllerContext& ctx) {
  auto services = controlled_services(p, ctx);
  const std::vector<std::string> rules = {"any", "majority", "all"};
  auto rule = [&](const char* key, const char* fallback) {
    std::string r = p.choice(key, fallback, rules);
    return r == "any" ? VoteRule::any : r == "majority" ? VoteRule::majority : VoteRule::all;
  };
  VoteRule out_rule = rule("scale_out", "any");
  VoteRule in_rule = rule("scale_in", "all");
  auto sections = p.tables("voters");
  if (sections.empty())
    p.fail("voters", "at least one [[controller.voters]] section (a controller with a kind)");
  std::vector<std::string> names;
  std::vector<std::unique_ptr<Controller>> voters;
  for (size_t i = 0; i < sections.size(); ++i) {
    Params& v = *sections[i];
    const std::string kind = v.string("kind", std::nullopt);
    std::string name = v.string("name", kind + "_" + std::to_string(i + 1));
    if (name.empty()) v.fail("name", "a non-empty voter name");
    if (std::find(names.begin(), names.end(), name) != names.end())
      v.fail("name", "a name no other voter has ('" + name + "' is taken; name the voters)");
    voters.push_back(make_controller(kind, v, ctx));
    v.finish();
    names.push_back(std::move(name));
  }
  return std::make_unique<VoteController>(std::move(services), std::move(names), std::move(voters), out_rule,
                                          in_rule);
}

}  // namespace autoscale
