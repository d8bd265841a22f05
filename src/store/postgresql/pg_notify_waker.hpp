// issue16:revlog. PgNotifyWaker: the RevocationWaker (store/revocation_waker.hpp) that
// LISTENs on kRevocationChannel (pg_revocation_log.hpp) on one dedicated libpq connection of
// its own and waits on that connection's socket (poll(2), with the caller's timeout).
// wait() returns true when a notification arrived, and after every successful (re)connect:
// notifications sent while it was not listening are lost, so the reader catches up then.
// When the server goes away (restart, pg_terminate_backend, network) it reconnects with
// exponential backoff (100 ms doubling to `max_backoff`), each attempt bounded by libpq's
// connect_timeout; meanwhile wait() returns false at its timeout, so the follower keeps
// polling (which fails until the database returns).
// Thread safety: wait() from one thread at a time; stop() from any thread.
#pragma once

#include <libpq-fe.h>

#include <atomic>
#include <chrono>
#include <string>

#include "store/revocation_waker.hpp"

namespace stagepass::postgresql {

class PgNotifyWaker final : public RevocationWaker {
 public:
  // `dbname`, when not empty, replaces the URL's database (tests).
  explicit PgNotifyWaker(std::string url, std::string dbname = "",
                         std::chrono::milliseconds max_backoff = std::chrono::seconds(5));
  ~PgNotifyWaker() override;
  PgNotifyWaker(const PgNotifyWaker&) = delete;
  PgNotifyWaker& operator=(const PgNotifyWaker&) = delete;

  bool wait(std::chrono::milliseconds timeout) override;
  void stop() override;

  // The listening session's backend pid (0 while not connected), and how many times it has
  // connected so far: for tests and metrics.
  int backend_pid() const { return pid_.load(); }
  uint64_t connects() const { return connects_.load(); }

 private:
  using Clock = std::chrono::steady_clock;
  bool connect();     // true: listening now
  void disconnect();  // drops the connection; the next wait() reconnects after the backoff
  bool drain();       // true if a notification was queued (and consumes them all)
  // Waits for the socket (or only the stop event when fd < 0) until `until`; true if fd
  // became readable.
  bool wait_fd(int fd, Clock::time_point until);

  const std::string url_;
  const std::string dbname_;
  const std::chrono::milliseconds max_backoff_;
  PGconn* conn_ = nullptr;
  int stop_fd_ = -1;  // eventfd: stop() makes it readable
  std::atomic<bool> stopped_{false};
  std::chrono::milliseconds backoff_{0};
  Clock::time_point next_attempt_{};
  std::atomic<int> pid_{0};
  std::atomic<uint64_t> connects_{0};
};

}  // namespace stagepass::postgresql
