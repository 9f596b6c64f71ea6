#include "sim/engine/clock.hpp"

#include <cstddef>

namespace autoscale {

namespace {
int rank_of(EventKind k) {
  switch (k) {
    case EventKind::scrape:
      return 1;
    case EventKind::control:
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
  if (t > pe.end_s) {
    // The last, shorter interval ends at end_s, unless the previous tick was already there.
    double prev = static_cast<double>(pe.k - 1) * pe.interval_s;
    if (!pe.final_at_end || prev >= pe.end_s) return false;
    t = pe.end_s;
  }
  ++pe.k;
  push(Event{t, pe.kind, -1, 0}, p);
  return true;
}

void Clock::every(double interval_s, EventKind kind, double end_s, bool final_at_end) {
  periodic_.push_back({kind, interval_s, end_s, final_at_end, 1});
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
