#include "cron/schedule.h"

#include <cctype>
#include <cmath>
#include <sstream>
#include <vector>

namespace hubspoke::cron {
namespace {

struct Field {
  const char* name;
  int min;
  int max;
  const char* const* names;  // names[i] stands for min + i, or nullptr
};

constexpr const char* kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",  "JUL",
                                       "AUG", "SEP", "OCT", "NOV", "DEC", nullptr};
constexpr const char* kWeekdayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", nullptr};

constexpr Field kFields[] = {
    {"minute", 0, 59, nullptr},           {"hour", 0, 23, nullptr},
    {"day-of-month", 1, 31, nullptr},     {"month", 1, 12, kMonthNames},
    {"day-of-week", 0, 7, kWeekdayNames},  // 7 is Sunday too
};

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

Result<int> Value(const Field& f, const std::string& text, const std::string& item) {
  auto bad = [&](const std::string& why) {
    return Fail(InvalidArgument(std::string(f.name) + " field \"" + item + "\": " + why));
  };
  if (text.empty()) return bad("a number is missing");
  if (f.names) {
    std::string u = Upper(text);
    for (int i = 0; f.names[i]; ++i) {
      if (u == f.names[i]) return f.min + i;
    }
  }
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return bad("\"" + text + "\" is not a number" +
                 (f.names ? std::string(" or a name such as ") + f.names[0] : std::string()));
    }
  }
  if (text.size() > 4) return bad(text + " is out of range");
  int v = std::stoi(text);
  if (v < f.min || v > f.max) {
    return bad(text + " is out of range " + std::to_string(f.min) + "-" + std::to_string(f.max));
  }
  return v;
}

// Sets the bits of one field ("*/15", "1-5,10", "MON-FRI"); `star` tells whether it began with
// * or ? (cron's "any").
Status ParseField(const Field& f, const std::string& text, std::vector<bool>& bits, bool& star) {
  star = !text.empty() && (text[0] == '*' || text[0] == '?');
  std::stringstream items(text);
  std::string item;
  while (std::getline(items, item, ',')) {
    std::string range = item;
    int step = 1;
    if (size_t slash = item.find('/'); slash != std::string::npos) {
      range = item.substr(0, slash);
      std::string s = item.substr(slash + 1);
      if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(s) == 0) {
        return InvalidArgument(std::string(f.name) + " field \"" + item +
                               "\": the step must be a positive number");
      }
      step = std::stoi(s);
    }
    int lo, hi;
    if (range == "*" || range == "?") {
      lo = f.min;
      hi = f.max == 7 ? 6 : f.max;
    } else {
      size_t dash = range.find('-');
      auto first = Value(f, range.substr(0, dash), item);
      if (!first) return first.error();
      lo = hi = *first;
      if (dash != std::string::npos) {
        auto last = Value(f, range.substr(dash + 1), item);
        if (!last) return last.error();
        hi = *last;
      } else if (step > 1 || item.find('/') != std::string::npos) {
        hi = f.max;  // "5/15": from 5 to the end
      }
      if (lo > hi) {
        return InvalidArgument(std::string(f.name) + " field \"" + item +
                               "\": the range runs backwards");
      }
    }
    for (int v = lo; v <= hi; v += step) bits[v] = true;
  }
  if (text.empty() || text.back() == ',') {
    return InvalidArgument(std::string(f.name) + " field \"" + text + "\": an item is missing");
  }
  return {};
}

// Howard Hinnant's civil-from-days: the date of day `z` since 1970-01-01.
void CivilFromDays(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

}  // namespace

Result<int64_t> ParseGoDurationSeconds(const std::string& text) {
  auto bad = [&] {
    return Fail(InvalidArgument("\"" + text + "\" is not a duration such as 30s, 5m or 1h30m"));
  };
  size_t i = 0;
  double total = 0;
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return bad();
    double number = std::stod(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale;
    if (unit == "h")
      scale = 3600;
    else if (unit == "m")
      scale = 60;
    else if (unit == "s")
      scale = 1;
    else if (unit == "ms")
      scale = 1e-3;
    else if (unit == "us" || unit == "µs")
      scale = 1e-6;
    else if (unit == "ns")
      scale = 1e-9;
    else
      return bad();
    total += number * scale;
  }
  return static_cast<int64_t>(std::floor(total));
}

