#pragma once
// Internal: one factory per kind (registry.cpp's table).
#include <memory>

#include "forecasters/forecaster.hpp"

namespace autoscale::forecast {

std::unique_ptr<Forecaster> make_naive(Params& s);
std::unique_ptr<Forecaster> make_seasonal_naive(Params& s);
std::unique_ptr<Forecaster> make_moving_average(Params& s);
std::unique_ptr<Forecaster> make_ewma(Params& s);
std::unique_ptr<Forecaster> make_holt_winters(Params& s);
std::unique_ptr<Forecaster> make_ar(Params& s);
std::unique_ptr<Forecaster> make_fft(Params& s);
std::unique_ptr<Forecaster> make_ensemble(Params& s);

// Reads an integer key in [lo, hi] (range errors name the key).
long read_int(Params& s, const char* key, long fallback, long lo, long hi);
// Reads a number in [lo, hi] (open at lo when lo_open).
double read_number(Params& s, const char* key, double fallback, double lo, double hi, bool lo_open);

}  // namespace autoscale::forecast
