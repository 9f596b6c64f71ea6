#include "controllers/hpa/quantity.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

namespace autoscale::hpa {

namespace {
using u128 = unsigned __int128;
constexpr u128 kMaxMilli = static_cast<u128>(std::numeric_limits<int64_t>::max());

struct Suffix {
  int base2 = 0;   // times 2^base2
  int base10 = 0;  // times 10^base10
};

std::optional<Suffix> suffix_of(std::string_view s) {
  if (s.empty()) return Suffix{};
  if (s.size() == 2 && s[1] == 'i') {
    const std::string_view binary = "KMGTPE";
    auto k = binary.find(s[0]);
    if (k == std::string_view::npos) return std::nullopt;
    return Suffix{10 * static_cast<int>(k + 1), 0};
  }
  if (s.size() == 1) {
    switch (s[0]) {
      case 'n':
        return Suffix{0, -9};
      case 'u':
        return Suffix{0, -6};
      case 'm':
        return Suffix{0, -3};
      case 'k':
        return Suffix{0, 3};
      case 'M':
        return Suffix{0, 6};
      case 'G':
        return Suffix{0, 9};
      case 'T':
        return Suffix{0, 12};
      case 'P':
        return Suffix{0, 15};
      case 'E':
        return Suffix{0, 18};
      default:
        return std::nullopt;
    }
  }
  if (s[0] == 'e' || s[0] == 'E') {
    size_t i = 1;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    if (i == s.size() || s.size() - i > 3) return std::nullopt;
    int e = 0;
    for (; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return std::nullopt;
      e = e * 10 + (s[i] - '0');
    }
    return Suffix{0, negative ? -e : e};
  }
  return std::nullopt;
}

// a * b, or nullopt past the largest milli-value.
std::optional<u128> times(u128 a, u128 b) {
  if (a != 0 && b > kMaxMilli / a) return std::nullopt;
  return a * b;
}
}  // namespace

std::optional<Quantity> parse_quantity(std::string_view text) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  std::string digits;
  int fraction = 0;
  bool point = false, any = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      any = true;
      if (point) ++fraction;
      digits += c;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any) return std::nullopt;
  std::string_view number = text.substr(0, i);
  auto suffix = suffix_of(text.substr(i));
  if (!suffix) return std::nullopt;

  // milli = digits * 2^base2 * 10^(base10 + 3 - fraction), rounded up; exact in 128-bit integers.
  size_t lead = digits.find_first_not_of('0');
  digits = lead == std::string::npos ? "" : digits.substr(lead);
  if (digits.size() > 19) return std::nullopt;
  u128 mantissa = 0;
  for (char c : digits) mantissa = mantissa * 10 + static_cast<u128>(c - '0');
  std::optional<u128> scaled = mantissa;
  for (int k = 0; k < suffix->base2 && scaled; ++k) scaled = times(*scaled, 2);
  int p = suffix->base10 + 3 - fraction;
  for (int k = 0; k < p && scaled; ++k) scaled = times(*scaled, 10);
  if (!scaled) return std::nullopt;
  u128 whole = *scaled, remainder = 0;
  if (p < 0) {
    u128 divisor = 1;
    for (int k = 0; k < -p && divisor <= whole; ++k) divisor *= 10;
    remainder = whole % divisor;
    whole /= divisor;
  }
  Quantity q;
  // Upstream rounds toward +infinity: up for positive values, toward zero for negative ones.
  q.milli = negative ? -static_cast<int64_t>(whole) : static_cast<int64_t>(whole + (remainder != 0 ? 1 : 0));
  q.value = std::strtod(std::string(number).c_str(), nullptr) * std::ldexp(1.0, suffix->base2) *
            std::pow(10.0, suffix->base10);
  return q;
}

int64_t to_milli(double base_units) {
  double m = base_units * 1000.0;
  if (std::isnan(m)) return 0;
  // Saturate as upstream's sums do (2^63 is the first double past int64's range).
  if (m >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (m <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  double nearest = std::round(m);
  if (std::fabs(m - nearest) <= 1e-6 * std::max(1.0, std::fabs(m))) return static_cast<int64_t>(nearest);
  return static_cast<int64_t>(std::ceil(m));
}

}  // namespace autoscale::hpa
