#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>

namespace hubspoke {
namespace {
std::atomic<LogLevel> g_level{LogLevel::kWarn};
}

void SetLogLevel(LogLevel level) { g_level = level; }
LogLevel GetLogLevel() { return g_level; }

void Log(LogLevel level, std::string_view message) {
  if (level < g_level.load()) return;
  static constexpr char kTag[] = "DIWE";
  auto now = std::chrono::system_clock::now();
  time_t secs = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  struct tm tm_local;
  localtime_r(&secs, &tm_local);
  char stamp[16];
  strftime(stamp, sizeof stamp, "%H:%M:%S", &tm_local);
  std::string line;
  line.reserve(message.size() + 20);
  line += kTag[static_cast<int>(level)];
  line += ' ';
  line += stamp;
  char msbuf[8];
  snprintf(msbuf, sizeof msbuf, ".%03d ", ms);
  line += msbuf;
  line += message;
  line += '\n';
  fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace hubspoke
