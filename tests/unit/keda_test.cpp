// The `keda` controller on hand-made observations, worked through by hand: KEDA's scale loop (kedacore/keda
// pkg/scaling/scale_handler.go, executor/scale_scaledobjects.go, pkg/fallback) polling every pollingInterval,
// and the HPA it generates (controllers/keda/hpa.go) syncing every 15 s with upstream's arithmetic. Each case
// feeds the controller's answer back as the next observation's current count, as the cluster would.
#include <catch2/catch.hpp>

#include "controllers/base/error.hpp"
#include "controllers/map_params.hpp"
#include "controllers/registry.hpp"

using namespace autoscale;

namespace {

using V = MapParams::Value;
using Map = std::map<std::string, V>;
MapParams::Table table(Map m) {
  return std::make_shared<MapParams>(std::move(m));
}
V s(const char* v) {
  return std::string(v);
}
V list(std::vector<MapParams::Table> v) {
  return v;
}

MapParams::Table prometheus(const char* query, const char* threshold, const char* activation = "0") {
  return table({{"type", s("prometheus")},
                {"metadata", table({{"serverAddress", s("http://prometheus:9090")},
                                    {"query", s(query)},
                                    {"threshold", s(threshold)},
                                    {"activationThreshold", s(activation)}})}});
}

std::unique_ptr<Controller> make_keda(Map m) {
  MapParams p(std::move(m));
  return make_controller("keda", p, ControllerContext{{"web"}});
}

// The service at `current` replicas (all ready, none with a CPU sample), with service metrics by name.
Observation observe(double t, int current, std::map<std::string, double> named = {}) {
  Observation o;
  o.time_s = t;
  ServiceObservation svc;
  svc.name = "web";
  svc.desired = current;
  svc.in_service = current;
  svc.metrics_valid = true;
  svc.named_metrics = std::move(named);
  for (int i = 0; i < current; ++i) {
    InstanceObservation p;
    p.id = i;
    p.name = "web-" + std::to_string(i);
    p.ready = true;
    svc.instances.push_back(p);
  }
  o.services.push_back(std::move(svc));
  return o;
}

ServiceDecision only(const Decision& d) {
  REQUIRE(d.services.size() == 1);
  return d.services.front();
}

std::string error_of(Map m) {
  try {
    make_keda(std::move(m));
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("keda: activation 0 -> 1 waits for a poll with a trigger above its activation threshold",
          "[controller][keda]") {
  auto c = make_keda({{"triggers", list({prometheus("qps", "10", "5")})}});
  CHECK(c->interval_s() == 15);  // gcd(HPA sync 15 s, pollingInterval 30 s)
  CHECK(c->scale_to_zero_services() == std::vector<std::string>{"web"});  // minReplicaCount 0
  // t = 15, a poll: 3 rps is not above activationThreshold 5, nothing is active; the HPA leaves a target at 0
  // alone (minReplicas 1: upstream's ScalingDisabled).
  auto d = only(c->decide(observe(15, 0, {{"qps", 3}})));
  CHECK(d.desired == 0);
  CHECK(d.rule == "scaling_disabled");
  CHECK_FALSE(d.diagnostic_flags.at("keda_active"));
  // t = 30: the HPA's sync alone; 8 rps is active, but only KEDA's next poll (t = 45) can see it.
  CHECK(only(c->decide(observe(30, 0, {{"qps", 8}}))).desired == 0);
  // t = 45, a poll: 8 > 5, active: KEDA scales to max(minReplicaCount, 1) = 1; the HPA then reads 8 against
  // AverageValue 10 on 1 replica: ratio 0.8, ceil(8 / 10) = 1.
  d = only(c->decide(observe(45, 0, {{"qps", 8}})));
  CHECK(d.desired == 1);
  CHECK(d.rule == "activation");
  CHECK(d.diagnostics.at("raw_recommendation") == 1);
  CHECK(d.diagnostic_strings.at("active_triggers") == "s0-prometheus");
  CHECK(d.diagnostics.at("last_active_s") == 45);
}

TEST_CASE("keda: with two triggers the HPA takes the larger proposal", "[controller][keda]") {
  auto queue = table({{"type", s("rabbitmq")},
                      {"metadata", table({{"host", s("amqp://rabbitmq")},
                                          {"queueName", s("jobs")},
                                          {"mode", s("QueueLength")},
                                          {"value", s("5")}})}});
  Map m = {{"minReplicaCount", 1L}, {"triggers", list({prometheus("qps", "10"), queue})}};
  auto c = make_keda(m);
  // 4 replicas. qps 30 against 10 per replica: ceil(30 / 10) = 3. The queue: 8 waiting per ready pod x 4 +
  // 1.5 in service per pod x 4 (unacknowledged) = 38 messages against 5 per replica: ceil(7.6) = 8. The max,
  // 8, is within the legacy scale-up limit max(2 x 4, 4) = 8.
  Observation o = observe(15, 4, {{"qps", 30}});
  o.services[0].queue_depth = 8;
  o.services[0].concurrency = 1.5;
  auto d = only(c->decide(o));
  CHECK(d.desired == 8);
  CHECK(d.metric == "external metric s1-rabbitmq-jobs");
  CHECK(d.diagnostics.at("raw_recommendation") == 8);
  CHECK(d.diagnostics.at("s0-prometheus") == 30);
  CHECK(d.diagnostics.at("s1-rabbitmq-jobs") == 38);
  // The other way round: qps 70 -> 7; the queue 1 x 4 = 4 messages -> 1. The max is 7.
  auto c2 = make_keda(m);
  o = observe(15, 4, {{"qps", 70}});
  o.services[0].queue_depth = 1;
  d = only(c2->decide(o));
  CHECK(d.desired == 7);
  CHECK(d.metric == "external metric s0-prometheus");
}

TEST_CASE("keda: to zero exactly cooldownPeriod after the last active poll", "[controller][keda]") {
  auto c = make_keda({{"cooldownPeriod", 120L}, {"triggers", list({prometheus("qps", "10")})}});
  // Polls at 15, 45, 75, ... (every 30 s from the first), HPA syncs every 15 s. qps 5 until t = 60, then 0.
  // Polls at 15 and 45 see 5 > 0: active, the last at 45. From the poll at 75 nothing is active; the target
  // goes to minReplicaCount 0 at the first poll with 45 + 120 <= now: t = 165. The HPA meanwhile proposes
  // ceil(5 / 10) = 1, then 0 -> its minReplicas 1.
  int current = 1;
  std::map<double, int> seen;
  for (double t = 15; t <= 195; t += 15) {
    auto d = only(c->decide(observe(t, current, {{"qps", t <= 60 ? 5.0 : 0.0}})));
    current = d.desired;
    seen[t] = current;
    if (t == 75) CHECK(d.diagnostics.at("cooldown_remaining_s") == 90);  // 45 + 120 - 75
    if (t == 165) CHECK(d.rule == "keda_cooldown");
  }
  CHECK(seen[150] == 1);
  CHECK(seen[165] == 0);
  CHECK(seen[195] == 0);
}

TEST_CASE("keda: fallback replicas after failureThreshold failed reads", "[controller][keda]") {
  auto c = make_keda({{"minReplicaCount", 1L},
                      {"fallback", table({{"failureThreshold", 3L}, {"replicas", 6L}})},
                      {"triggers", list({prometheus("qps", "10")})}});
  // The metric is absent from every observation: each read fails, KEDA's polls (15, 45) and the HPA's reads
  // at each sync (15, 30, 45) alike. Reads 1 to 3 (t = 15 poll and sync, t = 30) fail: no metric, the HPA
  // keeps 3.
  auto d = only(c->decide(observe(15, 3)));
  CHECK(d.desired == 3);
  CHECK(d.rule == "invalid_metrics");
  d = only(c->decide(observe(30, 3)));
  CHECK(d.desired == 3);
  CHECK(d.diagnostics.at("s0-prometheus_failures") == 3);
  // t = 45: read 4 (the poll) is past failureThreshold 3: the metric reads 10 x 6 = 60 and is active; so does
  // read 5 (the HPA's): 60 over 3 replicas against 10 per replica -> ceil(60 / 10) = 6 = fallback.replicas
  // (within the legacy limit max(2 x 3, 4) = 6).
  d = only(c->decide(observe(45, 3)));
  CHECK(d.desired == 6);
  CHECK(d.rule == "fallback");
  CHECK(d.diagnostic_strings.at("hpa_rule") == "above_target");
  CHECK(d.diagnostic_flags.at("fallback"));
  CHECK(d.diagnostics.at("s0-prometheus") == 60);
  CHECK(d.diagnostics.at("s0-prometheus_failures") == 5);
  // t = 60: the metric is back (20): its failures reset; ceil(20 / 10) = 2, held at 6 by the HPA's 300 s
  // downscale stabilization.
  d = only(c->decide(observe(60, 6, {{"qps", 20}})));
  CHECK(d.desired == 6);
  CHECK(d.rule == "stabilization_window");
  CHECK_FALSE(d.diagnostic_flags.at("fallback"));
  CHECK(d.diagnostics.at("s0-prometheus_failures") == 0);
}

TEST_CASE("keda: a cron trigger's window, and the cooldown to zero past the HPA's stabilization",
          "[controller][keda]") {
  auto cron = table({{"type", s("cron")},
                     {"metadata", table({{"timezone", s("UTC")},
                                         {"start", s("0 8 * * *")},
                                         {"end", s("0 9 * * *")},
                                         {"desiredReplicas", s("5")}})}});
  auto up =
      table({{"policies", list({table({{"type", s("Pods")}, {"value", 10L}, {"periodSeconds", 15L}})})}});
  auto c = make_keda({{"startTime", s("2024-03-01T07:58:00Z")},  // t = 120 is 08:00:00
                      {"cooldownPeriod", 60L},
                      {"advanced", table({{"horizontalPodAutoscalerConfig",
                                           table({{"behavior", table({{"scaleUp", up}})}})}})},
                      {"triggers", list({cron})}});
  // t = 60 and 90 (07:59, 07:59:30): the next start (08:00) comes before the next end (09:00): closed.
  CHECK(only(c->decide(observe(60, 0))).desired == 0);
  CHECK(only(c->decide(observe(90, 0))).desired == 0);
  // t = 120 (08:00:00): the next start is tomorrow's, the next end today's 09:00: open. KEDA activates 0 ->
  // 1; the HPA reads 5 against AverageValue 1 -> 5 (behavior allows +10 pods per 15 s).
  auto d = only(c->decide(observe(120, 0)));
  CHECK(d.desired == 5);
  CHECK(d.rule == "activation");
  CHECK(d.diagnostic_strings.at("active_triggers") == "s0-cron-UTC-08xxx-09xxx");
  // 08:59:30 (t = 3690): still open, the last active poll.
  CHECK(only(c->decide(observe(3690, 5))).desired == 5);
  // 09:00:00 (t = 3720): closed, the metric is 0; the HPA's scaleDown window (300 s) holds 5.
  d = only(c->decide(observe(3720, 5)));
  CHECK(d.desired == 5);
  CHECK(d.rule == "stabilization_window");
  CHECK_FALSE(d.diagnostic_flags.at("keda_active"));
  // t = 3750 = 3690 + cooldownPeriod 60: KEDA sets 0, whatever the HPA's window still holds.
  d = only(c->decide(observe(3750, 5)));
  CHECK(d.desired == 0);
  CHECK(d.rule == "keda_cooldown");
}

TEST_CASE("keda: KEDA's cooldown and the HPA's 300 s stabilization after a burst", "[controller][keda]") {
  // The frequent surprise: after a burst the count stays at the HPA's highest recommendation for 300 s (its
  // downscale stabilization), drops to 1 (the HPA's minReplicas), and reaches 0 only cooldownPeriod (300 s)
  // after the last poll that saw a trigger active, a trickle above activationThreshold included.
  auto c = make_keda({{"triggers", list({prometheus("qps", "10", "1")})}});
  // qps 40 until t = 60, a trickle of 2 (above activationThreshold 1) until t = 200, then 0.
  // t = 15, a poll: active -> 1; the HPA reads 40 on 1 replica: ceil(40 / 10) = 4 (legacy limit max(2, 4)).
  // Syncs at 15 .. 60 recommend 4; from 75 the trickle gives ceil(2 / 10) = 1, from 210 0. The legacy window
  // keeps the highest recommendation of the last 300 s: 4 through t = 360 (60 + 300), then 1 from t = 375.
  // The last active poll is at 195 (polls every 30 s from 15); zero comes at the poll at 195 + 300 = 495.
  int current = 0;
  std::map<double, ServiceDecision> seen;
  for (double t = 15; t <= 600; t += 15) {
    const double qps = t <= 60 ? 40 : t <= 200 ? 2 : 0;
    auto d = only(c->decide(observe(t, current, {{"qps", qps}})));
    current = d.desired;
    seen[t] = d;
  }
  CHECK(seen[15].desired == 4);
  CHECK(seen[15].rule == "activation");
  for (double t = 15; t <= 360; t += 15) CHECK(seen[t].desired == 4);
  CHECK(seen[75].rule == "stabilization_window");
  CHECK(seen[75].diagnostics.at("raw_recommendation") == 1);
  CHECK(seen[195].diagnostics.at("last_active_s") == 195);
  CHECK(seen[225].diagnostic_flags.at("keda_active") == false);
  for (double t = 375; t <= 480; t += 15) CHECK(seen[t].desired == 1);
  CHECK(seen[480].diagnostics.at("cooldown_remaining_s") == 15);  // 195 + 300 - 480
  CHECK(seen[495].desired == 0);
  CHECK(seen[495].rule == "keda_cooldown");
  for (double t = 495; t <= 600; t += 15) CHECK(seen[t].desired == 0);
}

TEST_CASE(
    "keda: the HPA reads the trigger afresh at each sync, or the last poll's value with useCachedMetrics",
    "[controller][keda]") {
  auto cached = prometheus("qps", "10");
  Map m = {{"minReplicaCount", 1L}};
  m["triggers"] = list({cached});
  auto fresh = make_keda(m);
  cached = prometheus("qps", "10");
  auto with_cache = table({{"type", s("prometheus")},
                           {"useCachedMetrics", true},
                           {"metadata", table({
                                            {"query", s("qps")},
                                            {"threshold", s("10")},
                                        })}});
  m["triggers"] = list({with_cache});
  auto cache = make_keda(m);
  // t = 15, a poll and a sync: 30 over 3 replicas, ratio 1: 3. t = 30, a sync alone: 90 now. Fresh: ceil(90 /
  // 10) = 9, limited to max(2 x 3, 4) = 6. Cached: the poll's 30 again, 3.
  CHECK(only(fresh->decide(observe(15, 3, {{"qps", 30}}))).desired == 3);
  CHECK(only(cache->decide(observe(15, 3, {{"qps", 30}}))).desired == 3);
  CHECK(only(fresh->decide(observe(30, 3, {{"qps", 90}}))).desired == 6);
  CHECK(only(cache->decide(observe(30, 3, {{"qps", 90}}))).desired == 3);
  // t = 45, the next poll: the cache holds 90 now.
  CHECK(only(cache->decide(observe(45, 3, {{"qps", 90}}))).desired == 6);
}

TEST_CASE("keda: cpu triggers, the common tick and idleReplicaCount", "[controller][keda]") {
  auto cpu = table(
      {{"type", s("cpu")}, {"metricType", s("Utilization")}, {"metadata", table({{"value", s("50")}})}});
  auto c = make_keda({{"pollingInterval", 20L}, {"minReplicaCount", 2L}, {"triggers", list({cpu})}});
  CHECK(c->interval_s() == 5);  // gcd(15, 20)
  CHECK(c->scale_to_zero_services().empty());
  // Two pods at 90 % of a 1-core request against 50 %: ceil(2 x 1.8) = 4. Only cpu triggers: always active.
  Observation o = observe(20, 2);
  for (auto& p : o.services[0].instances) {
    p.start_time_s = p.ready_time_s = -1000;  // long past the CPU initialization period
    p.has_metrics = true;
    p.cpu_usage_cores = 0.9;
    p.cpu_request_cores = 1;
    p.metrics_timestamp_s = 20;
    p.metrics_window_s = 60;
  }
  auto d = only(c->decide(o));
  CHECK(d.desired == 4);
  CHECK(d.metric == "cpu resource utilization (percentage of request)");
  CHECK(d.diagnostic_flags.at("keda_active"));
  // t = 25: neither loop is due (the poll at 40, the sync at 35): no decision.
  CHECK(c->decide(observe(25, 4)).services.empty());

  // idleReplicaCount 0 below minReplicaCount 2: inactive -> 0 after the cooldown; active -> minReplicaCount.
  auto idle = make_keda({{"idleReplicaCount", 0L},
                         {"minReplicaCount", 2L},
                         {"cooldownPeriod", 0L},
                         {"triggers", list({prometheus("qps", "10")})}});
  CHECK(idle->scale_to_zero_services() == std::vector<std::string>{"web"});
  auto e =
      only(idle->decide(observe(15, 2, {{"qps", 0}})));  // never active: the initial cooldown (0) is over
  CHECK(e.desired == 0);
  CHECK(e.rule == "keda_cooldown");
  e = only(idle->decide(observe(45, 0, {{"qps", 15}})));
  CHECK(e.desired == 2);  // activation to minReplicaCount, then the HPA: ceil(15 / 10) = 2
  CHECK(e.rule == "activation");
}

TEST_CASE("keda: settings KEDA's validation refuses are bad input", "[controller][keda]") {
  auto cpu = table(
      {{"type", s("cpu")}, {"metricType", s("Utilization")}, {"metadata", table({{"value", s("50")}})}});
  CHECK_THAT(error_of({{"triggers", list({cpu})}}), Catch::Contains("only cpu triggers"));
  CHECK_THAT(error_of({{"triggers", list({})}}), Catch::Contains("at least one"));
  CHECK_THAT(error_of({{"triggers", list({table({{"type", s("promethus")}, {"metadata", table({})}})})}}),
             Catch::Contains("did you mean \"prometheus\""));
  CHECK_THAT(error_of({{"triggers", list({prometheus("sum(rate(http_requests_total[1m]))", "10")})}}),
             Catch::Contains("PromQL is not evaluated"));
  CHECK_THAT(error_of({{"triggers", list({prometheus("qps", "0")})}}), Catch::Contains("threshold"));
  auto paris = table({{"type", s("cron")},
                      {"metadata", table({{"timezone", s("Europe/Paris")},
                                          {"start", s("0 8 * * *")},
                                          {"end", s("0 9 * * *")},
                                          {"desiredReplicas", s("3")}})}});
  CHECK_THAT(error_of({{"triggers", list({paris})}}), Catch::Contains("daylight saving"));
  auto number =
      table({{"type", s("prometheus")}, {"metadata", table({{"query", s("qps")}, {"threshold", 10L}})}});
  CHECK_THAT(error_of({{"triggers", list({number})}}), Catch::Contains("map of strings"));
  CHECK_THAT(
      error_of(
          {{"minReplicaCount", 1L}, {"idleReplicaCount", 1L}, {"triggers", list({prometheus("q", "1")})}}),
      Catch::Contains("less than minReplicaCount"));
  CHECK_THAT(
      error_of(
          {{"minReplicaCount", 5L}, {"maxReplicaCount", 4L}, {"triggers", list({prometheus("q", "1")})}}),
      Catch::Contains("at most maxReplicaCount"));
  auto cached_cron = table({{"type", s("cron")}, {"useCachedMetrics", true}, {"metadata", table({})}});
  CHECK_THAT(error_of({{"triggers", list({cached_cron})}}), Catch::Contains("useCachedMetrics"));
}
