#include "controllers/keda/scalers.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace autoscale::keda {

double metric_in_milli(double value) {
  if (!std::isfinite(value) || value < 0) return 0;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", value);
  return std::strtod(buf, nullptr);
}

namespace {

// prometheus_scaler.go: the query's value; active above activationThreshold. An absent metric is a failed
// fetch; before the first sample the server has no series, an empty result (0 with ignoreNullValues).
Read prometheus(const Trigger& t, const ServiceObservation& s) {
  double v = 0;
  auto it = s.named_metrics.find(t.query);
  if (it != s.named_metrics.end()) {
    v = it->second;
  } else if (s.metrics_valid) {
    return Read{std::nullopt, false, false, "query \"" + t.query + "\": the metric could not be fetched"};
  } else if (!t.ignore_null_values) {
    return Read{std::nullopt, false, false,
                "query \"" + t.query + "\": empty result (ignoreNullValues false)"};
  }
  return Read{metric_in_milli(v), v > t.activation_threshold, false, ""};
}

// cron_scaler.go: with the next start and the next end strictly after now (robfig/cron's Next), the window
// is open when the end comes first; a schedule that never matches stands for Go's zero time.
Read cron(const Trigger& t, double now_s) {
  const double wall = t.epoch_s + now_s;
  const double after = std::floor(wall) + 1;
  constexpr double kZeroTime = -std::numeric_limits<double>::infinity();
  auto next_start = t.start->next_at_or_after(after, t.offset_s);
  auto next_end = t.end->next_at_or_after(after, t.offset_s);
  const double start = next_start ? *next_start : kZeroTime;
  const double end = next_end ? *next_end : kZeroTime;
  const bool within = start < end ? wall > start && wall < end : wall > start || wall < end;
  return Read{within ? static_cast<double>(t.desired_replicas) : 0.0, within, false, ""};
}

// rabbitmq_scaler.go, mode QueueLength: the messages in the queue (ready and, unless excludeUnacknowledged,
// unacknowledged ones). The service's queue: requests waiting at its ready instances and at the activator,
// and those in service.
Read queue(const Trigger& t, const ServiceObservation& s) {
  const double ready = s.ready();
  double messages = s.queue_depth * ready + s.activator_queue;
  if (!t.exclude_unacknowledged) messages += s.concurrency * ready;
  return Read{metric_in_milli(messages), messages > t.activation_value, false, ""};
}

}  // namespace

Read read_trigger(const Trigger& t, const ServiceObservation& s, double now_s) {
  switch (t.kind) {
    case Trigger::Kind::prometheus:
      return prometheus(t, s);
    case Trigger::Kind::cron:
      return cron(t, now_s);
    case Trigger::Kind::queue:
      return queue(t, s);
    case Trigger::Kind::cpu:
      break;
  }
  return Read{std::nullopt, false, false, "a cpu trigger has no External metric"};
}

}  // namespace autoscale::keda
