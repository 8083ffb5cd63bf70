// CronWorkflow schedules: the standard five cron fields (minute hour day-of-month month
// day-of-week, with *, lists, ranges, steps and the names JAN..DEC and SUN..SAT), the descriptors
// @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly, and @every <duration> (Go
// syntax, such as 90s or 1h30m; at least one second).
// As in cron, when both day fields are restricted a day matching either one fires; a local time
// skipped by a change to summer time does not fire that day, and a repeated local time fires once
// (at its first occurrence).
// Thread-safety: a parsed Schedule is immutable.
#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "common/error.h"
#include "cron/time_zone.h"

namespace hubspoke::cron {

class Schedule {
 public:
  // InvalidArgument names the field and value at fault.
  static Result<Schedule> Parse(const std::string& text);

  // The first time strictly after `after` (seconds since the epoch) at which the schedule fires,
  // reading the fields in `zone`; nullopt when it never fires again within nine years (such as
  // "0 0 30 2 *").
  std::optional<int64_t> Next(int64_t after, const TimeZone& zone) const;

  const std::string& text() const { return text_; }

 private:
  bool DayMatches(int day_of_month, int weekday) const;

  std::string text_;
  int64_t every_ = 0;  // @every, in seconds; 0 for the field form
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_of_month_ = false;
  bool any_weekday_ = false;
};

// A Go duration ("1h30m", "90s", "1.5h") in whole seconds (fractions are dropped).
Result<int64_t> ParseGoDurationSeconds(const std::string& text);

}  // namespace hubspoke::cron
