#pragma once
// The simulation's own clock: a queue of timed events and the periodic ticks (scrape, control, record).
// Engine-free: SimGrid is advanced to the date of the next event by the caller.
//
// Order of events at the same date: first everything that changes the system (arrivals and lifecycle phase
// ends, in the order they were scheduled), then the scrape and the 1-second sample, then the control tick
// (which therefore sees a scrape taken at its own date when lag_s = 0), then the record. Periodic events fall
// at k x interval exactly, so they never drift.
#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

namespace autoscale {

enum class EventKind : uint8_t {
  phase_end,      // an instance's lifecycle phase ends (instance, epoch)
  init_timer,     // an instance's init wall time is over (instance, epoch)
  drain_timeout,  // a draining instance's time is up (instance, epoch)
  scrape,
  sample,  // 1-second sample of service-wide metrics, for controllers that average their own windows
  control,
  record,
  node_ready,    // a node has started (instance: node id)
  spot_notice,   // a spot node's interruption notice (instance: node id)
  spot_reclaim,  // a spot node is taken back (instance: node id)
  node_control,  // the node autoscaler's tick (after the pod controller's at the same date)
};

struct Event {
  double time_s = 0;
  EventKind kind = EventKind::phase_end;
  int instance = -1;
  uint32_t epoch = 0;
};

class Clock {
 public:
  static constexpr double never = std::numeric_limits<double>::infinity();

  // A one-off event.
  void schedule(double t, EventKind kind, int instance = -1, uint32_t epoch = 0);
  // A periodic event at k x interval_s for k = 1, 2, ... while <= end_s; with `final_at_end`, one more at
  // end_s when end_s is not a multiple of the interval (the record's last, shorter interval).
  void every(double interval_s, EventKind kind, double end_s, bool final_at_end = false);
  double next_time() const { return queue_.empty() ? never : queue_.top().event.time_s; }
  bool empty() const { return queue_.empty(); }
  // Removes and returns the next event (and schedules the next tick of a periodic one).
  Event pop();

 private:
  struct Periodic {
    EventKind kind;
    double interval_s;
    double end_s;
    bool final_at_end;
    long k;         // the next tick's index
    double last_s;  // the previous tick's time
  };
  struct Entry {
    Event event;
    int rank;      // same-date order: 0 for system events, then scrape, control, record
    uint64_t seq;  // then scheduling order
    int periodic;  // index into periodic_, or -1
    bool operator>(const Entry& o) const {
      if (event.time_s != o.event.time_s) return event.time_s > o.event.time_s;
      if (rank != o.rank) return rank > o.rank;
      return seq > o.seq;
    }
  };
  void push(Event e, int periodic);
  bool schedule_tick(int periodic);
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> queue_;
  std::vector<Periodic> periodic_;
  uint64_t seq_ = 0;
};

}  // namespace autoscale
