#pragma once
// Runs built in code rather than read from a file: the benchmark's standard queue and the queueing tests'
// set-ups.
#include "sim/core/scenario.hpp"

namespace autoscale {

struct QueuePreset {
  double duration_s = 3000;
  double arrival_rps = 200;
  double work_mean_s = 0.05;  // exponential
  int instances = 20;
  int vcpu = 2;
  int workers = 2;
  int queue_limit = 1000000;
  int hosts = 5;
  int host_cores = 8;
  double cpu_overcommit = 1.0;
  double client_timeout_s = 1e9;
  uint64_t seed = 1;
};

// One service behind a static fleet on dedicated VMs, Poisson arrivals, exponential work, round robin.
RunSpec single_queue(const QueuePreset& p);

}  // namespace autoscale
