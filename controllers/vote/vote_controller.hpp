#pragma once
// `vote`: several controllers (`[[controller.voters]]`, sections of any kind: a threshold on CPU, one on
// queue depth, one on DB connections, ...) vote on each service's count, and rules decide, separately for
// scale-out and scale-in, how many of them must agree (`scale_out`, `scale_in`: "any", "majority", "all").
//
// Per service, a voter that answered for it votes *out* when its proposed count is above the service's
// current desired count, *in* when below, *hold* when equal; a voter that did not answer for the service (it
// does not scale it) abstains and is not counted. With n voters counted and k of them voting one way, "any"
// passes at k >= 1, "majority" at k > n / 2 (a tie is not a majority), "all" at k = n. If the out-rule
// passes, the service gets the largest of the out-voters' counts (the most capacity any of them asked for);
// else, if the in-rule passes, the largest of the in-voters' counts (the least aggressive scale-in); else it
// holds. The defaults, any out and all in, are the safe asymmetry: one saturated resource is enough to add
// capacity, and capacity is removed only when no metric still needs it.
//
// The vote ticks at the greatest common divisor of the voters' intervals and asks each voter only at its own
// ticks (k x its interval); between them its last answer stands, compared with the count at the vote. Voters
// keep their own memory as if their proposals were carried out (an outvoted threshold voter still starts its
// cooldown). Node pool orders of the voters are not voted on and are dropped.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controllers/controller.hpp"

namespace autoscale {

enum class VoteRule { any, majority, all };

// Whether `votes` of `voters` counted pass `rule` (false with no voter).
bool vote_passes(VoteRule rule, int votes, int voters);

// One voter's answer for a service.
struct VoterProposal {
  std::string voter;
  int desired = 0;
  std::string metric;
  double metric_value = 0;
};

// The vote on one service whose current desired count is `current`: the decision with rule "vote_out",
// "vote_in" or "vote_hold", the deciding voter's metric, and diagnostics votes_out / votes_in / votes_hold
// (counts), <voter>_desired, strings voted_out / voted_in / voted_hold (voter names, comma-separated) and
// decided_by.
ServiceDecision tally_votes(const std::string& service, int current,
                            const std::vector<VoterProposal>& proposals, VoteRule out_rule, VoteRule in_rule);

class VoteController : public Controller {
 public:
  VoteController(std::vector<std::string> services, std::vector<std::string> names,
                 std::vector<std::unique_ptr<Controller>> voters, VoteRule out_rule, VoteRule in_rule);
  Decision decide(const Observation& obs) override;
  double interval_s() const override { return tick_s_; }
  std::vector<std::string> scale_to_zero_services() const override;
  std::map<std::string, MetricWindows> metric_windows() const override;
  bool wants_foresight() const override;
  void set_foresight(Foresight& foresight) override;

 private:
  std::vector<std::string> services_;
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<Controller>> voters_;
  std::vector<long> every_;                                   // voter i runs at multiples of every_[i]
  std::vector<std::map<std::string, ServiceDecision>> last_;  // per voter: its latest answer by service
  VoteRule out_rule_, in_rule_;
  double tick_s_ = 60;
};

}  // namespace autoscale
