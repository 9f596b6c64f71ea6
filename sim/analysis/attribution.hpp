#pragma once
// Failure attribution: every SLA-violation episode of a run (a maximal run of record intervals in which more
// than `threshold` of the end-user requests that arrived violated the SLA) is given one cause, with its
// window. Pure: it reads a RunResult (time series, decisions table, the per-interval SLA counts) and nothing
// else.
//
// The service held responsible is the one most short of capacity during the episode: the largest peak of
// (needed - ready) / needed over the episode's intervals (ties: the larger peak of needed - ready, then the
// lower index). When no service is short, a database with requests waiting for a connection (queue_depth > 0:
// every connection in use) is; when none is, no service is. The cause, in precedence order (the first that
// fits; episode_causes() lists them in this order):
//   pending_nodes         the responsible service had instances pending (no host or node with room) during
//                         the episode;
//   bottleneck_elsewhere  the responsible service is not one the controller scales (no row of its own in the
//                         decisions table), or its need exceeded its max_instances (no count the controller
//                         may ask for would do), or it is a database found by its waiting queries (no service
//                         short of CPU);
//   overshoot_flapping    the controller removed capacity it then needed: a decision lowering the responsible
//                         service's desired count from a count >= its peak need in the episode, taken within
//                         `lookback_s` before the episode or during it;
//   startup_lag           capacity was asked for but not ready yet: over the intervals in which the service
//   was
//                         short (ready < needed), those with desired >= needed last at least as long as those
//                         with desired < needed;
//   under_forecast        never asked: those with desired < needed last longer;
//   unexplained           no service short of capacity (e.g. the work's own tail, or Poisson bursts within an
//                         interval with ready >= needed).
#include <string>
#include <vector>

#include "sim/core/metrics.hpp"

namespace autoscale {

struct AttributionService {
  int max_instances = 1 << 30;
  bool database = false;  // a connection-limited service: waiting queries mean every connection is in use
};

struct AttributionConfig {
  double threshold = 0.05;  // 1: an interval violates when its violation fraction exceeds this
  double lookback_s = 300;  // s: how long before an episode a scale-in still counts as overshoot
  std::vector<AttributionService> services;  // per service in index order; missing ones take the defaults
};

// Per record interval: violating / arrived end-user requests (0 when none arrived). Empty when the run has no
// SLA counts; throws std::invalid_argument when they do not have one value per record interval.
std::vector<double> sla_violation_fractions(const RunResult& r);

// The episodes of `r` and their causes, in time order (EpisodeRow in sim/core/metrics.hpp). Throws
// std::invalid_argument when a series does not have one value per record interval.
std::vector<EpisodeRow> attribute_episodes(const RunResult& r, const AttributionConfig& cfg);

}  // namespace autoscale
