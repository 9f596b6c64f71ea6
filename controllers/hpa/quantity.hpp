#pragma once
// Kubernetes resource quantities ("500m", "15", "1.5k", "2Mi", "1e3"), as apimachinery's resource.Quantity
// parses them: an optionally signed decimal number and one suffix, binary (Ki Mi Gi Ti Pi Ei), decimal (n u m
// k M G T P E) or a decimal exponent (e3, E-2).
#include <cstdint>
#include <optional>
#include <string_view>

namespace autoscale::hpa {

struct Quantity {
  int64_t milli = 0;  // MilliValue(): the value in thousandths, rounded up (as upstream's targets are read)
  double value = 0;   // AsApproximateFloat64()
};

// nullopt when `text` is not a quantity, or its milli-value does not fit in 64 bits.
std::optional<Quantity> parse_quantity(std::string_view text);

// A value in base units (cores, requests per second, ...) as a milli-value, rounded up as MilliValue() rounds
// (a sample that is a whole number of thousandths within floating-point noise stays that number).
int64_t to_milli(double base_units);

}  // namespace autoscale::hpa
