#include "common/clock.h"

#include <chrono>
#include <ctime>

namespace hubspoke {

Micros SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Every stored node carries two or three of these, so they are written digit by digit (gmtime_r
// and strftime cost ten times as much); a year past 9999 goes through strftime.
std::string FormatRfc3339(Micros t) {
  if (t <= 0) return "";
  const int64_t secs = t / 1'000'000;
  constexpr int64_t kYear10000 = 253'402'300'800;
  char buf[32];
  if (secs >= kYear10000) {
    time_t s = static_cast<time_t>(secs);
    struct tm tm_utc;
    gmtime_r(&s, &tm_utc);
    return std::string(buf, strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm_utc));
  }
  const std::chrono::year_month_day date{std::chrono::sys_days{std::chrono::days{secs / 86'400}}};
  const int64_t in_day = secs % 86'400;
  auto put = [&](int at, int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10)
      buf[at + i] = static_cast<char>('0' + value % 10);
  };
  put(0, static_cast<int>(date.year()), 4);
  put(5, static_cast<unsigned>(date.month()), 2);
  put(8, static_cast<unsigned>(date.day()), 2);
  put(11, in_day / 3600, 2);
  put(14, in_day / 60 % 60, 2);
  put(17, in_day % 60, 2);
  buf[4] = buf[7] = '-';
  buf[10] = 'T';
  buf[13] = buf[16] = ':';
  buf[19] = 'Z';
  return std::string(buf, 20);
}

Micros MonotonicMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace hubspoke
