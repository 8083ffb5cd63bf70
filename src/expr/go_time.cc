#include "expr/go_time.h"

#include <array>
#include <chrono>

namespace hubspoke::expr::internal {
namespace {

namespace chrono = std::chrono;

constexpr std::array<std::string_view, 12> kMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 7> kWeekdays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at text[*pos].
std::optional<int> ReadDigits(std::string_view text, size_t* pos, size_t n) {
  if (*pos + n > text.size()) return std::nullopt;
  int value = 0;
  for (size_t k = 0; k < n; ++k) {
    char c = text[*pos + k];
    if (!IsDigit(c)) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  return value;
}

bool Expect(std::string_view text, size_t* pos, std::string_view one_of) {
  if (*pos >= text.size() || one_of.find(text[*pos]) == std::string_view::npos) return false;
  ++*pos;
  return true;
}

// `value` in decimal, left-padded with `pad` to `width` characters.
std::string Padded(int64_t value, size_t width, char pad = '0') {
  std::string digits = std::to_string(value);
  return digits.size() >= width ? digits : std::string(width - digits.size(), pad) + digits;
}

// The layout element starting at layout[i] and its length, or {"", 0} for a literal character.
// Longer elements are tried first, as Go does ("January" before "Jan", "2006" before "2").
std::pair<std::string_view, size_t> NextElement(std::string_view layout, size_t i) {
  static constexpr std::string_view kElements[] = {
      "January",   "Jan",     "Monday", "Mon",   "MST", "2006",      "002",     "__2",    "_2",
      "-07:00:00", "-070000", "-07:00", "-0700", "-07", "Z07:00:00", "Z070000", "Z07:00", "Z0700",
      "Z07",       "01",      "02",     "03",    "04",  "05",        "06",      "15",     "PM",
      "pm",        "1",       "2",      "3",     "4",   "5"};
  std::string_view rest = layout.substr(i);
  char c = rest.front();
  if ((c == '.' || c == ',') && rest.size() > 1 && (rest[1] == '0' || rest[1] == '9')) {
    size_t end = 1;
    while (end < rest.size() && rest[end] == rest[1]) ++end;
    if (end == rest.size() || !IsDigit(rest[end])) return {rest.substr(0, end), end};
  }
  // "_2006" is a literal '_' followed by the year.
  if (rest.starts_with("_2006")) return {"", 0};
  for (std::string_view element : kElements) {
    if (rest.starts_with(element)) return {element, element.size()};
  }
  return {"", 0};
}

// Nanoseconds per unit of a Go duration; 0 when `unit` is none.
int64_t DurationUnit(std::string_view unit) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ns", 1},          {"us", 1'000},        {"\u00b5s", 1'000},  // micro sign
      {"\u03bcs", 1'000},                                            // Greek mu
      {"ms", 1'000'000},  {"s", 1'000'000'000}, {"m", 60'000'000'000}, {"h", 3'600'000'000'000}};
  for (const auto& [name, nanos] : kUnits) {
    if (name == unit) return nanos;
  }
  return 0;
}

}  // namespace

std::optional<int64_t> ParseGoDuration(std::string_view text) {
  bool negative = !text.empty() && text.front() == '-';
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;
  // Summed as unsigned nanoseconds: -9223372036854775808ns is valid, its opposite is not.
  unsigned __int128 total = 0;
  constexpr unsigned __int128 kLimit = static_cast<unsigned __int128>(1) << 63;
  size_t pos = 0;
  while (pos < text.size()) {
    unsigned __int128 whole = 0;
    size_t start = pos;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos) {
      whole = whole * 10 + static_cast<unsigned>(text[pos] - '0');
      if (whole > kLimit) return std::nullopt;
    }
    bool had_whole = pos > start;
    unsigned __int128 fraction = 0;
    unsigned __int128 scale = 1;
    bool had_fraction = false;
    if (pos < text.size() && text[pos] == '.') {
      for (++pos; pos < text.size() && IsDigit(text[pos]); ++pos) {
        had_fraction = true;
        if (scale < static_cast<unsigned __int128>(1'000'000'000'000'000'000)) {
          fraction = fraction * 10 + static_cast<unsigned>(text[pos] - '0');
          scale *= 10;
        }
      }
    }
    if (!had_whole && !had_fraction) return std::nullopt;
    size_t unit_start = pos;
    while (pos < text.size() && text[pos] != '.' && !IsDigit(text[pos])) ++pos;
    int64_t unit = DurationUnit(text.substr(unit_start, pos - unit_start));
    if (unit == 0) return std::nullopt;
    auto u = static_cast<unsigned __int128>(unit);
    total += whole * u + fraction * u / scale;
    if (total > kLimit) return std::nullopt;
  }
  if (!negative && total == kLimit) return std::nullopt;
  return negative ? static_cast<int64_t>(-static_cast<__int128>(total))
                  : static_cast<int64_t>(total);
}

