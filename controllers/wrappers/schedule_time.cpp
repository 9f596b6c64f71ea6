#include "controllers/wrappers/schedule_time.hpp"

#include <cctype>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace autoscale::wrappers {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
long long days_from_civil(long long y, int m, int d) {
  y -= m <= 2;
  const long long era = (y >= 0 ? y : y - 399) / 400;
  const long long yoe = y - era * 400;
  const long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(long long z, long long& y, int& m, int& d) {
  z += 719468;
  const long long era = (z >= 0 ? z : z - 146096) / 146097;
  const long long doe = z - era * 146097;
  const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const long long mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

int days_in_month(long long y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

// Reads an unsigned number at text[pos...]; -1 when there is none.
int read_number(const std::string& text, size_t& pos, size_t max_digits = 9) {
  size_t start = pos;
  long v = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) && pos - start < max_digits)
    v = v * 10 + (text[pos++] - '0');
  return pos == start ? -1 : static_cast<int>(v);
}

// "+02:00", "-0530", "+2": seconds east; nullopt when malformed.
std::optional<long> parse_offset(const std::string& text) {
  if (text.empty() || (text[0] != '+' && text[0] != '-')) return std::nullopt;
  size_t pos = 1;
  size_t digits_start = pos;
  int h = read_number(text, pos, 2);
  if (h < 0) return std::nullopt;
  int m = 0;
  if (pos < text.size()) {
    if (text[pos] == ':')
      ++pos;
    else if (pos - digits_start != 2)
      return std::nullopt;
    size_t mstart = pos;
    m = read_number(text, pos, 2);
    if (m < 0 || pos - mstart != 2) return std::nullopt;
  }
  if (pos != text.size() || h > 18 || m > 59) return std::nullopt;
  long s = h * 3600L + m * 60L;
  return text[0] == '-' ? -s : s;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One cron field into `bits` (index = value); `names` map JAN.. or SUN.. to min + their index.
void parse_field(const std::string& field, int lo, int hi, const std::vector<std::string>& names,
                 std::vector<bool>& bits, const char* what) {
  auto fail = [&](const std::string& why) {
    throw std::invalid_argument(std::string(what) + " field '" + field + "': " + why);
  };
  auto value = [&](const std::string& tok) {
    std::string u = upper(tok);
    for (size_t i = 0; i < names.size(); ++i)
      if (u == names[i]) return lo + static_cast<int>(i);
    size_t pos = 0;
    int v = read_number(tok, pos);
    if (v < 0 || pos != tok.size())
      fail("'" + tok + "' is not a number" + (names.empty() ? "" : " or a name"));
    if (v < lo || v > hi)
      fail(std::to_string(v) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi));
    return v;
  };
  bits.assign(static_cast<size_t>(hi + 1), false);
  size_t start = 0;
  while (start <= field.size()) {
    size_t comma = field.find(',', start);
    std::string item = field.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item.empty()) fail("an empty list item");
    int step = 1;
    size_t slash = item.find('/');
    std::string range = item.substr(0, slash);
    if (slash != std::string::npos) {
      std::string s = item.substr(slash + 1);
      size_t pos = 0;
      step = read_number(s, pos);
      if (step <= 0 || pos != s.size()) fail("step '" + s + "' is not a positive number");
    }
    int a = lo, b = hi;
    if (range != "*" && range != "?") {
      size_t dash = range.find('-');
      a = value(range.substr(0, dash));
      b = dash == std::string::npos ? (slash == std::string::npos ? a : hi) : value(range.substr(dash + 1));
      if (b < a) fail("range " + range + " runs backwards");
    }
    for (int v = a; v <= b; v += step) bits[static_cast<size_t>(v)] = true;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
}

}  // namespace

std::optional<long> parse_time_zone(const std::string& text) {
  const std::string u = upper(text);
  if (u == "UTC" || u == "ETC/UTC" || u == "GMT" || u == "ETC/GMT" || u == "Z" || u == "UCT" ||
      u == "ETC/UCT")
    return 0;
  for (const char* prefix : {"UTC", "GMT"})
    if (u.rfind(prefix, 0) == 0) return parse_offset(u.substr(3));
  if (u.rfind("ETC/GMT", 0) == 0) {
    // POSIX-style names invert the sign: Etc/GMT-2 is two hours east of UTC; whole hours only.
    auto off = parse_offset(u.substr(7));
    if (!off || *off % 3600 != 0) return std::nullopt;
    return -*off;
  }
  return parse_offset(u);
}

