#include "cron/time_zone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace hubspoke::cron {
namespace {

int64_t BigEndian(const std::string& data, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(data[at + i]);
  if (bytes == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

bool ValidName(const std::string& name) {
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' ||
           c == '+';
  });
}

}  // namespace

TimeZone TimeZone::Utc() { return TimeZone(); }

Result<TimeZone> TimeZone::Load(const std::string& name) {
  std::string path;
  if (name.empty()) {
    path = "/etc/localtime";
  } else if (!ValidName(name)) {
    return Fail(InvalidArgument("unknown time zone \"" + name +
                                "\": expected an IANA name such as America/New_York or UTC"));
  } else {
    const char* dir = std::getenv("TZDIR");
    path = std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + name;
  }
  std::ifstream in(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (name.empty() && data.empty()) return Utc();
  if (data.size() < 44 || data.compare(0, 4, "TZif") != 0) {
    return Fail(InvalidArgument("unknown time zone \"" + name + "\": no time zone data at " + path +
                                " (is the tzdata package installed?)"));
  }
  TimeZone zone;
  // Header: magic(4) version(1) reserved(15) then six 32-bit counts.
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = BigEndian(data, at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  size_t at = 44;
  int time_bytes = 4;
  if (data[4] >= '2') {
    // Skip the version 1 block; the version 2+ block repeats it with 64-bit times.
    at += c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    if (data.size() < at + 44) return Fail(InvalidArgument("time zone file " + path + " is cut"));
    counts(at, c);
    at += 44;
    time_bytes = 8;
  }
  size_t need = at + c[3] * time_bytes + c[3] + c[4] * 6;
  if (c[4] == 0 || data.size() < need) {
    return Fail(InvalidArgument("time zone file " + path + " is cut"));
  }
  std::vector<int> type_of(c[3]);
  size_t types_at = at + c[3] * time_bytes + c[3];
  auto type_offset = [&](int64_t t) {
    return static_cast<int32_t>(BigEndian(data, types_at + 6 * t, 4));
  };
  for (int64_t i = 0; i < c[3]; ++i) {
    int64_t type = static_cast<unsigned char>(data[at + c[3] * time_bytes + i]);
    if (type >= c[4]) return Fail(InvalidArgument("time zone file " + path + " is corrupt"));
    zone.transitions_.push_back(BigEndian(data, at + i * time_bytes, time_bytes));
    zone.offsets_.push_back(type_offset(type));
  }
  zone.initial_offset_ = type_offset(0);
  return zone;
}

int32_t TimeZone::OffsetAt(int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[it - transitions_.begin() - 1];
}

std::vector<int64_t> TimeZone::ToUtc(int64_t local) const {
  // Offsets are within a day of UTC, so the offsets in effect a day either side cover every
  // instant whose local time can be `local`.
  std::vector<int64_t> out;
  for (int32_t offset : {OffsetAt(local - 86400), OffsetAt(local), OffsetAt(local + 86400)}) {
    int64_t utc = local - offset;
    if (OffsetAt(utc) == offset && std::find(out.begin(), out.end(), utc) == out.end()) {
      out.push_back(utc);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hubspoke::cron
