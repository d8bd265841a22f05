#include "store/postgresql/pg_pool.hpp"

namespace stagepass::postgresql {

Result<std::unique_ptr<PgConnection>> PgPool::acquire() {
  {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    // While connects are held back (a connect failed; see the header), a caller may still
    // wait for a leased connection to come back: it fails at once only when none would (the
    // probe's own place does not count).
    auto held_back = [&] {
      return connect_failed_ && (probing_ || std::chrono::steady_clock::now() < retry_connect_at_);
    };
    auto coming_back = [&] { return open_ - (probing_ ? 1 : 0) > 0; };
    for (;;) {
      const bool got = cv_.wait_until(lock, deadline, [&] {
        return !idle_.empty() || (open_ < options_.size && !held_back()) ||
               (held_back() && !coming_back());
      });
      if (!got) {
        return fail(Error{ErrorCode::kIo, "postgresql: no connection free within " +
                                              std::to_string(options_.acquire_timeout.count()) +
                                              " ms"});
      }
      if (idle_.empty()) {
        if (held_back()) {
          // The database is not answering connects and no connection will come back: fail
          // at once rather than wait out a connect_timeout of one's own (one caller probes).
          return fail(Error{ErrorCode::kIo,
                            "postgresql: the database did not accept a connection; retrying "
                            "shortly"});
        }
        if (connect_failed_) probing_ = true;  // this caller is the probe
        break;
      }
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      // After a database restart every idle connection is dead: drop each here rather than
      // fail the request it would serve (no retry of a statement is needed, none was sent).
      if (!conn->lost_while_idle()) return conn;
      conn.reset();
      --open_;
    }
    ++open_;  // a place taken for the connection opened below, outside the lock
  }
  auto conn = PgConnection::connect(options_.url, options_.dbname, options_.session_options);
  std::lock_guard lock(mu_);
  probing_ = false;
  connect_failed_ = !conn;
  if (!conn) {
    retry_connect_at_ = std::chrono::steady_clock::now() + kProbeEvery;
    --open_;
  }
  cv_.notify_all();
  return conn;
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  // Only a connection with no transaction open goes back: one left inside a transaction
  // (aborted, or a function that ended early) would lend its writes to the next lease.
  if (conn && conn->healthy() && conn->idle_outside_transaction()) {
    idle_.push_back(std::move(conn));
  } else {
    conn.reset();  // lost: the next caller opens a new one in its place
    --open_;
  }
  cv_.notify_one();
}

int PgPool::open_connections() {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace stagepass::postgresql
