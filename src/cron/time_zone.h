// IANA time zones read from the system's TZif files (/usr/share/zoneinfo, package tzdata), for
// CronWorkflow schedules. GCC 12's library has no std::chrono time zone database, and setting TZ
// for localtime_r/mktime would race with every other thread that formats local time, so the
// transitions are read from the file into a value that is then immutable.
// Times past the file's last transition keep its last offset; Debian's tzdata writes transitions
// up to 2037, so schedules are exact until then.
// Thread-safety: a loaded TimeZone is immutable and safe to share.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/error.h"

namespace hubspoke::cron {

class TimeZone {
 public:
  // "" is the hub's own zone (/etc/localtime, else UTC); "UTC" and IANA names such as
  // "America/New_York" are read from /usr/share/zoneinfo (or $TZDIR). InvalidArgument names the
  // zone when it is unknown.
  static Result<TimeZone> Load(const std::string& name);
  static TimeZone Utc();

  // Seconds east of UTC in effect at `utc` (seconds since the epoch).
  int32_t OffsetAt(int64_t utc) const;
  // The instants whose local time is `local` (seconds since 1970-01-01T00:00 local): none when the
  // time is skipped by a change to summer time, two (earliest first) when it is repeated.
  std::vector<int64_t> ToUtc(int64_t local) const;

 private:
  std::vector<int64_t> transitions_;  // ascending instants at which offsets_[i] begins
  std::vector<int32_t> offsets_;      // same size as transitions_
  int32_t initial_offset_ = 0;        // before the first transition
};

}  // namespace hubspoke::cron
