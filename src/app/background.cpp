#include "app/background.hpp"

#include "monitor/log.hpp"

namespace stagepass {

void Background::start() {
  thread_ = std::thread([this] {
    for (uint64_t tick = 0;; ++tick) {
      bool all = false;
      {
        std::unique_lock lk(mu_);
        cv_.wait_for(lk, period_, [&] { return poked_ || stopping_; });
        if (stopping_) return;
        all = poked_;
        poked_ = false;
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
