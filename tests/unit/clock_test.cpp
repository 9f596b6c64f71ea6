// The engine's clock without any engine: same-date order, periodic ticks at k x interval, the final record.
#include <catch2/catch.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/engine/clock.hpp"

using namespace autoscale;

namespace {
std::vector<Event> drain(Clock& c) {
  std::vector<Event> out;
  while (!c.empty()) out.push_back(c.pop());
  return out;
}
std::string name(EventKind k) {
  switch (k) {
    case EventKind::phase_end:
      return "phase_end";
    case EventKind::init_timer:
      return "init_timer";
    case EventKind::drain_timeout:
      return "drain_timeout";
    case EventKind::scrape:
      return "scrape";
    case EventKind::sample:
      return "sample";
    case EventKind::control:
      return "control";
    case EventKind::record:
      return "record";
    case EventKind::node_ready:
      return "node_ready";
    case EventKind::spot_notice:
      return "spot_notice";
    case EventKind::spot_reclaim:
      return "spot_reclaim";
    case EventKind::node_control:
      return "node_control";
  }
  return "?";
}
std::vector<double> times(const std::vector<Event>& v) {
  std::vector<double> out;
  for (const Event& e : v) out.push_back(e.time_s);
  return out;
}
}  // namespace

TEST_CASE("clock: same date orders system events, then scrape and sample, control, record", "[clock]") {
  Clock c;
  // Scheduled in the worst order: the periodic ticks first (record, control, sample, scrape), the system
  // events last, and a system event of an earlier date after them all.
  c.every(10, EventKind::record, 10);
  c.every(10, EventKind::control, 10);
  c.every(10, EventKind::sample, 10);
  c.every(10, EventKind::scrape, 10);
  c.schedule(10, EventKind::drain_timeout, 3, 1);
  c.schedule(10, EventKind::phase_end, 7, 2);
  c.schedule(10, EventKind::init_timer, 5, 3);
  c.schedule(4, EventKind::phase_end, 9, 4);
  std::vector<Event> ev = drain(c);
  // Expected: t = 4 first; then at t = 10 the three system events in scheduling order (instances 3, 7, 5),
  // then the sample and the scrape (same rank: in scheduling order), control, record.
  std::vector<std::string> got;
  for (const Event& e : ev) got.push_back(name(e.kind) + " " + std::to_string(e.instance));
  std::vector<std::string> expected = {"phase_end 9", "drain_timeout 3", "phase_end 7", "init_timer 5",
                                       "sample -1",   "scrape -1",       "control -1",  "record -1"};
  CHECK(got == expected);
  CHECK(times(ev) == std::vector<double>{4, 10, 10, 10, 10, 10, 10, 10});
  // Epochs travel with their events.
  CHECK(ev[1].epoch == 1);
  CHECK(ev[2].epoch == 2);
  CHECK(ev[3].epoch == 3);
}

TEST_CASE("clock: periodic events of different intervals meet in rank order", "[clock]") {
  Clock c;
  // Control every 5 s registered before scrape every 10 s: at 10 and 20 the scrape still comes first.
  c.every(5, EventKind::control, 20);
  c.every(10, EventKind::scrape, 20);
  std::vector<Event> ev = drain(c);
  // Expected: control 5, scrape 10, control 10, control 15, scrape 20, control 20.
  std::vector<std::string> got;
  for (const Event& e : ev) got.push_back(std::to_string(static_cast<int>(e.time_s)) + " " + name(e.kind));
  std::vector<std::string> expected = {"5 control",  "10 scrape", "10 control",
                                       "15 control", "20 scrape", "20 control"};
  CHECK(got == expected);
}

TEST_CASE("clock: a system event scheduled while a tick is due still comes before it", "[clock]") {
  Clock c;
  c.every(1, EventKind::control, 3);
  REQUIRE(c.next_time() == 1);
  CHECK(c.pop().time_s == 1);  // the tick at 2 is now queued
  c.schedule(2, EventKind::phase_end, 4, 0);
  REQUIRE(c.next_time() == 2);
  Event a = c.pop();
  REQUIRE_FALSE(c.empty());
  Event b = c.pop();
  CHECK(a.kind == EventKind::phase_end);
  CHECK(a.time_s == 2);
  CHECK(b.kind == EventKind::control);
  CHECK(b.time_s == 2);
}

TEST_CASE("clock: periodic ticks fall at k x interval, without drift", "[clock]") {
  Clock c;
  c.every(0.1, EventKind::scrape, 100);
  std::vector<double> t = times(drain(c));
  // 0.1 x 1000 = 100 (the product rounds to exactly 100.0); the 1001st would be at 100.1 > 100.
  REQUIRE(t.size() == 1000);
  double sum = 0;
  bool sum_drifts = false;
  for (size_t k = 1; k <= t.size(); ++k) {
    CHECK(t[k - 1] == static_cast<double>(k) * 0.1);
    sum += 0.1;
    sum_drifts = sum_drifts || sum != static_cast<double>(k) * 0.1;
  }
  CHECK(t.back() == 100.0);
  CHECK(sum_drifts);    // a running sum would not have landed on the products
  CHECK(sum != 100.0);  // 0.1 added 1000 times is 99.9999999999986
  CHECK(c.next_time() == Clock::never);
}

TEST_CASE("clock: final_at_end adds one last tick at the end only when it is not a multiple", "[clock]") {
  SECTION("end 25, interval 10: 10, 20 and the shorter last interval's 25") {
    Clock c;
    c.every(10, EventKind::record, 25, true);
    CHECK(times(drain(c)) == std::vector<double>{10, 20, 25});
  }
  SECTION("end 30, interval 10: 10, 20, 30 and nothing more") {
    Clock c;
    c.every(10, EventKind::record, 30, true);
    CHECK(times(drain(c)) == std::vector<double>{10, 20, 30});
  }
  SECTION("without final_at_end, end 25: only the multiples 10, 20") {
    Clock c;
    c.every(10, EventKind::scrape, 25);
    CHECK(times(drain(c)) == std::vector<double>{10, 20});
  }
  SECTION("end shorter than the interval: the single tick is the end") {
    Clock c;
    c.every(60, EventKind::record, 45, true);
    CHECK(times(drain(c)) == std::vector<double>{45});
  }
}

TEST_CASE("clock: an end that is a multiple of the interval only up to rounding", "[clock]") {
  SECTION("record every 0.3 s over 0.9 s: three intervals, no sliver") {
    // 3 x 0.3 = 0.8999999999999999 in floating point, just short of 0.9: the third tick is the end; a fourth
    // at 0.9 would record an interval of 1e-16 s.
    Clock c;
    c.every(0.3, EventKind::record, 0.9, true);
    std::vector<double> t = times(drain(c));
    CHECK(t.size() == 3);
    CHECK(t.back() == Approx(0.9).margin(1e-12));
  }
  SECTION("control every 0.1 s over 0.3 s: three ticks, the last one not lost") {
    // 3 x 0.1 = 0.30000000000000004, just past 0.3; still the third tick of a 0.3 s run.
    Clock c;
    c.every(0.1, EventKind::control, 0.3);
    std::vector<double> t = times(drain(c));
    CHECK(t.size() == 3);
    CHECK(t.back() == Approx(0.3).margin(1e-12));
  }
}
