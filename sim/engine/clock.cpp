#include "sim/engine/clock.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace autoscale {

namespace {
int rank_of(EventKind k) {
  switch (k) {
    case EventKind::scrape:
    case EventKind::sample:
      return 1;
    case EventKind::control:
    case EventKind::node_control:
      return 2;
    case EventKind::record:
      return 3;
    default:
      return 0;
  }
}
}  // namespace

void Clock::push(Event e, int periodic) {
  queue_.push(Entry{e, rank_of(e.kind), seq_++, periodic});
}

void Clock::schedule(double t, EventKind kind, int instance, uint32_t epoch) {
  push(Event{t, kind, instance, epoch}, -1);
}

bool Clock::schedule_tick(int p) {
  Periodic& pe = periodic_[static_cast<size_t>(p)];
  double t = static_cast<double>(pe.k) * pe.interval_s;
  // A tick within rounding of the end is the end (0.3 x 3 is 0.8999999999999999, 0.1 x 3 is
  // 0.30000000000000004).
  const double slack = 1e-9 * std::max(1.0, std::abs(pe.end_s));
  if (t > pe.end_s + slack) {
    // The last, shorter interval ends at end_s, unless the previous tick was already there.
    if (!pe.final_at_end || pe.last_s >= pe.end_s) return false;
    t = pe.end_s;
  } else if (t >= pe.end_s - slack) {
    t = pe.end_s;
  }
  ++pe.k;
  pe.last_s = t;
  push(Event{t, pe.kind, -1, 0}, p);
  return true;
}

void Clock::every(double interval_s, EventKind kind, double end_s, bool final_at_end) {
  periodic_.push_back({kind, interval_s, end_s, final_at_end, 1, 0.0});
  int p = static_cast<int>(periodic_.size()) - 1;
  (void)schedule_tick(p);
}

Event Clock::pop() {
  Entry e = queue_.top();
  queue_.pop();
  if (e.periodic >= 0) (void)schedule_tick(e.periodic);
  return e.event;
}

}  // namespace autoscale
