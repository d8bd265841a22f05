#include "app/background.hpp"

#include "monitor/log.hpp"

namespace stagepass {

void Background::start() {
  thread_ = std::thread([this] {
    // Ticks every period from the start, not a period after the chores ended: with each
    // chore's time added to the next wait, the ticks drifted and skipped whole seconds, which
    // a scheduled key rotation (key_schedule.hpp) counts on not to happen often. Chores that
    // overrun the next tick get a whole period of rest after them, as before, and the schedule
    // moves on from there: a pruning pass behind its work (Pruner) goes on every tick, and
    // must not go on without a pause.
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
      if (Clock::now() >= next) next += period_;
      for (const auto& c : chores_) {
        if (!all && tick % static_cast<uint64_t>(c.every) != 0) continue;
        try {
          c.run();
        } catch (const std::exception& e) {
          log::event("error", "background chore failed", {{"error", e.what()}});
        }
      }
      const auto ended = Clock::now();
      if (ended >= next) next = ended + period_;
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
