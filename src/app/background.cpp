#include "app/background.hpp"

#include "monitor/log.hpp"

namespace stagepass {

void Background::start() {
  thread_ = std::thread([this] {
    // Ticks every period from the start, not a period after the chores ended: with each
    // chore's time added to the next wait, the ticks drifted and skipped whole seconds, and a
    // scheduled key rotation (key_schedule.hpp) found due a second late started its key a
    // second late. A tick that comes over a period late moves the schedule on instead of
    // running the missed ones in a burst.
    using Clock = std::chrono::steady_clock;
    auto next = Clock::now() + period_;
    for (uint64_t tick = 0;; ++tick) {
      bool all = false;
      {
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, next, [&] { return poked_ || stopping_; });
        if (stopping_) return;
        all = poked_;
        poked_ = false;
      }
      const auto now = Clock::now();
      if (now >= next) {
        next += period_;
        if (next <= now) next = now + period_;
      }
      for (const auto& c : chores_) {
        if (!all && tick % static_cast<uint64_t>(c.every) != 0) continue;
        try {
          c.run();
        } catch (const std::exception& e) {
          log::event("error", "background chore failed", {{"error", e.what()}});
        }
      }
    }
  });
}

void Background::poke() {
  {
    std::lock_guard lk(mu_);
    poked_ = true;
  }
  cv_.notify_one();
}

void Background::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

}  // namespace stagepass
