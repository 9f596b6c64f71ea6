#pragma once
// Simulates runs in child processes (SimGrid allows one engine per process), `jobs` at a time, each writing a
// single-run result file; a progress bar on stderr when asked. Used by `autoscale run` (the runs of one
// scenario) and `autoscale bench` (scenarios x controllers x seeds).
#include <string>
#include <vector>

#include "sim/core/scenario.hpp"

namespace autoscale {

struct PoolJob {
  const RunSpec* run = nullptr;
  std::string scenario_file;  // for error messages
  std::string out;            // the single-run file to write
  std::string label;          // names the run in error messages
};

// Returns 0 when every run wrote its file; else the worst child status (2: bad input, 3: internal error)
// after stopping the others; 130 when interrupted (SIGINT/SIGTERM: children stopped, message printed). The
// bar shows `title`, the fraction simulated, runs done / total and the elapsed time (and an ETA when more
// than one run).
int run_in_children(const std::vector<PoolJob>& jobs, int parallel, bool show_progress,
                    const std::string& title);

// A scratch directory beside the result file `out` for the single-run files (removed with everything in it
// when this goes away). `out` must not be a directory; both problems are InputErrors on --out.
class ScratchDir {
 public:
  ScratchDir(const std::string& out, const std::string& tag);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `requested` when > 0, else one per core.
int default_jobs(int requested);

}  // namespace autoscale
