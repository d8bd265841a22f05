// issue16:revlog. RevocationWaker: "wake the feed". A node's revocation follower
// (app/revocation_follower.hpp) loops wait(poll interval) -> RevocationFeed::poll(), so every
// revocation reaches the node's RevocationSet within the poll interval even when a
// notification is lost, and at once when one arrives. Implementations:
//   PollingWaker (below)         just the interval: SQLite, and PostgreSQL behind a
//                                transaction-pooling proxy (NOTIFY does not pass through)
//   postgresql::PgNotifyWaker    LISTEN on a dedicated connection (pg_notify_waker.hpp)
// Thread safety: wait() from one thread (the follower's); stop() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace stagepass {

class RevocationWaker {
 public:
  virtual ~RevocationWaker() = default;
  // Blocks until the log may hold something new (a notification came, or the waker
  // (re)connected, which may have missed some: true, read now), `timeout` passed (false: read
  // anyway, a notification may have been lost) or stop() was called (false).
  virtual bool wait(std::chrono::milliseconds timeout) = 0;
  // Makes the current and every later wait() return at once.
  virtual void stop() = 0;
};

class PollingWaker final : public RevocationWaker {
 public:
  bool wait(std::chrono::milliseconds timeout) override {
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, timeout, [this] { return stopped_; });
    return false;
  }
  void stop() override {
    {
      std::lock_guard lk(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace stagepass