std::optional<double> parse_date_time(const std::string& text, long default_offset_s) {
  size_t pos = 0;
  auto expect = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  size_t ystart = pos;
  int y = read_number(text, pos, 4);
  if (y < 0 || pos - ystart != 4 || !expect('-')) return std::nullopt;
  size_t mstart = pos;
  int mo = read_number(text, pos, 2);
  if (mo < 1 || mo > 12 || pos - mstart != 2 || !expect('-')) return std::nullopt;
  size_t dstart = pos;
  int d = read_number(text, pos, 2);
  if (d < 1 || pos - dstart != 2 || d > days_in_month(y, mo)) return std::nullopt;
  int h = 0, mi = 0;
  double s = 0;
  if (pos < text.size()) {
    if (!expect('T') && !expect('t') && !expect(' ')) return std::nullopt;
    size_t hstart = pos;
    h = read_number(text, pos, 2);
    if (h < 0 || h > 23 || pos - hstart != 2 || !expect(':')) return std::nullopt;
    size_t mistart = pos;
    mi = read_number(text, pos, 2);
    if (mi < 0 || mi > 59 || pos - mistart != 2) return std::nullopt;
    if (expect(':')) {
      size_t sstart = pos;
      int whole = read_number(text, pos, 2);
      if (whole < 0 || whole > 59 || pos - sstart != 2) return std::nullopt;
      s = whole;
      if (expect('.')) {
        double scale = 0.1;
        size_t fstart = pos;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          s += (text[pos++] - '0') * scale;
          scale /= 10;
        }
        if (pos == fstart) return std::nullopt;
      }
    }
  }
  long offset = default_offset_s;
  if (pos < text.size()) {
    std::string zone = text.substr(pos);
    if (zone == "Z" || zone == "z") {
      offset = 0;
    } else {
      auto off = parse_offset(zone);
      if (!off) return std::nullopt;
      offset = *off;
    }
  }
  double local = static_cast<double>(days_from_civil(y, mo, d)) * 86400.0 + h * 3600.0 + mi * 60.0 + s;
  return local - static_cast<double>(offset);
}

Cron::Cron(const std::string& expression) {
  std::vector<std::string> fields;
  size_t i = 0;
  while (i < expression.size()) {
    while (i < expression.size() && std::isspace(static_cast<unsigned char>(expression[i]))) ++i;
    size_t start = i;
    while (i < expression.size() && !std::isspace(static_cast<unsigned char>(expression[i]))) ++i;
    if (i > start) fields.push_back(expression.substr(start, i - start));
  }
  if (fields.size() != 5)
    throw std::invalid_argument(
        "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got " +
        std::to_string(fields.size()));
  std::vector<bool> b;
  parse_field(fields[0], 0, 59, {}, b, "minute");
  for (size_t k = 0; k < 60; ++k) minute_[k] = b[k];
  parse_field(fields[1], 0, 23, {}, b, "hour");
  for (size_t k = 0; k < 24; ++k) hour_[k] = b[k];
  parse_field(fields[2], 1, 31, {}, b, "day-of-month");
  for (size_t k = 1; k < 32; ++k) dom_[k] = b[k];
  parse_field(fields[3], 1, 12,
              {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}, b,
              "month");
  for (size_t k = 1; k < 13; ++k) month_[k] = b[k];
  parse_field(fields[4], 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}, b, "day-of-week");
  for (size_t k = 0; k < 7; ++k) dow_[k] = b[k];
  if (b[7]) dow_[0] = true;
  auto any = [](const std::string& f) { return f[0] == '*' || f[0] == '?'; };
  dom_any_ = any(fields[2]);
  dow_any_ = any(fields[4]);
}

std::optional<double> Cron::next_at_or_after(double t_s, long offset_s) const {
  long long m = static_cast<long long>(std::ceil((t_s + static_cast<double>(offset_s)) / 60.0)) * 60;
  const long long limit = m + 8LL * 366 * 86400;
  while (m <= limit) {
    long long days = m >= 0 ? m / 86400 : -((-m + 86399) / 86400);
    long long sec = m - days * 86400;
    long long y;
    int mo, d;
    civil_from_days(days, y, mo, d);
    if (!month_[static_cast<size_t>(mo)]) {
      m = (days - d + 1 + days_in_month(y, mo)) * 86400;  // the first of next month
      continue;
    }
    int wd = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    bool dom = dom_[static_cast<size_t>(d)], dow = dow_[static_cast<size_t>(wd)];
    bool day = dom_any_ || dow_any_ ? dom && dow : dom || dow;
    if (!day) {
      m = (days + 1) * 86400;
      continue;
    }
    int h = static_cast<int>(sec / 3600);
    if (!hour_[static_cast<size_t>(h)]) {
      m = days * 86400 + (h + 1) * 3600LL;
      continue;
    }
    int mi = static_cast<int>((sec % 3600) / 60);
    if (!minute_[static_cast<size_t>(mi)]) {
      m += 60;
      continue;
    }
    return static_cast<double>(m - offset_s);
  }
  return std::nullopt;
}

}  // namespace autoscale::wrappers