Result<Schedule> Schedule::Parse(const std::string& raw) {
  Schedule s;
  size_t b = raw.find_first_not_of(" \t"), e = raw.find_last_not_of(" \t");
  s.text_ = b == std::string::npos ? "" : raw.substr(b, e - b + 1);
  auto fail = [&](const Error& why) {
    return Fail(InvalidArgument("schedule \"" + s.text_ + "\": " + why.message));
  };
  std::string text = s.text_;
  if (text.rfind("@every", 0) == 0) {
    std::string d = text.substr(6);
    d.erase(0, d.find_first_not_of(" \t"));
    auto secs = ParseGoDurationSeconds(d);
    if (!secs) return fail(secs.error());
    if (*secs < 1) return fail(InvalidArgument("@every needs at least one second"));
    s.every_ = *secs;
    return s;
  }
  if (!text.empty() && text[0] == '@') {
    static const std::pair<const char*, const char*> kDescriptors[] = {
        {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
        {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
        {"@hourly", "0 * * * *"}};
    std::string expanded;
    for (const auto& [name, fields] : kDescriptors) {
      if (text == name) expanded = fields;
    }
    if (expanded.empty()) {
      return fail(InvalidArgument(
          "unknown descriptor; expected @yearly, @annually, @monthly, @weekly, @daily, "
          "@midnight, @hourly or @every <duration>"));
    }
    text = expanded;
  }
  std::vector<std::string> fields;
  std::stringstream in(text);
  for (std::string f; in >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return fail(
        InvalidArgument("expected 5 fields (minute hour day-of-month month day-of-week), got " +
                        std::to_string(fields.size())));
  }
  bool star[5];
  std::vector<bool> bits[5];
  for (int i = 0; i < 5; ++i) {
    bits[i].assign(kFields[i].max + 1, false);
    if (Status st = ParseField(kFields[i], fields[i], bits[i], star[i]); !st) {
      return fail(st.error());
    }
  }
  for (int v = 0; v < 60; ++v) s.minutes_[v] = bits[0][v];
  for (int v = 0; v < 24; ++v) s.hours_[v] = bits[1][v];
  for (int v = 1; v <= 31; ++v) s.days_[v] = bits[2][v];
  for (int v = 1; v <= 12; ++v) s.months_[v] = bits[3][v];
  for (int v = 0; v <= 6; ++v) s.weekdays_[v] = bits[4][v];
  if (bits[4][7]) s.weekdays_[0] = true;
  s.any_day_of_month_ = star[2];
  s.any_weekday_ = star[4];
  return s;
}

bool Schedule::DayMatches(int day_of_month, int weekday) const {
  bool dom = days_[day_of_month], dow = weekdays_[weekday];
  if (any_day_of_month_ || any_weekday_) return dom && dow;
  return dom || dow;
}

std::optional<int64_t> Schedule::Next(int64_t after, const TimeZone& zone) const {
  if (every_ > 0) return after + every_;
  // Walk local civil time from the minute after `after`'s local time.
  int64_t start = FloorDiv(after + zone.OffsetAt(after), 60) * 60 + 60;
  int64_t day = FloorDiv(start, 86400);
  int64_t from = start - day * 86400;  // seconds into the first day
  for (int i = 0; i < 366 * 9; ++i, ++day, from = 0) {
    int y, m, d;
    CivilFromDays(day, y, m, d);
    int weekday = static_cast<int>(((day % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
    if (!months_[m] || !DayMatches(d, weekday)) continue;
    for (int h = 0; h < 24; ++h) {
      if (!hours_[h] || h * 3600 + 59 * 60 < from) continue;
      for (int mi = 0; mi < 60; ++mi) {
        int64_t sec = h * 3600 + mi * 60;
        if (!minutes_[mi] || sec < from) continue;
        std::vector<int64_t> instants = zone.ToUtc(day * 86400 + sec);
        if (!instants.empty() && instants.front() > after) return instants.front();
      }
    }
  }
  return std::nullopt;
}

}  // namespace hubspoke::cron
