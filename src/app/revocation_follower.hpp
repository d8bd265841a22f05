// issue16:revlog. RevocationFollower: one thread that keeps a node's RevocationSet following
// the revocations log: poll once at start, then forever wait(notified, or the poll interval)
// -> poll(). With PgNotifyWaker a revocation committed through any node reaches this one as
// soon as its NOTIFY does (one read of the log); when a notification is lost (the listening
// connection broke, a proxy dropped it) the next interval's read catches up, so the delay is
// bounded by the poll interval (docs/operations.md, "Revocation across nodes").
// make_revocation_waker chooses the waker from the configuration.
// Thread safety: start() and stop() from the owning thread; poll must be thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "app/config.hpp"
#include "store/revocation_waker.hpp"

namespace stagepass {

// True for a PostgreSQL connection URI (postgresql:// or postgres://).
bool is_postgresql_url(const std::string& database);

// STAGEPASS_REVOCATION_PUSH: `notify` (the default on PostgreSQL) LISTENs on `database`;
// `poll` (and SQLite, always) waits for the interval only. Throws std::runtime_error for any
// other value, or `notify` on SQLite.
std::unique_ptr<RevocationWaker> make_revocation_waker(const Config& cfg);

class RevocationFollower {
 public:
  RevocationFollower(RevocationWaker& waker, std::function<void()> poll,
                     std::chrono::milliseconds interval)
      : waker_(waker), poll_(std::move(poll)), interval_(interval) {}
  ~RevocationFollower() { stop(); }
  RevocationFollower(const RevocationFollower&) = delete;
  RevocationFollower& operator=(const RevocationFollower&) = delete;

  void start();
  // Stops the waker (its current wait returns) and joins the thread.
  void stop();

 private:
  RevocationWaker& waker_;
  std::function<void()> poll_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace stagepass
