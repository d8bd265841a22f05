// Clock: the source of "now", injected so expiry, rotation, throttling and the times the Web
// API records are testable without sleeping. Times count from the Unix epoch.
// Thread safety: implementations are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace stagepass {

class Clock {
 public:
  virtual ~Clock() = default;
  // Seconds since the Unix epoch.
  virtual int64_t now() const = 0;
  // Microseconds since the Unix epoch, for what needs more than whole seconds (the time part
  // of opaque tokens, the Web API's millisecond timestamps). The same instant as now(): a
  // clock that only keeps seconds answers now() * 1,000,000.
  virtual int64_t now_us() const { return now() * 1'000'000; }
  int64_t now_ms() const { return now_us() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t now() const override { return now_us() / 1'000'000; }
  int64_t now_us() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock tests move by hand (whole seconds).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start) : now_(start) {}
  int64_t now() const override { return now_.load(); }
  void advance(int64_t seconds) { now_ += seconds; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace stagepass
