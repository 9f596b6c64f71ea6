#pragma once
// KEDA's scalers (kedacore/keda pkg/scalers) as a ScaledObject's triggers: what each puts into the HPA KEDA
// generates (an External metric with KEDA's name and target, or for `cpu` a Resource metric) and what one
// read of it gives (the metric value, and whether it is active). The metric sources are the observation: a
// Prometheus-like query names an observation metric, a queue is the service's own queues.
#include <optional>
#include <string>
#include <vector>

#include "controllers/observation.hpp"
#include "controllers/wrappers/schedule_time.hpp"

namespace autoscale::keda {

// A trigger's metric target in the generated HPA (the trigger's `metricType`).
enum class TargetType { average_value, value, utilization };

struct Trigger {
  enum class Kind { cpu, prometheus, cron, queue };
  Kind kind = Kind::prometheus;
  std::string type;         // as written: cpu, prometheus, cron, rabbitmq, queue
  std::string name;         // the trigger's `name` ("" when unnamed)
  std::string metric_name;  // the External metric KEDA names ("s0-prometheus"); "" for cpu
  TargetType target = TargetType::average_value;
  std::string target_quantity;  // the target as KEDA writes it into the HPA ("2.500", "1", "60")
  double target_value = 0;      // the same as a number (fallback values are multiples of it)
  bool use_cached_metrics = false;

  // prometheus: the query names a metric of the service's observation
  std::string query;
  double activation_threshold = 0;
  bool ignore_null_values = true;

  // cron: active from `start` until `end`, in the zone `offset_s` east of UTC; `epoch_s` is simulated t = 0
  std::optional<wrappers::Cron> start, end;
  long offset_s = 0;
  double epoch_s = 0;
  long desired_replicas = 0;

  // queue (rabbitmq): messages waiting, plus those being processed unless excludeUnacknowledged
  double activation_value = 0;
  bool exclude_unacknowledged = false;
};

// One read of a trigger's metric source: a value (base units, rounded to thousandths as KEDA reports it) or
// an error; `fallback`: the value is fallback.replicas' worth, not a reading.
struct Read {
  std::optional<double> value;
  bool active = false;
  bool fallback = false;
  std::string error;  // non-empty: the read failed
};

// Reads an External trigger (not `cpu`) at `now_s`.
Read read_trigger(const Trigger& t, const ServiceObservation& s, double now_s);

// KEDA's GenerateMetricInMili: a value as a quantity of thousandths ("%.3f"); negative and NaN become 0.
double metric_in_milli(double value);

}  // namespace autoscale::keda
