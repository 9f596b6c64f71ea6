// The `vote` controller: its rules on hand-made voter proposals (any / majority / all, both directions,
// ties), and the controller with threshold voters on different metrics.
#include <catch2/catch.hpp>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"
#include "controllers/vote/vote_controller.hpp"

using namespace autoscale;

namespace {
using Table = MapParams::Table;
using Values = std::map<std::string, MapParams::Value>;

Table threshold_voter(const std::string& name, const std::string& metric, double out_above, double in_below,
                      double interval_s, std::vector<std::string> services = {}) {
  Values v{{"kind", std::string("threshold")},
           {"name", name},
           {"metric", metric},
           {"scale_out_above", out_above},
           {"scale_in_below", in_below},
           {"cooldown_s", 0.0},
           {"interval_s", interval_s}};
  if (!services.empty()) v["services"] = services;
  return std::make_shared<MapParams>(v);
}

ServiceObservation service(const std::string& name, int desired, double cpu, double queue) {
  ServiceObservation s;
  s.name = name;
  s.min_instances = 1;
  s.max_instances = 20;
  s.desired = desired;
  s.in_service = desired;
  s.metrics_valid = true;
  s.cpu_utilization = cpu;
  s.queue_depth = queue;
  return s;
}
}  // namespace

TEST_CASE("vote: any, majority and all count the votes as documented", "[vote]") {
  CHECK(vote_passes(VoteRule::any, 1, 3));
  CHECK_FALSE(vote_passes(VoteRule::any, 0, 3));
  CHECK(vote_passes(VoteRule::majority, 2, 3));
  CHECK_FALSE(vote_passes(VoteRule::majority, 1, 2));  // a tie is not a majority
  CHECK_FALSE(vote_passes(VoteRule::majority, 2, 4));
  CHECK(vote_passes(VoteRule::majority, 3, 4));
  CHECK(vote_passes(VoteRule::all, 3, 3));
  CHECK_FALSE(vote_passes(VoteRule::all, 2, 3));
  CHECK_FALSE(vote_passes(VoteRule::all, 0, 0));  // nobody voted
}

TEST_CASE("vote: scale-out takes the largest out-voter's count when its rule passes", "[vote]") {
  // Current 5: cpu wants 7, queue wants 6 (both out), db holds at 5.
  std::vector<VoterProposal> p{
      {"cpu", 7, "cpu_utilization", 0.9}, {"queue", 6, "queue_depth", 12}, {"db", 5, "", 0}};
  ServiceDecision any = tally_votes("web", 5, p, VoteRule::any, VoteRule::all);
  CHECK(any.desired == 7);
  CHECK(any.rule == "vote_out");
  CHECK(any.metric == "cpu_utilization");
  CHECK(any.metric_value == 0.9);
  CHECK(any.diagnostic_strings.at("decided_by") == "cpu");
  CHECK(any.diagnostic_strings.at("voted_out") == "cpu,queue");
  CHECK(any.diagnostic_strings.at("voted_hold") == "db");
  CHECK(any.diagnostics.at("votes_out") == 2);
  CHECK(any.diagnostics.at("votes_hold") == 1);
  CHECK(any.diagnostics.at("queue_desired") == 6);
  CHECK(tally_votes("web", 5, p, VoteRule::majority, VoteRule::all).desired == 7);  // 2 of 3
  ServiceDecision all = tally_votes("web", 5, p, VoteRule::all, VoteRule::all);     // 2 of 3: no
  CHECK(all.desired == 5);
  CHECK(all.rule == "vote_hold");
  CHECK(all.metric.empty());
}

