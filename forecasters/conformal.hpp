#pragma once
// Empirical (conformal) prediction intervals around any forecaster: `intervals = "empirical"` in a forecaster
// section of any kind. A model's analytic intervals assume normal, homoscedastic errors of a correct model;
// on real traffic (bursts, level shifts, a diurnal noise level) they are often far too narrow or too wide.
// The wrapper keeps, for each horizon h = 1..H (`calibration_horizon_steps`), the model's last W
// (`calibration_window_steps`) h-step-ahead errors y_{t+h} - median_t(h) and answers quantile q at horizon h
// as the model's median + the empirical q-quantile of those errors (linear interpolation between order
// statistics), never crossing the median; beyond H, the errors at H scaled by sqrt(h / H). The median itself
// stays the model's: shifting it by the recent median error follows the last burst's bias into the next calm.
// Until a horizon has 20 errors (or W, if smaller) the model's own quantiles are used. fit() fits the model
// on all but the newest W + H values (at most half of them), observes those to fill the error windows with
// out-of-sample errors, then fits the model again on every value.
#include <memory>

#include "forecasters/forecaster.hpp"

namespace autoscale::forecast {

// Reads `intervals` ("model", the default: `f` as it is; "empirical": wrapped) and, for "empirical",
// `calibration_window_steps` (default 500) and `calibration_horizon_steps` (default 32) from `settings`.
std::unique_ptr<Forecaster> with_intervals(std::unique_ptr<Forecaster> f, Params& settings);

std::unique_ptr<Forecaster> make_conformal(std::unique_ptr<Forecaster> inner, int window_steps,
                                           int horizon_steps);

}  // namespace autoscale::forecast
