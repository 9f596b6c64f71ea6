#pragma once
// The queueing formulas of fluid fidelity: an M/M/c station at steady state (Erlang C) and a fluid backlog
// for when arrivals outrun service. Pure functions; tested against closed forms in tests/unit/fluid_test.cpp.
namespace autoscale::fluid {

// Probability that an arrival waits in an M/M/c queue with offered load a = lambda / mu (Erlang C); 1 when
// a >= c (no steady state: every arrival waits).
double erlang_c(int c, double a);

// An M/M/c station at steady state: an arrival waits with probability p_wait, and then for an exponential
// time of rate decay_rps = c mu - lambda.
struct Mmc {
  double p_wait = 0;
  double decay_rps = 0;
  double mean_wait_s() const { return decay_rps > 0 ? p_wait / decay_rps : 0; }
  double mean_queue(double lambda_rps) const { return lambda_rps * mean_wait_s(); }  // Little
  // P(wait > x) = p_wait exp(-decay_rps x).
  double wait_exceeds(double x_s) const;
  // The waiting time's q-quantile (0 where q <= 1 - p_wait).
  double wait_quantile(double q) const;
};
// Requires lambda_rps < c mu_rps (a steady state).
Mmc mmc(double lambda_rps, double mu_rps, int c);

// A fluid queue over dt: requests arrive at lambda_rps, leave at capacity_rps while there are any; at most
// max_backlog wait, the rest overflow (rejected).
struct Backlog {
  double end = 0;          // requests waiting at the end
  double mean = 0;         // mean number waiting over the step
  double overflow = 0;     // requests rejected (the queue was full)
  double completions = 0;  // requests served
};
Backlog fluid_backlog(double start, double lambda_rps, double capacity_rps, double dt_s, double max_backlog);

// The mean of a queue that holds at most max_waiting, in its steady state at utilization rho (the number
// waiting geometric, truncated): rho / (1 - rho) - (m + 1) rho^(m+1) / (1 - rho^(m+1)); m / 2 at rho = 1.
double finite_queue_mean(double rho, double max_waiting);

}  // namespace autoscale::fluid