TEST_CASE("vote: scale-in takes the least aggressive in-voter's count; ties hold", "[vote]") {
  std::vector<VoterProposal> three_in{{"a", 3, "", 0}, {"b", 4, "", 0}, {"c", 4, "", 0}};
  ServiceDecision all = tally_votes("web", 5, three_in, VoteRule::any, VoteRule::all);
  CHECK(all.desired == 4);  // max(3, 4, 4): the smallest step down any of them asked for
  CHECK(all.rule == "vote_in");
  std::vector<VoterProposal> two_of_three{{"a", 3, "", 0}, {"b", 4, "", 0}, {"c", 5, "", 0}};
  CHECK(tally_votes("web", 5, two_of_three, VoteRule::any, VoteRule::all).rule == "vote_hold");
  CHECK(tally_votes("web", 5, two_of_three, VoteRule::any, VoteRule::majority).desired == 4);
  CHECK(tally_votes("web", 5, two_of_three, VoteRule::any, VoteRule::any).desired == 4);
  std::vector<VoterProposal> tie{{"a", 3, "", 0}, {"b", 5, "", 0}};
  CHECK(tally_votes("web", 5, tie, VoteRule::any, VoteRule::majority).rule == "vote_hold");
  // One out-vote under `any` outranks an in-majority.
  std::vector<VoterProposal> split{{"a", 7, "", 0}, {"b", 3, "", 0}, {"c", 3, "", 0}};
  ServiceDecision out = tally_votes("web", 5, split, VoteRule::any, VoteRule::majority);
  CHECK(out.desired == 7);
  CHECK(out.rule == "vote_out");
  ServiceDecision in_won = tally_votes("web", 5, split, VoteRule::majority, VoteRule::majority);
  CHECK(in_won.desired == 3);
  CHECK(in_won.rule == "vote_in");
}

TEST_CASE("vote: threshold voters on CPU and queue depth, each asked at its own interval", "[vote]") {
  auto make = [](const std::string& out_rule) {
    Values v{{"scale_out", out_rule},
             {"voters", std::vector<Table>{threshold_voter("cpu", "cpu_utilization", 0.7, 0.3, 60),
                                           threshold_voter("queue", "queue_depth", 5, 1, 30, {"web"})}}};
    MapParams p(v);
    return make_controller("vote", p, ControllerContext{{"web", "db"}});
  };
  auto obs = [](double t, double web_cpu, double web_queue, double db_cpu) {
    Observation o;
    o.time_s = t;
    o.services = {service("web", 4, web_cpu, web_queue), service("db", 2, db_cpu, 0)};
    return o;
  };
  auto c = make("any");
  CHECK(c->interval_s() == 30);  // gcd(60, 30)
  // t = 30: only the queue voter is asked (every 30 s); the cpu voter has not answered yet: it abstains.
  Decision d = c->decide(obs(30, 0.9, 8, 0.9));
  REQUIRE(d.services.size() == 1);
  CHECK(d.services[0].service == "web");
  CHECK(d.services[0].desired == 5);
  CHECK(d.services[0].diagnostic_strings.at("voted_out") == "queue");
  // t = 60: CPU high on web, queue calm; db is voted on by cpu alone (the queue voter does not scale it).
  d = c->decide(obs(60, 0.9, 0, 0.2));
  REQUIRE(d.services.size() == 2);
  CHECK(d.services[0].desired == 5);
  CHECK(d.services[0].diagnostic_strings.at("voted_out") == "cpu");
  CHECK(d.services[0].diagnostic_strings.at("voted_in") == "queue");
  CHECK(d.services[1].service == "db");
  CHECK(d.services[1].desired == 1);  // all (one of one) vote in
  CHECK(d.services[1].rule == "vote_in");
  // Under `all`, the calm queue vetoes the scale-out.
  auto strict = make("all");
  strict->decide(obs(30, 0.9, 0, 0.5));
  Decision s = strict->decide(obs(60, 0.9, 0, 0.5));
  CHECK(s.services[0].desired == 4);
  CHECK(s.services[0].rule == "vote_hold");
}

TEST_CASE("vote: bad sections are refused with the key", "[vote]") {
  MapParams none(Values{});
  CHECK_THROWS_WITH(make_controller("vote", none, ControllerContext{{"web"}}), Catch::Contains("voters"));
  MapParams rule(
      Values{{"scale_in", std::string("most")},
             {"voters", std::vector<Table>{threshold_voter("cpu", "cpu_utilization", 0.7, 0.3, 60)}}});
  CHECK_THROWS_WITH(make_controller("vote", rule, ControllerContext{{"web"}}), Catch::Contains("majority"));
  MapParams twice(Values{{"voters", std::vector<Table>{threshold_voter("x", "cpu_utilization", 0.7, 0.3, 60),
                                                       threshold_voter("x", "queue_depth", 5, 1, 60)}}});
  CHECK_THROWS_WITH(make_controller("vote", twice, ControllerContext{{"web"}}), Catch::Contains("taken"));
}
