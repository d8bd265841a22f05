#include "store/postgresql/pg_pool.hpp"

namespace stagepass::postgresql {

Result<std::unique_ptr<PgConnection>> PgPool::acquire() {
  {
    std::unique_lock lock(mu_);
    const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
    for (;;) {
      const bool got =
          cv_.wait_until(lock, deadline, [&] { return !idle_.empty() || open_ < options_.size; });
      if (!got) {
        return fail(Error{ErrorCode::kIo, "postgresql: no connection free within " +
                                              std::to_string(options_.acquire_timeout.count()) +
                                              " ms"});
      }
      if (idle_.empty()) {
        // While the database is not answering connects, a request fails at once rather than
        // wait its own connect_timeout: one attempt at a time probes it (kProbeEvery).
        const auto now = std::chrono::steady_clock::now();
        if (now < retry_connect_at_) {
          return fail(Error{ErrorCode::kIo,
                            "postgresql: the database did not accept a connection; retrying "
                            "shortly"});
        }
        if (connect_failed_) {
          // This caller is the probe: the others keep failing fast until it is done.
          retry_connect_at_ =
              now + std::chrono::seconds(PgConnection::kConnectTimeoutSeconds) + kProbeEvery;
        }
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
  {
    std::lock_guard lock(mu_);
    connect_failed_ = !conn;
    retry_connect_at_ = conn ? std::chrono::steady_clock::time_point{}
                             : std::chrono::steady_clock::now() + kProbeEvery;
  }
  if (!conn) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }
  return conn;
}

void PgPool::release(std::unique_ptr<PgConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn && conn->healthy() && !conn->in_failed_transaction()) {
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
