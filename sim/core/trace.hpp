#pragma once
// A workload trace: CSV with a header naming `t_s` and a rate column (the format of the traces in traces/):
// equal-width bins, strictly ascending t_s, non-negative finite rates. Loading validates every row and names
// file and line.
#include <string>
#include <vector>

namespace autoscale {

struct Trace {
  std::string path;
  double t0_s = 0;
  double bin_s = 0;
  std::vector<double> rate;  // per bin
  double duration_s() const { return bin_s * static_cast<double>(rate.size()); }
  double end_s() const { return t0_s + duration_s(); }  // the trace covers [t0_s, end_s())
  // Rate at trace time t (0 outside the trace).
  double at(double t_s) const;
};

// Throws InputError naming the file and line.
Trace load_trace(const std::string& path, const std::string& column);

// The trace at a coarser step: each value the mean of step_s / bin_s whole bins (a trailing partial group is
// dropped). step_s = 0 keeps the trace's own bins. A step that is not a whole multiple of the bin is an
// InputError on `field` in `file` (the configuration that asked for it).
std::vector<double> resample(const Trace& trace, double step_s, const std::string& file,
                             const std::string& field);

}  // namespace autoscale
