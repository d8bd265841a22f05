// PgConnection: one libpq connection to PostgreSQL, and PgResult, the rows of one statement.
// The thin layer every PostgreSQL-backed role is written on: statements with parameters sent
// apart from the SQL text (never spliced in), errors as values (no exceptions), prepared
// statements by name.
//
// Errors: SQLSTATE class 23 (integrity constraint violation: a duplicate key, a foreign key)
// is kConflict; anything else (the server is down, a syntax error, a serialization failure)
// is kIo. Messages come from the server or libpq; they name no password (libpq never prints
// one; keep passwords out of the URL anyway: PGPASSFILE).
// Thread safety: none; one thread uses a connection at a time (PgPool leases them).
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/result.hpp"

namespace stagepass::postgresql {

// A parameter: text, or NULL.
using PgParam = std::optional<std::string>;

class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* r) : r_(r, &PQclear) {}
  int rows() const { return r_ ? PQntuples(r_.get()) : 0; }
  bool is_null(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  std::string text(int row, int col) const { return PQgetvalue(r_.get(), row, col); }
  int64_t i64(int row, int col) const;  // 0 for NULL
  // Rows changed by an INSERT, UPDATE or DELETE.
  int64_t affected() const;

 private:
  std::shared_ptr<PGresult> r_;
};

class PgConnection {
 public:
  // Connects to `url` (a libpq connection URI or key=value string). `dbname`, when not
  // empty, replaces the URL's database (tests make a database per case). kIo when the
  // server cannot be reached or refuses; a connection attempt gives up after
  // kConnectTimeoutSeconds unless the URL sets connect_timeout itself.
  // `session_options`, when not empty, is added to the libpq `options` the URL may set (the
  // server applies the last value of a setting: these win), e.g. kBoundedSession.
  static constexpr int kConnectTimeoutSeconds = 2;
  static Result<std::unique_ptr<PgConnection>> connect(const std::string& url,
                                                       const std::string& dbname = "",
                                                       const std::string& session_options = "");
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one or more statements without parameters (schema, BEGIN/COMMIT).
  Status<> exec(std::string_view sql);
  // Runs one statement with parameters $1, $2, ... (unnamed: planned each time).
  Result<PgResult> query(const std::string& sql, const std::vector<PgParam>& params = {});
  // Runs the statement prepared under `name` on this connection, preparing it first the
  // first time this connection sees that name.
  Result<PgResult> prepared(const std::string& name, const std::string& sql,
                            const std::vector<PgParam>& params = {});

  // False once the connection is lost (the server restarted, the network broke): the pool
  // then drops it and connects anew.
  bool healthy() const;
  // For a connection that sat idle in the pool: true when the server closed it meanwhile (a
  // restart, a failover, pg_terminate_backend), seen without a round trip: its socket is
  // readable. Reusing such a connection would fail the request that leased it, so the pool
  // drops it first.
  bool lost_while_idle();
  // issue16:cluster. The longest a statement waits for the server's answer (default
  // kAnswerTimeout; 0: no limit). Past it the statement fails kIo and the connection is given
  // up (healthy() turns false, the pool drops it): a server that stopped answering without
  // closing the connection (frozen, its host down, a network partition: no RST, nothing
  // acknowledged or nothing sent back) costs a request a bounded wait, never a hang. The
  // session is then abandoned mid-statement: the server rolls its transaction back once it
  // sees the connection closed (a COMMIT caught so may or may not have happened, as when the
  // server crashes). Migrations wait without limit (they may wait for another node's).
  static constexpr std::chrono::milliseconds kAnswerTimeout{3000};
  void set_answer_timeout(std::chrono::milliseconds t) { answer_timeout_ = t; }
  std::chrono::milliseconds answer_timeout() const { return answer_timeout_; }
  // True inside a transaction that a failed statement aborted: it can only be rolled back
  // (a COMMIT there would answer "ROLLBACK", not an error).
  bool in_failed_transaction() const { return PQtransactionStatus(conn_) == PQTRANS_INERROR; }
  // True when no transaction is open and no statement is running: the only state in which
  // a connection may serve another caller.
  bool idle_outside_transaction() const { return PQtransactionStatus(conn_) == PQTRANS_IDLE; }
  // This session's backend process id (for tests that end it from another connection).
  int backend_pid() const { return PQbackendPID(conn_); }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  Result<PgResult> check(PGresult* r);
  // The answer to a statement just sent (PQsend*: `sent` is its return value), waited for at
  // most answer_timeout_; as PQexec, the last result, an error taking precedence.
  Result<PgResult> answer(int sent);

  PGconn* conn_;
  std::chrono::milliseconds answer_timeout_{kAnswerTimeout};
  bool given_up_ = false;  // an answer did not come in time: the session is unusable
  std::unordered_set<std::string> prepared_;
};

}  // namespace stagepass::postgresql
