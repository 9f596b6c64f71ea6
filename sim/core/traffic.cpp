#include "sim/core/traffic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace autoscale {

struct RateFunction::Component {
  TrafficComponent spec;
  bool shape = false;
  Trace trace;
  double trace_span_s = 0;
  Rng rng;
  // diurnal noise
  long noise_index = -1;
  double noise = 1;
  // mmpp
  size_t state = 0;
  double next_switch_s = 0;

  Component(const TrafficComponent& c, uint64_t seed) : spec(c), rng(seed, "traffic/" + c.name) {
    using K = TrafficComponent::Kind;
    shape = c.kind == K::flash_crowd || c.kind == K::scheduled || (c.kind == K::diurnal && c.shape);
    if (c.kind == K::trace) {
      trace = load_trace(c.trace.path, c.trace.column);
      double end = c.trace.end_s >= 0 ? std::min(c.trace.end_s, trace.end_s()) : trace.end_s();
      trace_span_s = std::max(0.0, end - c.trace.start_s);
    }
    if (c.kind == K::mmpp) next_switch_s = rng.exponential(c.state_mean_s[0]);
  }

  double value(double t) {
    using K = TrafficComponent::Kind;
    switch (spec.kind) {
      case K::constant:
        return spec.rate_rps;
      case K::step:
        return t < spec.start_s ? spec.before_rps : spec.rate_rps;
      case K::trace: {
        double tau = t * spec.trace.time_scale;
        if (tau >= trace_span_s || (tau < 0 && spec.trace.loop)) {  // t < 0: monitoring's history
          if (!spec.trace.loop || trace_span_s <= 0) return 0;
          tau = std::fmod(tau, trace_span_s);
          if (tau < 0) tau += trace_span_s;
        }
        return spec.trace.rate_scale * trace.at(spec.trace.start_s + tau);
      }
      case K::diurnal: {
        double base = 1 + spec.amplitude * std::cos(2 * M_PI * (t - spec.peak_time_s) / spec.period_s);
        if (spec.noise_cv > 0) {
          long idx = static_cast<long>(t / spec.noise_interval_s);
          while (noise_index < idx) {  // one draw per interval, in order, whatever the query pattern
            ++noise_index;
            noise = std::max(0.0, 1 + spec.noise_cv * rng.normal());
          }
          base *= noise;
        }
        return shape ? base : spec.rate_rps * base;
      }
      case K::mmpp: {
        size_t n = spec.state_rates_rps.size();
        while (t >= next_switch_s) {
          size_t next = n == 1 ? 0 : static_cast<size_t>(rng.uniform() * static_cast<double>(n - 1));
          state = next >= state ? next + 1 : next;
          if (n == 1) state = 0;
          next_switch_s += rng.exponential(spec.state_mean_s[state]);
        }
        return spec.state_rates_rps[state];
      }
      case K::flash_crowd: {
        double s = t - spec.start_s;
        if (s < 0) return 1;
        double peak = spec.peak_multiplier;
        if (s < spec.ramp_s) return 1 + (peak - 1) * s / spec.ramp_s;
        s -= spec.ramp_s;
        if (s < spec.duration_s) return peak;
        s -= spec.duration_s;
        return 1 + (peak - 1) * std::exp(-s / spec.decay_s);
      }
      case K::scheduled: {
        double s = t - spec.start_s;
        double m = spec.multiplier;
        if (s < 0 || s >= spec.duration_s) return 1;
        double ramp = std::min(spec.ramp_s, spec.duration_s / 2);
        if (ramp > 0 && s < ramp) return 1 + (m - 1) * s / ramp;
        if (ramp > 0 && spec.duration_s - s < ramp) return 1 + (m - 1) * (spec.duration_s - s) / ramp;
        return m;
      }
    }
    return 0;
  }
};

RateFunction::RateFunction(const TrafficSpec& spec, uint64_t seed) {
  for (const auto& c : spec.components) components_.push_back(std::make_unique<Component>(c, seed));
}
RateFunction::~RateFunction() = default;
RateFunction::RateFunction(RateFunction&&) noexcept = default;

double RateFunction::rate(double t_s) {
  double sum = 0, mult = 1;
  for (auto& c : components_) {
    double v = c->value(t_s);
    if (c->shape)
      mult *= v;
    else
      sum += v;
  }
  return std::max(0.0, sum * mult);
}

ArrivalProcess::ArrivalProcess(const TrafficSpec& spec, uint64_t seed)
    : rate_(spec, seed), rng_(seed, "traffic/arrivals"), resolution_s_(spec.resolution_s) {}

double ArrivalProcess::next(double until_s) {
  constexpr double inf = std::numeric_limits<double>::infinity();
  if (!started_) {
    started_ = true;
    step_start_ = 0;
    step_rate_ = rate_.rate(0);
    t_ = 0;
    mass_ = rng_.exponential(1.0);
  }
  for (;;) {
    double step_end = step_start_ + resolution_s_;
    if (step_rate_ > 0) {
      double reach = t_ + mass_ / step_rate_;
      if (reach < step_end) {
        t_ = reach;
        mass_ = rng_.exponential(1.0);
        return t_ < until_s ? t_ : inf;
      }
      mass_ -= (step_end - t_) * step_rate_;
    }
    if (step_end >= until_s) return inf;
    // Steps are counted, not summed, so that step boundaries are exact multiples of the resolution.
    step_start_ = std::round(step_end / resolution_s_) * resolution_s_;
    t_ = step_start_;
    step_rate_ = rate_.rate(step_start_);
  }
}

std::vector<double> rate_history(const TrafficSpec& spec, uint64_t seed, double history_s, double step_s) {
  std::vector<double> out;
  if (history_s <= 0 || step_s <= 0) return out;
  RateFunction rate(spec, seed);  // its own copy: the run's streams do not move
  auto steps = static_cast<long>(std::floor(history_s / step_s + 1e-9));
  long sub = std::max(1L, static_cast<long>(std::ceil(step_s / spec.resolution_s - 1e-9)));
  double h = step_s / static_cast<double>(sub);
  out.reserve(static_cast<size_t>(steps));
  for (long i = 0; i < steps; ++i) {
    double t0 = -static_cast<double>(steps - i) * step_s, sum = 0;
    for (long k = 0; k < sub; ++k) sum += rate.rate(t0 + (static_cast<double>(k) + 0.5) * h);
    out.push_back(sum / static_cast<double>(sub));
  }
  return out;
}

}  // namespace autoscale
