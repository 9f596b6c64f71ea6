// Engine-free model pieces: random streams, distributions, traces, traffic, service graph.
#include <unistd.h>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>

#include <fstream>

#include "controllers/base/error.hpp"
#include "sim/core/distribution.hpp"
#include "sim/core/random.hpp"
#include "sim/core/service_graph.hpp"
#include "sim/core/trace.hpp"
#include "sim/core/traffic.hpp"

using namespace autoscale;

namespace {
std::string write_file(const std::string& name, const std::string& text) {
  std::string path = "/tmp/autoscale_unit_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << text;
  return path;
}

double mean_of(const Distribution& d, int n, double* cv = nullptr) {
  Rng rng(7, "test");
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    double v = d.sample(rng);
    s += v;
    s2 += v * v;
  }
  double m = s / n;
  if (cv) *cv = std::sqrt(s2 / n - m * m) / m;
  return m;
}
}  // namespace

TEST_CASE("random streams derive from seed and name only", "[random]") {
  Rng a(42, "traffic"), b(42, "traffic"), c(42, "startup/web"), d(43, "traffic");
  uint64_t x = a.next();
  CHECK(x == b.next());
  CHECK(x != c.next());
  CHECK(x != d.next());
  Rng u(1, "u");
  for (int i = 0; i < 1000; ++i) {
    double v = u.uniform();
    REQUIRE(v >= 0);
    REQUIRE(v < 1);
  }
}

TEST_CASE("distributions have the configured mean and spread", "[distribution]") {
  CHECK(mean_of(Distribution::constant(3.5), 10) == 3.5);
  CHECK(mean_of(Distribution::exponential_mean(2.0), 200000) == Approx(2.0).epsilon(0.01));
  Distribution logn;
  logn.kind = Distribution::Kind::lognormal;
  logn.mean = 30;
  logn.cv = 0.5;
  double cv = 0;
  CHECK(mean_of(logn, 200000, &cv) == Approx(30).epsilon(0.01));
  CHECK(cv == Approx(0.5).epsilon(0.03));
  Distribution uni;
  uni.kind = Distribution::Kind::uniform;
  uni.min = 10;
  uni.max = 20;
  CHECK(mean_of(uni, 100000) == Approx(15).epsilon(0.005));
  CHECK(uni.expected() == 15);
  Distribution norm;
  norm.kind = Distribution::Kind::normal;
  norm.mean = 1;
  norm.cv = 2;  // heavily truncated: never negative
  Rng rng(1, "n");
  for (int i = 0; i < 10000; ++i) REQUIRE(norm.sample(rng) >= 0);
  Distribution emp;
  emp.kind = Distribution::Kind::empirical;
  emp.values = {1, 5, 9};
  for (int i = 0; i < 100; ++i) {
    double v = emp.sample(rng);
    REQUIRE((v == 1 || v == 5 || v == 9));
  }
  CHECK(emp.expected() == 5);
}

TEST_CASE("a normal's expected value is the mean of what sample() draws: truncated at zero",
          "[distribution]") {
  Distribution norm;
  norm.kind = Distribution::Kind::normal;
  // mean 1, cv 1: mu = sigma = 1, alpha = -1; phi(-1) = 0.2419707, 1 - Phi(-1) = 0.8413447:
  // E = 1 + 1 x 0.2419707 / 0.8413447 = 1.2875999 (the untruncated mean would be 1).
  norm.mean = 1;
  norm.cv = 1;
  CHECK(norm.expected() == Approx(1.2875999).epsilon(1e-6));
  // Draws have that mean: sd of the truncated normal ~0.79, so the standard error over 200000 draws is
  // ~0.0018 (0.14 %); 1 % is ~7 standard errors, and 22 % away from the untruncated mean of 1.
  CHECK(mean_of(norm, 200000) == Approx(norm.expected()).epsilon(0.01));
  // mean 10, cv 0.5: sigma = 5, alpha = -2; phi(-2) = 0.0539910, 1 - Phi(-2) = 0.9772499:
  // E = 10 + 5 x 0.0539910 / 0.9772499 = 10 + 5 x 0.0552479 = 10.2762393.
  norm.mean = 10;
  norm.cv = 0.5;
  CHECK(norm.expected() == Approx(10.2762393).epsilon(1e-6));
  CHECK(mean_of(norm, 200000) == Approx(norm.expected()).epsilon(0.005));
  // No spread: every draw is the mean. Mean 0: every draw is 0 (0 x (1 + cv z)).
  norm.cv = 0;
  CHECK(norm.expected() == 10);
  norm.mean = 0;
  norm.cv = 2;
  CHECK(norm.expected() == 0);
  CHECK(mean_of(norm, 100) == 0);
}

