#pragma once
// Wall-clock pieces of AWS scheduled actions: ISO-8601 date-times, fixed time zones and Unix cron
// recurrences (5 fields). Times are seconds since 1970-01-01T00:00:00Z; no library time zone database, so
// zones are UTC or fixed offsets.
#include <array>
#include <bitset>
#include <optional>
#include <string>

namespace autoscale::wrappers {

// "UTC", "Etc/UTC", "GMT", "Z", "UTC+02:00", "UTC-3", "+05:30", "Etc/GMT-2" (POSIX sign: UTC+2): the offset
// east of UTC in seconds; nullopt when not one of these.
std::optional<long> parse_time_zone(const std::string& text);

// "2024-03-01T08:00:00Z", "2024-03-01T08:00:00+02:00", "2024-03-01T08:00" (seconds optional, 'T' or a space):
// seconds since the epoch. Without a zone suffix the time is local to `default_offset_s`. nullopt when
// malformed.
std::optional<double> parse_date_time(const std::string& text, long default_offset_s);

// A Unix cron expression: minute hour day-of-month month day-of-week, each `*`, `?`, `a`, `a-b`, `*/n`,
// `a-b/n`, `a/n` or a comma list of these; months JAN-DEC and days SUN-SAT by name too, day 7 is Sunday. When
// both day fields are restricted a day matches either (as cron does).
class Cron {
 public:
  // Throws std::invalid_argument saying what is wrong.
  explicit Cron(const std::string& expression);
  // The first minute at or after `t_s` (epoch seconds) that matches, in the zone `offset_s` east of UTC;
  // nullopt when none within 8 years (e.g. 30 February).
  std::optional<double> next_at_or_after(double t_s, long offset_s) const;

 private:
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;
  std::bitset<13> month_;
  std::bitset<7> dow_;
  bool dom_any_ = true, dow_any_ = true;
};

}  // namespace autoscale::wrappers
