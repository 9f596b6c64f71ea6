#pragma once
// Tasks in child processes, at most `jobs` at a time, each in a fresh process (exact mode's SimGrid engine is
// one per process): each task returns a string (its result, typically JSON) that the parent collects in task
// order. `autoscale calibrate` and `autoscale bench fidelity` simulate through it.
#include <functional>
#include <string>
#include <vector>

namespace autoscale {

struct ForkResult {
  bool ok = false;
  std::string text;   // the task's result, or its error message
  double wall_s = 0;  // the child's wall time
};

// `progress(done, total)` after each task. A task that throws: ok = false and its message; a child that dies:
// ok = false and a message saying so.
std::vector<ForkResult> run_forked(size_t tasks, int jobs, const std::function<std::string(size_t)>& task,
                                   const std::function<void(size_t, size_t)>& progress = {});

}  // namespace autoscale
