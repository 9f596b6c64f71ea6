// What the evaluation says about time: bursts, the worst windows, the residual anomaly detector and its score
// against labelled windows (evaluation.hpp).
#include <algorithm>
#include <cmath>

#include "forecasters/eval/evaluation.hpp"

namespace autoscale::forecast::eval {

namespace {
// The median of v (the mean of the two middle values for an even count); v is reordered.
double median(std::vector<double>& v) {
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + static_cast<long>(mid));
  return (lo + hi) / 2;
}
}  // namespace

std::vector<bool> burst_mask(const std::vector<double>& x, int window_steps, double z) {
  std::vector<bool> burst(x.size(), false);
  const std::size_t w = static_cast<std::size_t>(std::max(1, window_steps));
  std::vector<double> win(w);
  for (std::size_t t = w; t < x.size(); ++t) {
    std::copy(x.begin() + static_cast<long>(t - w), x.begin() + static_cast<long>(t), win.begin());
    const double med = median(win);
    for (double& v : win) v = std::abs(v - med);
    const double mad = median(win);
    burst[t] = x[t] - med > z * 1.4826 * mad;
  }
  return burst;
}

std::vector<Window> worst_windows(const HorizonForecasts& f, std::size_t length_steps, std::size_t k) {
  const std::size_t n = f.target.size();
  const std::size_t len = std::max<std::size_t>(1, length_steps);
  // Prefix sums of |y - f|, y and f over the rows (in target order).
  std::vector<double> err(n + 1, 0.0), act(n + 1, 0.0), fc(n + 1, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    err[i + 1] = err[i] + std::abs(f.actual[i] - f.p50[i]);
    act[i + 1] = act[i] + f.actual[i];
    fc[i + 1] = fc[i] + f.p50[i];
  }
  std::vector<Window> candidates;
  for (std::size_t i = 0, j = 0; i < n; ++i) {
    const std::size_t end = f.target[i] + len;
    if (end > f.target.back() + 1) break;  // only windows inside the evaluated span
    j = std::max(j, i);
    while (j < n && f.target[j] < end) ++j;
    const double m = static_cast<double>(j - i);
    candidates.push_back(
        {f.target[i], end, j - i, (err[j] - err[i]) / m, (act[j] - act[i]) / m, (fc[j] - fc[i]) / m});
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Window& a, const Window& b) { return a.mae > b.mae; });
  std::vector<Window> picked;
  for (const Window& c : candidates) {
    if (picked.size() >= k) break;
    bool overlaps = std::any_of(picked.begin(), picked.end(),
                                [&](const Window& p) { return c.first < p.end && p.first < c.end; });
    if (!overlaps) picked.push_back(c);
  }
  return picked;
}

std::vector<bool> residual_alarms(const HorizonForecasts& f, int k) {
  std::vector<bool> alarms(f.actual.size(), false);
  int run = 0;
  for (std::size_t i = 0; i < f.actual.size(); ++i) {
    bool outside = f.actual[i] < f.p10[i] || f.actual[i] > f.p90[i];
    run = outside ? run + 1 : 0;
    alarms[i] = run >= std::max(1, k);
  }
  return alarms;
}

std::vector<Event> alarm_events(const HorizonForecasts& f, const std::vector<bool>& alarms) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < alarms.size(); ++i) {
    if (!alarms[i]) continue;
    if (i > 0 && alarms[i - 1])
      events.back().last = f.target[i];
    else
      events.push_back({f.target[i], f.target[i]});
  }
  return events;
}

Detection score_detection(const std::vector<Event>& events, const Series& s,
                          const std::vector<LabelWindow>& windows, double from_s, double to_s) {
  Detection d;
  d.events = events.size();
  d.event_true.assign(events.size(), false);
  d.window_detected.assign(windows.size(), false);
  d.window_evaluated.assign(windows.size(), false);
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const LabelWindow& lw = windows[w];
    d.window_evaluated[w] = lw.start_s < to_s && from_s <= lw.end_s;
    if (d.window_evaluated[w]) ++d.windows;
    for (std::size_t e = 0; e < events.size(); ++e) {
      // An event spans its alarms' times; it is inside a window when the two intersect.
      if (s.time(events[e].first) <= lw.end_s && lw.start_s <= s.time(events[e].last)) {
        d.event_true[e] = true;
        d.window_detected[w] = d.window_detected[w] || d.window_evaluated[w];
      }
    }
    if (d.window_detected[w]) ++d.windows_detected;
  }
  d.true_events = static_cast<std::size_t>(std::count(d.event_true.begin(), d.event_true.end(), true));
  if (d.events > 0) d.precision = static_cast<double>(d.true_events) / static_cast<double>(d.events);
  if (d.windows > 0) d.recall = static_cast<double>(d.windows_detected) / static_cast<double>(d.windows);
  if (d.events > 0 && d.windows > 0)
    d.f1 = d.precision + d.recall > 0 ? 2 * d.precision * d.recall / (d.precision + d.recall) : 0.0;
  return d;
}

}  // namespace autoscale::forecast::eval
