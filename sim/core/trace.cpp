#include "sim/core/trace.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "controllers/base/error.hpp"

namespace autoscale {

double Trace::at(double t_s) const {
  if (rate.empty() || t_s < t0_s) return 0;
  auto i = static_cast<size_t>((t_s - t0_s) / bin_s);
  return i < rate.size() ? rate[i] : 0;
}

namespace {
std::vector<std::string> split_csv(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::istringstream in(line);
  while (std::getline(in, cell, ',')) {
    while (!cell.empty() && (cell.back() == '\r' || cell.back() == ' ')) cell.pop_back();
    size_t b = cell.find_first_not_of(' ');
    out.push_back(b == std::string::npos ? "" : cell.substr(b));
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

bool parse_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && std::isfinite(v);
}
}  // namespace

Trace load_trace(const std::string& path, const std::string& column) {
  std::ifstream in(path);
  if (!in)
    throw InputError(path, 0, "", "cannot open trace file (expected a CSV file with header 't_s,rps')");
  Trace t;
  t.path = path;
  std::string line;
  int lineno = 0;
  if (!std::getline(in, line))
    throw InputError(path, 1, "", "empty trace file: expected a header 't_s,<column>'");
  ++lineno;
  auto header = split_csv(line);
  int t_col = -1, v_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == "t_s") t_col = static_cast<int>(i);
    if (header[i] == column) v_col = static_cast<int>(i);
  }
  if (t_col < 0) throw InputError(path, 1, "t_s", "header has no 't_s' column (expected 't_s,rps')");
  if (v_col < 0) throw InputError(path, 1, column, "header has no column '" + column + "'");
  double prev_t = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line == "\r") continue;
    auto cells = split_csv(line);
    double ts = 0, v = 0;
    if (static_cast<int>(cells.size()) <= std::max(t_col, v_col))
      throw InputError(path, lineno, "",
                       "expected " + std::to_string(header.size()) + " comma-separated fields");
    if (!parse_number(cells[t_col], ts))
      throw InputError(path, lineno, "t_s", "expected a number, got '" + cells[t_col] + "'");
    if (!parse_number(cells[v_col], v))
      throw InputError(path, lineno, column, "expected a finite number, got '" + cells[v_col] + "'");
    if (v < 0) throw InputError(path, lineno, column, "negative rate " + cells[v_col] + " (expected >= 0)");
    if (t.rate.empty()) {
      t.t0_s = ts;
    } else {
      if (ts <= prev_t)
        throw InputError(
            path, lineno, "t_s",
            "t_s " + cells[t_col] + " is not after the previous row's (expected strictly ascending)");
      double bin = ts - prev_t;
      if (t.rate.size() == 1) {
        t.bin_s = bin;
      } else if (std::fabs(bin - t.bin_s) > 1e-6 * t.bin_s) {
        throw InputError(path, lineno, "t_s",
                         "bin of " + std::to_string(bin) + " s differs from the first bin (" +
                             std::to_string(t.bin_s) + " s); expected equal-width bins");
      }
    }
    prev_t = ts;
    t.rate.push_back(v);
  }
  if (t.rate.empty()) throw InputError(path, lineno, "", "trace has a header but no data rows");
  if (t.rate.size() == 1)
    throw InputError(path, lineno, "t_s",
                     "a single data row; expected at least two rows (they give the bin width)");
  return t;
}

std::vector<double> resample(const Trace& trace, double step_s, const std::string& file,
                             const std::string& field) {
  if (step_s == 0 || step_s == trace.bin_s) return trace.rate;
  double ratio = step_s / trace.bin_s;
  long k = std::lround(ratio);
  auto text = [](double v) {
    std::ostringstream os;
    os << v;
    return os.str();
  };
  if (!(step_s > 0) || k < 1 || std::abs(ratio - static_cast<double>(k)) > 1e-9 * ratio)
    throw InputError(file, 0, field,
                     "a whole multiple of the trace's " + text(trace.bin_s) + "-s bins (" + trace.path +
                         "), got " + text(step_s));
  std::vector<double> out;
  for (std::size_t i = 0; i + static_cast<std::size_t>(k) <= trace.rate.size();
       i += static_cast<std::size_t>(k)) {
    double sum = 0;
    for (long j = 0; j < k; ++j) sum += trace.rate[i + static_cast<std::size_t>(j)];
    out.push_back(sum / static_cast<double>(k));
  }
  return out;
}

}  // namespace autoscale
