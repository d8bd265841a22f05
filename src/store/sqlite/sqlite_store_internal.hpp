// Shared plumbing of the SqliteStore translation units: connection leasing, the read/write
// wrappers that turn SqliteError into Result errors, and row readers. Internal: include only
// from store/sqlite/*.cpp.
#pragma once

#include <algorithm>

#include "core/text.hpp"
#include "store/refresh_family_key.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::sqlite {
namespace internal {

inline Error not_found(std::string what) {
  return {ErrorCode::kNotFound, std::move(what) + " not found"};
}

using ::stagepass::split_lines;  // core/text

constexpr const char* kUserColumns =
    "SELECT id, email, display_name, password_hash, country, product, created_at, "
    "credential_generation FROM users ";
inline User read_user(Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.i64(6), s.i64(7)};
}

inline Client read_client(Stmt& s) {
  Client c;
  c.id = s.text(0);
  c.name = s.text(1);
  c.is_public = s.i64(2) != 0;
  // Column 3 (clients.secret_hash) is no longer read: secrets live in client_secrets.
  c.redirect_uris = split_lines(s.text(4));
  c.allowed_scopes = ScopeSet::parse(s.text(5));
  c.web_origins = split_lines(s.text(6));
  c.created_at = s.i64(7);
  c.rate_limit = s.i64(8);
  c.introspect_any = s.i64(9) != 0;
  c.development = s.i64(10) != 0;  // issue15:devmode
  c.owner_id = s.text(11);         // issue15:dashboard
  c.description = s.text(12);
  c.suspended_at = s.i64(13);  // issue15:abuse
  c.suspended_reason = s.text(14);
  return c;
}

// issue15:secrets (sqlite_client_secrets.cpp). Fills c.secrets (current first), c.secret_hash
// (the current one's) and c.tokens_cut_at from their tables.
void read_client_secrets(Connection& db, Client& c);
// The same for every client of `clients`, in two queries.
void read_all_client_secrets(Connection& db, std::vector<Client>& clients);
// Stores `hash` as the client's current secret (the caller removed or retired the previous
// one); returns its id.
int64_t insert_current_secret(Connection& db, const std::string& client_id, const std::string& hash,
                              int64_t now);

inline Grant read_grant(Stmt& s) {
  return {s.text(0), s.text(1),    s.text(2),   ScopeSet::parse(s.text(3)),
          s.i64(4),  s.opt_i64(5), s.opt_i64(6)};
}

inline RefreshToken read_refresh(Stmt& s) {
  RefreshToken t;
  t.hash = s.text(0);
  t.grant_id = s.text(1);
  t.client_id = s.text(2);
  t.user_id = s.text(3);
  t.scope = ScopeSet::parse(s.text(4));
  t.created_at = s.i64(5);
  t.expires_at = s.i64(6);
  t.idle_expires_at = s.i64(7);
  t.rotated_at = s.opt_i64(8);
  t.revoked = s.i64(9) != 0;
  return t;
}

// Stores the first token of a chain: a family-shaped key starts its chain's row
// (refresh_families, issue17:family), any other key a row of its own.
inline void insert_refresh(Connection& db, const RefreshToken& t) {
  if (auto key = split_family_key(t.hash)) {
    db.prepare(
          "INSERT INTO refresh_families (family, grant_id, client_id, user_id, scope, "
          "expires_at, generation, hash, created_at, idle_expires_at) "
          "VALUES (?,?,?,?,?,?,?,?,?,?)")
        .bind_all(key->family, t.grant_id, t.client_id, t.user_id, t.scope.str(), t.expires_at,
                  static_cast<int64_t>(key->generation), key->hash, t.created_at, t.idle_expires_at)
        .run();
    return;
  }
  db.prepare(
        "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
        "expires_at, idle_expires_at) VALUES (?,?,?,?,?,?,?,?)")
      .bind_all(t.hash, t.grant_id, t.client_id, t.user_id, t.scope.str(), t.created_at,
                t.expires_at, t.idle_expires_at)
      .run();
}

inline Error credentials_changed() {
  return {ErrorCode::kConflict, "credentials changed since the check"};
}

// Inserts session `s` only while its person's credential generation is still
// `s.generation`, checked in the same statement (session_store.hpp). False: nothing written
// (the generation moved on, or no such person).
inline bool insert_session_in(Connection& db, const Session& s) {
  db.prepare(
        "INSERT INTO sessions (hash, user_id, created_at, expires_at, last_seen_at, generation) "
        "SELECT ?, id, ?, ?, ?, credential_generation FROM users "
        "WHERE id = ? AND credential_generation = ?")
      .bind_all(s.hash, s.created_at, s.expires_at, std::max(s.last_seen_at, s.created_at),
                s.user_id, s.generation)
      .run();
  return db.changes() > 0;
}

// Marks the grant only: its refresh tokens and codes are refused from then on because
// every use reads the grant (rotate_refresh_token, redeem_code, find_refresh_token), so a
// revocation costs one row, not a scan of tokens or codes (codes have no grant index).
// True if this call revoked the grant (false: already revoked, or no such grant).
inline bool revoke_grant_in(Connection& db, const std::string& id, int64_t now) {
  db.prepare("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .bind_all(now, id)
      .run();
  return db.changes() > 0;
}

// issue15:devmode. Whether the person is on the app's allowlist, as `db` sees it (read inside
// the code exchange's and the rotation's write, and by the allowlist's own writes).
inline bool on_allowlist_in(Connection& db, const std::string& client_id,
                            const std::string& user_id) {
  auto s = db.prepare("SELECT 1 FROM allowlist WHERE client_id = ? AND user_id = ?");
  return s.bind_all(client_id, user_id).step();
}

inline constexpr const char* kGrantColumns =
    "SELECT id, user_id, client_id, scope, created_at, revoked_at, last_used_at FROM grants ";

// The grant `id` as `db` sees it (revoked or not); nullopt if there is none.
inline std::optional<Grant> grant_by_id(Connection& db, const std::string& id) {
  static const std::string sql = std::string(kGrantColumns) + "WHERE id = ?";
  auto s = db.prepare(sql.c_str());
  if (!s.bind(1, id).step()) return std::nullopt;
  return read_grant(s);
}

// A rotation's decision `d`, taken on `grant`, into `r`, with the one write that ends a
// rotation without a successor: true when it ends there (kNotFound, kRefused: nothing
// written; kReuseRevoked: the grant revoked at `now`), false when the caller stores the
// successor (kRotated, kReuseGrace).
inline bool settled_without_successor(Connection& db, const RotationDecision& d, Grant grant,
                                      int64_t now, Rotation& r) {
  r.outcome = d.outcome;
  r.refusal = d.refusal;
  r.grant = std::move(grant);
  switch (d.outcome) {
    case RotateOutcome::kNotFound:
    case RotateOutcome::kRefused:
      return true;
    case RotateOutcome::kReuseRevoked:
      revoke_grant_in(db, r.grant.id, now);
      return true;
    case RotateOutcome::kRotated:
    case RotateOutcome::kReuseGrace:
      break;
  }
  return false;
}

}  // namespace internal

}  // namespace stagepass::sqlite
