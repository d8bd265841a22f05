// PgPool: a bounded pool of PostgreSQL connections for the blocking store methods (worker
// threads only, never an I/O thread). At most `size` connections are open; a caller waits at
// most `acquire_timeout` for one, then gets kIo (a slow or stopped database costs a bounded
// wait, never a hang). Connections open lazily; one found broken when it comes back (the
// server restarted) is closed and replaced by the next caller, so the pool recovers by
// itself when the database returns. When a connect fails, new connects are held back for
// kProbeEvery and then tried by one caller at a time: while the database is unreachable,
// requests fail at once instead of each waiting out a connect timeout.
// Thread safety: run() and transaction() may be called from any thread concurrently; a
// function they run must not call them again (it could wait for its own lease).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "store/postgresql/pg_connection.hpp"

namespace stagepass::postgresql {

// issue16 (review fix): the server-side bound on every pooled session (the store's, the
// replica's, an api-only node's revocation reader): a statement ends after 1.5 s (a lock wait
// included; below the client's own 3 s answer timeout, PgConnection::kAnswerTimeout, so a slow
// but live server answers with a definite error rather than the client giving up on a
// statement that may still commit), a session left idle inside a transaction (a stalled or
// partitioned node) is ended after 2 s, and a query whose client went away is cancelled within 1 s.
// Why: a revocation's log entry takes its seq at its insert but is seen at its COMMIT; a reader
// re-reads a hole in the sequence for the lookback only (Tunables::revocation_lookback_seconds = 30
// s, plus the clock skew), so a revoking transaction must commit within it or never. The hard bound
// is the COMMIT-time check (pg_schema.cpp, migration 3: at most 20 s from the first seq taken to
// COMMIT, else rolled back), 10 s inside the lookback; these bounds end what would otherwise
// reach that check late: a stalled node's open transaction goes within 2 s (releasing its
// locks), and no statement of the usual short revoking transactions (revoke one grant or
// token, delete a client: at most 3 statements from the first seq through COMMIT, 3 x 1.5 s
// + 2 x 2 s = 8.5 s) can keep it open past the check. Migrations, which may wait for another
// node's migration lock, lift the statement bound in their transaction (SET LOCAL).
// docs/operations.md, "Revocation across nodes".
inline constexpr const char* kBoundedSession =
    "-c statement_timeout=1500 -c idle_in_transaction_session_timeout=2000 "
    "-c client_connection_check_interval=1000";

class PgPool {
 public:
  // After a failed connect, how long new connections are not attempted, and then one caller
  // at a time probes (a flag, not a time estimate). Meanwhile a caller waits for a leased
  // connection to come back when one is open, and fails at once when none is.
  static constexpr std::chrono::milliseconds kProbeEvery{1000};
  struct Options {
    std::string url;     // a libpq URI; keep the password out of it (PGPASSFILE)
    std::string dbname;  // replaces the URL's database when not empty
    int size = 8;
    std::chrono::milliseconds acquire_timeout{1000};
    std::string session_options = kBoundedSession;  // libpq `options` (added to the URL's)
  };
  explicit PgPool(Options options) : options_(std::move(options)) {}
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // Runs f(PgConnection&) on a leased connection and returns what it returns; kIo when no
  // connection could be had in time.
  template <class F>
  auto run(F&& f) -> decltype(f(std::declval<PgConnection&>())) {
    auto lease = acquire();
    if (!lease) return fail(std::move(lease.error()));
    Lease held(*this, std::move(*lease));
    return f(*held.conn);
  }

  // Runs f inside one transaction (BEGIN ... COMMIT, READ COMMITTED unless f changes it):
  // committed when f succeeds, rolled back when it returns an error or a statement of it
  // failed. Returns f's result, or the error that kept it from committing.
  template <class F>
  auto transaction(F&& f) -> decltype(f(std::declval<PgConnection&>())) {
    return run([&](PgConnection& c) -> decltype(f(std::declval<PgConnection&>())) {
      if (auto begin = c.exec("BEGIN"); !begin) return fail(std::move(begin.error()));
      auto result = f(c);
      if (!result || c.in_failed_transaction()) {
        (void)c.exec("ROLLBACK");
        if (result) return fail(Error{ErrorCode::kIo, "postgresql: the transaction failed"});
        return result;
      }
      if (auto commit = c.exec("COMMIT"); !commit) return fail(std::move(commit.error()));
      return result;
    });
  }

  // Open connections now (idle or leased), for tests and metrics.
  int open_connections();

 private:
  Result<std::unique_ptr<PgConnection>> acquire();
  void release(std::unique_ptr<PgConnection> conn);

  struct Lease {
    Lease(PgPool& p, std::unique_ptr<PgConnection> c) : pool(p), conn(std::move(c)) {}
    ~Lease() { pool.release(std::move(conn)); }
    PgPool& pool;
    std::unique_ptr<PgConnection> conn;
  };

  const Options options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  int open_ = 0;  // idle + leased + being opened
  // After a connect failed: no new connection is attempted before retry_connect_at_, and
  // then by one caller at a time, so an unreachable database (a frozen host, a partition:
  // each attempt waits out connect_timeout) answers the others at once.
  bool connect_failed_ = false;
  bool probing_ = false;  // a caller is trying to connect after a failure
  std::chrono::steady_clock::time_point retry_connect_at_{};
};

}  // namespace stagepass::postgresql
