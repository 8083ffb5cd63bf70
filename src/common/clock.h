// Time as an interface: the engine and the hub read time only through a Clock, so tests drive it
// with FakeClock and never sleep. Times are microseconds since the Unix epoch.
// Thread-safety: SystemClock is stateless; FakeClock is safe to read and advance from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace hubspoke {

using Micros = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Micros Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  Micros Now() const override;
};

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Micros start = 1'700'000'000'000'000) : now_(start) {}
  Micros Now() const override { return now_.load(); }
  void Advance(Micros d) { now_ += d; }
  void Set(Micros t) { now_ = t; }

 private:
  std::atomic<Micros> now_;
};

// RFC 3339 UTC with second precision, as Argo prints timestamps: "2024-01-02T03:04:05Z".
std::string FormatRfc3339(Micros t);

// Monotonic microseconds for measuring durations inside one process.
Micros MonotonicMicros();

}  // namespace hubspoke