TEST_CASE("trace files load with their bin width and reject bad rows with the line", "[trace]") {
  Trace t = load_trace(write_file("ok.csv", "t_s,rps\n0,1.5\n60,2\n120,0\n"), "rps");
  CHECK(t.bin_s == 60);
  CHECK(t.rate.size() == 3);
  CHECK(t.at(59.9) == 1.5);
  CHECK(t.at(60) == 2);
  CHECK(t.at(180) == 0);
  auto line_of = [](const std::string& text, const std::string& col = "rps") {
    try {
      load_trace(write_file("bad.csv", text), col);
    } catch (const InputError& e) {
      return e.line();
    }
    return -1;
  };
  CHECK(line_of("t_s,rps\n0,1\n60,x\n") == 3);
  CHECK(line_of("t_s,rps\n0,1\n60,1\n60,1\n") == 4);    // not ascending
  CHECK(line_of("t_s,rps\n0,1\n60,1\n180,1\n") == 4);   // unequal bins
  CHECK(line_of("t_s,rps\n0,1\n60,-1\n") == 3);         // negative
  CHECK(line_of("t_s,rps\n0,1\n60,nan\n") == 3);        // not finite
  CHECK(line_of("t_s,rps\n") == 1);                     // header only
  CHECK(line_of("time,rps\n0,1\n") == 1);               // no t_s column
  CHECK(line_of("t_s,rps\n0,1\n60,2\n", "bits") == 1);  // no such column
  CHECK_THROWS_AS(load_trace("/nonexistent/trace.csv", "rps"), InputError);
}

TEST_CASE("rate shapes follow their definitions", "[traffic]") {
  TrafficSpec spec;
  TrafficComponent base;
  base.kind = TrafficComponent::Kind::constant;
  base.rate_rps = 10;
  TrafficComponent crowd;
  crowd.kind = TrafficComponent::Kind::flash_crowd;
  crowd.name = "crowd";
  crowd.start_s = 100;
  crowd.ramp_s = 10;
  crowd.peak_multiplier = 5;
  crowd.duration_s = 20;
  crowd.decay_s = 10;
  spec.components = {base, crowd};
  RateFunction f(spec, 1);
  CHECK(f.rate(50) == 10);
  CHECK(f.rate(105) == Approx(30));                             // halfway up the ramp: 1 + 4 * 0.5
  CHECK(f.rate(120) == Approx(50));                             // at the peak
  CHECK(f.rate(140) == Approx(10 * (1 + 4 * std::exp(-1.0))));  // one decay constant after the peak ends

  TrafficSpec d;
  TrafficComponent di;
  di.kind = TrafficComponent::Kind::diurnal;
  di.rate_rps = 100;
  di.amplitude = 0.5;
  di.period_s = 86400;
  di.peak_time_s = 3600;
  d.components = {di};
  RateFunction g(d, 1);
  CHECK(g.rate(3600) == Approx(150));
  CHECK(g.rate(3600 + 43200) == Approx(50));

  TrafficSpec s;
  TrafficComponent step;
  step.kind = TrafficComponent::Kind::step;
  step.before_rps = 5;
  step.start_s = 10;
  step.rate_rps = 50;
  TrafficComponent ev;
  ev.kind = TrafficComponent::Kind::scheduled;
  ev.name = "campaign";
  ev.start_s = 100;
  ev.duration_s = 100;
  ev.ramp_s = 10;
  ev.multiplier = 3;
  s.components = {step, ev};
  RateFunction h(s, 1);
  CHECK(h.rate(9.9) == 5);
  CHECK(h.rate(10) == 50);
  CHECK(h.rate(105) == Approx(100));  // halfway up the campaign's ramp: x2
  CHECK(h.rate(150) == Approx(150));
  CHECK(h.rate(200) == Approx(50));
}

TEST_CASE("trace replay: scale, offset, speed-up and looping", "[traffic]") {
  TrafficSpec spec;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::trace;
  c.trace.path = write_file("replay.csv", "t_s,rps\n0,1\n60,2\n120,3\n180,4\n");
  c.trace.rate_scale = 10;
  c.trace.start_s = 60;
  c.trace.end_s = 180;
  c.trace.time_scale = 2;  // two trace seconds per simulated second
  c.trace.loop = true;
  spec.components = {c};
  RateFunction f(spec, 1);
  CHECK(f.rate(0) == 20);   // trace t = 60
  CHECK(f.rate(29) == 20);  // trace t = 118
  CHECK(f.rate(30) == 30);  // trace t = 120
  CHECK(f.rate(60) == 20);  // the 120 s span looped: trace t = 60 again
}