std::optional<Instant> ParseRfc3339(std::string_view text) {
  size_t pos = 0;
  auto year = ReadDigits(text, &pos, 4);
  if (!year || !Expect(text, &pos, "-")) return std::nullopt;
  auto month = ReadDigits(text, &pos, 2);
  if (!month || !Expect(text, &pos, "-")) return std::nullopt;
  auto day = ReadDigits(text, &pos, 2);
  if (!day || !Expect(text, &pos, "Tt")) return std::nullopt;
  auto hour = ReadDigits(text, &pos, 2);
  if (!hour || !Expect(text, &pos, ":")) return std::nullopt;
  auto minute = ReadDigits(text, &pos, 2);
  if (!minute || !Expect(text, &pos, ":")) return std::nullopt;
  auto second = ReadDigits(text, &pos, 2);
  if (!second || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  int32_t nanos = 0;
  if (Expect(text, &pos, ".")) {
    size_t start = pos;
    int64_t scale = 100000000;
    for (; pos < text.size() && IsDigit(text[pos]); ++pos, scale /= 10) {
      nanos += static_cast<int32_t>((text[pos] - '0') * scale);
    }
    if (pos == start) return std::nullopt;
  }
  int offset_seconds = 0;
  if (!Expect(text, &pos, "Zz")) {
    if (pos >= text.size()) return std::nullopt;
    int sign = text[pos] == '-' ? -1 : 1;
    if (!Expect(text, &pos, "+-")) return std::nullopt;
    auto offset_hours = ReadDigits(text, &pos, 2);
    if (!offset_hours || !Expect(text, &pos, ":")) return std::nullopt;
    auto offset_minutes = ReadDigits(text, &pos, 2);
    if (!offset_minutes || *offset_hours > 23 || *offset_minutes > 59) return std::nullopt;
    offset_seconds = sign * (*offset_hours * 3600 + *offset_minutes * 60);
  }
  if (pos != text.size()) return std::nullopt;
  chrono::year_month_day date{chrono::year(*year), chrono::month(static_cast<unsigned>(*month)),
                              chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok()) return std::nullopt;
  auto seconds = chrono::sys_days(date).time_since_epoch().count() * int64_t{86400} + *hour * 3600 +
                 *minute * 60 + *second - offset_seconds;
  return Instant{seconds, nanos};
}

std::string FormatGoLayout(std::string_view layout, Instant t) {
  chrono::sys_seconds time{chrono::seconds(t.seconds)};
  auto days = chrono::floor<chrono::days>(time);
  chrono::year_month_day date{days};
  chrono::hh_mm_ss clock{time - days};
  int64_t year = static_cast<int>(date.year());
  unsigned month = static_cast<unsigned>(date.month());
  unsigned day = static_cast<unsigned>(date.day());
  int64_t hour = clock.hours().count();
  int64_t hour12 = hour % 12 == 0 ? 12 : hour % 12;
  int64_t year_day = (days - chrono::sys_days(date.year() / 1 / 1)).count() + 1;
  std::string_view weekday = kWeekdays[chrono::weekday(days).c_encoding()];
  std::string_view month_name = kMonths[month - 1];
  std::string out;
  for (size_t i = 0; i < layout.size();) {
    auto [element, size] = NextElement(layout, i);
    if (size == 0) {
      out += layout[i++];
      continue;
    }
    i += size;
    char c = element.front();
    if (element == "January") {
      out += month_name;
    } else if (element == "Jan") {
      out += month_name.substr(0, 3);
    } else if (element == "Monday") {
      out += weekday;
    } else if (element == "Mon") {
      out += weekday.substr(0, 3);
    } else if (element == "MST") {
      out += "UTC";
    } else if (element == "2006") {
      out += Padded(year, 4);
    } else if (element == "06") {
      out += Padded(year % 100, 2);
    } else if (element == "01" || element == "1") {
      out += Padded(month, element.size());
    } else if (element == "02" || element == "2") {
      out += Padded(day, element.size());
    } else if (element == "_2") {
      out += Padded(day, 2, ' ');
    } else if (element == "002") {
      out += Padded(year_day, 3);
    } else if (element == "__2") {
      out += Padded(year_day, 3, ' ');
    } else if (element == "15") {
      out += Padded(hour, 2);
    } else if (element == "03" || element == "3") {
      out += Padded(hour12, element.size());
    } else if (element == "04" || element == "4") {
      out += Padded(clock.minutes().count(), element.size());
    } else if (element == "05" || element == "5") {
      out += Padded(clock.seconds().count(), element.size());
    } else if (element == "PM" || element == "pm") {
      out += hour >= 12 ? element : (c == 'P' ? "AM" : "am");
    } else if (c == 'Z') {
      out += 'Z';
    } else if (c == '-') {  // UTC offsets: zero, in the element's shape
      for (char e : element) out += e == '-' ? '+' : e == ':' ? ':' : '0';
    } else {  // fractional seconds: ".000" keeps every digit, ".999" drops trailing zeros
      std::string digits = Padded(t.nanos, 9).substr(0, size - 1);
      if (element[1] == '9') {
        while (!digits.empty() && digits.back() == '0') digits.pop_back();
        if (digits.empty()) continue;
      }
      out += c;
      out += digits;
    }
  }
  return out;
}

}  // namespace hubspoke::expr::internal
