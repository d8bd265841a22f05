#include "store/postgresql/pg_notify_waker.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

#include "store/postgresql/pg_revocation_log.hpp"

namespace stagepass::postgresql {
namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};

}  // namespace

PgNotifyWaker::PgNotifyWaker(std::string url, std::string dbname,
                             std::chrono::milliseconds max_backoff)
    : url_(std::move(url)), dbname_(std::move(dbname)), max_backoff_(max_backoff) {
  stop_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

PgNotifyWaker::~PgNotifyWaker() {
  disconnect();
  if (stop_fd_ >= 0) ::close(stop_fd_);
}

void PgNotifyWaker::stop() {
  stopped_ = true;
  const uint64_t one = 1;
  if (stop_fd_ >= 0) (void)!::write(stop_fd_, &one, sizeof one);
}

bool PgNotifyWaker::connect() {
  // connect_timeout bounds one attempt (libpq's own setting, in seconds).
  // expand_dbname = 1: the first "dbname" is the URL; a second one only names the database.
  const bool other_db = !dbname_.empty();
  const char* keys[] = {"connect_timeout", "dbname", other_db ? "dbname" : nullptr, nullptr};
  const char* values[] = {"5", url_.c_str(), other_db ? dbname_.c_str() : nullptr, nullptr};
  conn_ = PQconnectdbParams(keys, values, 1);
  if (conn_ && PQstatus(conn_) == CONNECTION_OK) {
    // The server's farewell (FATAL: terminating connection ...) is handled, not printed.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn_, (std::string("LISTEN ") + kRevocationChannel).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (ok && PQsetnonblocking(conn_, 1) == 0) {
      backoff_ = std::chrono::milliseconds(0);
      pid_ = PQbackendPID(conn_);
      ++connects_;
      return true;
    }
  }
  disconnect();
  backoff_ = std::min(max_backoff_, std::max(kFirstBackoff, backoff_ * 2));
  next_attempt_ = Clock::now() + backoff_;
  return false;
}

void PgNotifyWaker::disconnect() {
  if (conn_) PQfinish(conn_);
  conn_ = nullptr;
  pid_ = 0;
}

bool PgNotifyWaker::drain() {
  bool any = false;
  while (PGnotify* n = PQnotifies(conn_)) {
    any = true;
    PQfreemem(n);
  }
  return any;
}

bool PgNotifyWaker::wait_fd(int fd, Clock::time_point until) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
  pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {fd, POLLIN, 0}};
  const int n = ::poll(fds, fd >= 0 ? 2 : 1, static_cast<int>(std::max<int64_t>(0, left.count())));
  return n > 0 && fd >= 0 && (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

bool PgNotifyWaker::wait(std::chrono::milliseconds timeout) {
  const auto until = Clock::now() + timeout;
  while (!stopped_) {
    if (!conn_) {
      if (Clock::now() >= next_attempt_) {
        if (connect()) return true;  // (re)connected: the caller catches up
      }
      wait_fd(-1, std::min(until, next_attempt_));
      if (Clock::now() >= until) return false;
      continue;
    }
    if (drain()) return true;
    if (!wait_fd(PQsocket(conn_), until)) {
      if (Clock::now() >= until || stopped_) return false;
      continue;
    }
    if (PQconsumeInput(conn_) == 0 || PQstatus(conn_) != CONNECTION_OK) {
      disconnect();  // the server went away: reconnect at once, then back off
      next_attempt_ = Clock::now();
      continue;
    }
    if (drain()) return true;
  }
  return false;
}

}  // namespace stagepass::postgresql