TEST_CASE("Poisson arrivals: the count matches the integrated rate, and an empty bin gets none",
          "[traffic]") {
  TrafficSpec spec;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::trace;
  c.trace.path = write_file("bins.csv", "t_s,rps\n0,0\n60,100\n120,0\n180,50\n");
  spec.components = {c};
  ArrivalProcess a(spec, 9);
  std::vector<int> per_bin(4, 0);
  double prev = 0;
  for (double t = a.next(240); std::isfinite(t); t = a.next(240)) {
    REQUIRE(t > prev);
    prev = t;
    per_bin[static_cast<size_t>(t / 60)]++;
  }
  CHECK(per_bin[0] == 0);
  CHECK(per_bin[2] == 0);
  // Poisson counts with means 6000 and 3000: within 4 standard deviations.
  CHECK(std::abs(per_bin[1] - 6000) < 4 * std::sqrt(6000.0));
  CHECK(std::abs(per_bin[3] - 3000) < 4 * std::sqrt(3000.0));
}

TEST_CASE("the service graph gives visit ratios and rejects cycles", "[graph]") {
  RunSpec run;
  run.services.resize(3);
  run.services[0].name = "web";
  run.services[1].name = "api";
  run.services[2].name = "db";
  run.traffic.entry_service = "web";
  run.edges = {{"web", "api", 0.5, 2, 1}, {"api", "db", 1.0, 1, 2}, {"web", "db", 0.3, 1, 3}};
  ServiceGraph g(run, "x.toml");
  CHECK(g.visits()[0] == 1);
  CHECK(g.visits()[1] == Approx(1.0));  // 0.5 x 2 calls
  CHECK(g.visits()[2] == Approx(1.3));  // 1.0 via api + 0.3 direct
  run.edges.push_back({"db", "web", 1.0, 1, 4});
  CHECK_THROWS_WITH(ServiceGraph(run, "x.toml"), Catch::Contains("cycle"));
  run.edges = {{"web", "cache", 1.0, 1, 7}};
  CHECK_THROWS_WITH(ServiceGraph(run, "x.toml"), Catch::Contains("x.toml:7") && Catch::Contains("cache"));
}

TEST_CASE("closest_match suggests plausible typos only", "[error]") {
  std::vector<std::string> keys = {"scrape_interval_s", "lag_s", "window_s"};
  CHECK(closest_match("scrape_intervall_s", keys) == "scrape_interval_s");
  CHECK(closest_match("windows_s", keys) == "window_s");
  CHECK(closest_match("completely_different", keys).empty());
}

TEST_CASE("MMPP: the long-run rate is the sojourn-weighted mean of the state rates", "[traffic]") {
  // Two states, 0 and 10 requests/s, mean sojourns 100 s and 50 s: the chain spends 2/3 of the time in the
  // quiet state, so the long-run rate is (0 x 100 + 10 x 50) / 150 = 3.33/s.
  TrafficSpec spec;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::mmpp;
  c.name = "bursts";
  c.state_rates_rps = {0, 10};
  c.state_mean_s = {100, 50};
  spec.components = {c};
  ArrivalProcess a(spec, 5);
  const double horizon = 2e6;
  double n = 0;
  for (double t = a.next(horizon); std::isfinite(t); t = a.next(horizon)) n += 1;
  CHECK(n / horizon == Approx(10.0 / 3).epsilon(0.03));
}

TEST_CASE("diurnal noise has mean one and the configured spread", "[traffic]") {
  TrafficSpec spec;
  TrafficComponent c;
  c.kind = TrafficComponent::Kind::diurnal;
  c.name = "noisy";
  c.rate_rps = 100;
  c.amplitude = 0;  // flat, so only the noise varies
  c.noise_cv = 0.2;
  c.noise_interval_s = 60;
  spec.components = {c};
  RateFunction f(spec, 3);
  double s = 0, s2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double v = f.rate(60.0 * i + 30);
    CHECK(v == f.rate(60.0 * i + 59));  // held constant over each noise interval
    s += v;
    s2 += v * v;
  }
  double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  CHECK(mean == Approx(100).epsilon(0.01));
  CHECK(sd / mean == Approx(0.2).epsilon(0.05));
}
