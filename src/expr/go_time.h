// Private: Go time layouts ("2006-01-02T15:04:05Z07:00") for sprig's date function, parsing
// of RFC 3339 timestamps (Argo's `workflow.creationTimestamp`) and of Go durations ("1h30m").
// Times are formatted in UTC.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hubspoke::expr::internal {

// An instant: whole seconds since the Unix epoch plus nanoseconds (0 to 999999999).
struct Instant {
  int64_t seconds = 0;
  int32_t nanos = 0;
};

// Parses "2024-03-05T07:08:09Z", "2024-03-05T07:08:09.5+02:00" and the like; nullopt when the
// text is not an RFC 3339 date-time.
std::optional<Instant> ParseRfc3339(std::string_view text);

// Formats `t` in UTC by a Go layout: 2006 06 / 01 1 Jan January / 02 2 _2 002 / Mon Monday /
// 15 03 3 / 04 4 / 05 5 / PM pm / .000 .999 (fractions) / MST -0700 -07:00 -07 Z07:00 Z0700 Z07.
// Other text is copied.
std::string FormatGoLayout(std::string_view layout, Instant t);

// Parses a Go duration as time.ParseDuration does: an optional sign, then decimal numbers with
// optional fractions, each with a unit ns, us (or µs), ms, s, m, h ("1h30m", "-1.5s", "0").
// Nanoseconds; nullopt when malformed or beyond int64 nanoseconds.
std::optional<int64_t> ParseGoDuration(std::string_view text);

}  // namespace hubspoke::expr::internal
