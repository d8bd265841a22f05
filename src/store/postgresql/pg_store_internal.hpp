// Shared plumbing of the PgStore translation units: parameters, row readers, and the steps
// several roles take inside their own transactions. Internal: include only from
// store/postgresql/pg_*_store.cpp.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/text.hpp"
#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_store.hpp"

// Runs `expr` (a Result); returns its error from the enclosing function, else binds the value.
#define SP_PG_TRY(var, expr) \
  auto var = (expr);         \
  if (!var) return ::stagepass::fail(std::move(var.error()))

namespace stagepass::postgresql::internal {

inline PgParam num(int64_t v) { return std::to_string(v); }
inline PgParam flag(bool v) { return std::string(v ? "t" : "f"); }
inline bool as_bool(const PgResult& r, int row, int col) { return r.text(row, col) == "t"; }
inline std::optional<int64_t> opt_i64(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return r.i64(row, col);
}

inline Error not_found(std::string what) {
  return {ErrorCode::kNotFound, std::move(what) + " not found"};
}
inline Error credentials_changed() {
  return {ErrorCode::kConflict, "credentials changed since the check"};
}

using ::stagepass::split_lines;  // core/text

// The first statement of a read made of several queries (PgPool::transaction): they all
// read one snapshot (READ COMMITTED would give each its own), so a row and its secrets
// never come from either side of another node's commit.
inline Status<> one_snapshot(PgConnection& c) {
  return c.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
}

constexpr const char* kUserColumns =
    "SELECT id, email, display_name, password_hash, country, product, created_at, "
    "credential_generation FROM users ";
User read_user(const PgResult& r, int row);

constexpr const char* kGrantColumns =
    "SELECT id, user_id, client_id, scope, created_at, revoked_at, last_used_at FROM grants ";
Grant read_grant(const PgResult& r, int row);

// Marks grant `id` revoked at `now` (its refresh tokens and codes are refused from then on:
// every use reads the grant, as in SQLite). True if this call revoked it.
Result<bool> revoke_grant_in(PgConnection& c, const std::string& id, int64_t now);

// Inserts session `s` only while its person's credential generation is still `s.generation`
// (the person's row is locked FOR SHARE, so a concurrent change is waited for and then
// seen). False: nothing written.
Result<bool> insert_session_in(PgConnection& c, const Session& s);

// Stores `hash` as the client's current secret; returns its id. Inside the caller's transaction.
Result<int64_t> insert_current_secret(PgConnection& c, const std::string& client_id,
                                      const std::string& hash, int64_t now);
// Locks the client's row for the rest of the transaction; false if there is no such client.
Result<bool> lock_client(PgConnection& c, const std::string& id);
// (text, bigint) rows of a prepared statement whose one parameter is `since`.
using Pairs = std::vector<std::pair<std::string, int64_t>>;
Result<Pairs> pairs(PgConnection& c, const char* name, const char* sql, int64_t since);

// issue15:devmode. Whether the person is on the app's allowlist, as this transaction sees it
// (read by the allowlist's own writes, and inside the code exchange's and the rotation's).
Result<bool> on_allowlist_in(PgConnection& c, const std::string& client_id,
                             const std::string& user_id);

}  // namespace stagepass::postgresql::internal
