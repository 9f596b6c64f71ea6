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

}  // namespace autoscale
