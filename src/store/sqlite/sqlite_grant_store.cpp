// SqliteStore: grants, authorization codes and refresh tokens of the per-token shape (chains
// of the family shape: sqlite_refresh_families.cpp).
#include <algorithm>
#include <limits>
#include <numeric>

#include "store/sqlite/sqlite_store_internal.hpp"
#include "store/write_batches.hpp"

namespace stagepass::sqlite {
using namespace internal;

Result<Grant> SqliteStore::find_active_grant(const std::string& user_id,
                                             const std::string& client_id) {
  return read([&](Connection& db) -> Result<Grant> {
    static const std::string sql =
        std::string(kGrantColumns) + "WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL";
    auto s = db.prepare(sql.c_str());
    if (!s.bind_all(user_id, client_id).step()) return fail(not_found("grant"));
    return read_grant(s);
  });
}

Result<Grant> SqliteStore::find_grant(const std::string& id) {
  return read([&](Connection& db) -> Result<Grant> {
    auto g = grant_by_id(db, id);
    if (!g) return fail(not_found("grant"));
    return std::move(*g);
  });
}

Result<Grant> SqliteStore::record_consent(const std::string& user_id, const std::string& client_id,
                                          const ScopeSet& scope, const std::string& new_id,
                                          int64_t now) {
  return write([&](Connection& db) -> Result<Grant> {
    Transaction tx(db);
    static const std::string sql =
        std::string(kGrantColumns) + "WHERE user_id = ? AND client_id = ? AND revoked_at IS NULL";
    Grant g;
    {
      auto s = db.prepare(sql.c_str());
      if (s.bind_all(user_id, client_id).step()) {
        g = read_grant(s);
      } else {
        g = Grant{new_id, user_id, client_id, {}, now, std::nullopt, std::nullopt};
        db.prepare(
              "INSERT INTO grants (id, user_id, client_id, scope, created_at) "
              "VALUES (?,?,?,?,?)")
            .bind_all(g.id, user_id, client_id, std::string(), now)
            .run();
      }
    }
    g.scope = g.scope.unite(scope);
    db.prepare("UPDATE grants SET scope = ? WHERE id = ?").bind_all(g.scope.str(), g.id).run();
    tx.commit();
    return g;
  });
}

Result<bool> SqliteStore::revoke_grant(const std::string& id, int64_t now) {
  return write([&](Connection& db) -> Result<bool> {
    Transaction tx(db);
    const bool changed = revoke_grant_in(db, id, now);
    tx.commit();
    return changed;
  });
}

Result<std::vector<Revoked>> SqliteStore::revoked_grants_since(int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<Revoked>> {
    auto s = db.prepare(
        "SELECT id, client_id, revoked_at FROM grants WHERE revoked_at >= ? ORDER BY revoked_at");
    s.bind(1, since);
    std::vector<Revoked> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.i64(2)});
    return out;
  });
}

Result<std::vector<Grant>> SqliteStore::list_user_grants(const std::string& user_id) {
  return read([&](Connection& db) -> Result<std::vector<Grant>> {
    static const std::string sql =
        std::string(kGrantColumns) +
        "WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC";
    auto s = db.prepare(sql.c_str());
    s.bind(1, user_id);
    std::vector<Grant> out;
    while (s.step()) out.push_back(read_grant(s));
    return out;
  });
}

Status<> SqliteStore::record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) {
  return write_background([&](Connection& db) -> Status<> {
    Transaction tx(db);
    for (const auto& [id, at] : uses) {
      db.prepare(
            "UPDATE grants SET last_used_at = ? WHERE id = ? AND "
            "(last_used_at IS NULL OR last_used_at < ?)")
          .bind_all(at, id, at)
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

// The grants' storage order (their rowid: grants.id is a TEXT key with its own index, and the
// rows lie in the order they were created). Why: a flush of the "last used" times of many
// grants (a Web API load of new tokens of many people) goes to the writer in slices of
// kRowsPerWrite, each its own transaction. In the order drained, every slice of 128 touched
// about as many table pages, and the next slices the same pages again, so each page went to
// the log and to its checkpoint once per slice. In storage order a slice's rows share a few
// pages and each page is written about once per flush (issue 17, cold /v1/me). The lookups
// run on a reader, off the writer, kLookupsPerLease at a time so that request reads queue
// behind none for long; when one fails the order stays as given. One slice or less is one
// transaction whatever its order: left alone.
void SqliteStore::order_grant_usage(std::vector<std::pair<std::string, int64_t>>& uses) {
  if (uses.size() <= kRowsPerWrite) return;
  constexpr size_t kLookupsPerLease = 1000;
  std::vector<int64_t> rowids;
  rowids.reserve(uses.size());
  for (size_t from = 0; from < uses.size(); from += kLookupsPerLease) {
    const size_t to = std::min(uses.size(), from + kLookupsPerLease);
    auto looked_up = read([&](Connection& db) -> Status<> {
      for (size_t i = from; i < to; ++i) {
        auto s = db.prepare("SELECT rowid FROM grants WHERE id = ?");
        // A grant deleted meanwhile changes nothing wherever it goes: last.
        rowids.push_back(s.bind(1, uses[i].first).step() ? s.i64(0)
                                                         : std::numeric_limits<int64_t>::max());
      }
      return Ok{};
    });
    if (!looked_up) return;
  }
  std::vector<size_t> order(uses.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rowids[a] < rowids[b]; });
  std::vector<std::pair<std::string, int64_t>> sorted;
  sorted.reserve(uses.size());
  for (size_t i : order) sorted.push_back(std::move(uses[i]));
  uses = std::move(sorted);
}

Result<bool> SqliteStore::revoke_access_token(const std::string& jti, const std::string& client_id,
                                              int64_t expires_at, int64_t now) {
  return write([&](Connection& db) -> Result<bool> {
    // Rows are kept kRevokedTokenRetention past expiry: purging at expiry would let a token
    // accepted within that leeway be inserted again, and count as a new revocation each time.
    db.prepare("DELETE FROM revoked_tokens WHERE expires_at < ?")
        .bind(1, now - kRevokedTokenRetention)
        .run();
    // INSERT OR IGNORE keeps the first revocation; changes() says whether this was it.
    db.prepare(
          "INSERT OR IGNORE INTO revoked_tokens (jti, client_id, expires_at, revoked_at) "
          "VALUES (?,?,?,?)")
        .bind_all(jti, client_id, expires_at, now)
        .run();
    return db.changes() > 0;
  });
}

Result<std::vector<Revoked>> SqliteStore::revoked_tokens_since(int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<Revoked>> {
    auto s =
        db.prepare("SELECT jti, client_id, revoked_at FROM revoked_tokens WHERE revoked_at >= ?");
    s.bind(1, since);
    std::vector<Revoked> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.i64(2)});
    return out;
  });
}

// ---- codes

Status<> SqliteStore::save_code(const AuthorizationCode& c) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO codes (hash, grant_id, client_id, user_id, redirect_uri, scope, "
          "code_challenge, expires_at) VALUES (?,?,?,?,?,?,?,?)")
        .bind_all(c.hash, c.grant_id, c.client_id, c.user_id, c.redirect_uri, c.scope.str(),
                  c.code_challenge, c.expires_at)
        .run();
    return Ok{};
  });
}

Result<Redeemed> SqliteStore::redeem_code(const std::string& hash, const CodePolicy& policy) {
  return write([&](Connection& db) -> Result<Redeemed> {
    // No Transaction of its own: write() runs this in a savepoint that an exception rolls
    // back, and every return below leaves a complete change (none, the grant revoked, or the
    // code spent with its refresh token).
    Redeemed r;
    AuthorizationCode& c = r.code;
    {
      auto s = db.prepare(
          "SELECT hash, grant_id, client_id, user_id, redirect_uri, scope, code_challenge, "
          "expires_at, used_at FROM codes WHERE hash = ?");
      if (!s.bind(1, hash).step()) return Redeemed{};
      c = {s.text(0), s.text(1), s.text(2),   s.text(3), s.text(4), ScopeSet::parse(s.text(5)),
           s.text(6), s.i64(7),  s.opt_i64(8)};
    }
    auto grant = grant_by_id(db, c.grant_id);
    if (!grant) return r;  // kNotFound
    RedemptionDecision d = decide_redemption(c, *grant, policy);
    r.outcome = d.outcome;
    r.refusal = d.refusal;
    r.grant = std::move(*grant);
    switch (d.outcome) {
      case RedeemOutcome::kNotFound:
      case RedeemOutcome::kRefused:
        break;
      case RedeemOutcome::kReplayed:
        revoke_grant_in(db, c.grant_id, policy.now);
        break;
      case RedeemOutcome::kRedeemed:
        db.prepare("UPDATE codes SET used_at = ? WHERE hash = ?").bind_all(policy.now, hash).run();
        c.used_at = policy.now;
        insert_refresh(db, *d.refresh);
        if (policy.read_allowlist) r.on_allowlist = on_allowlist_in(db, c.client_id, c.user_id);
        break;
    }
    return r;
  });
}

// ---- refresh tokens

Result<RefreshToken> SqliteStore::find_refresh_token(const std::string& hash) {
  if (auto key = split_family_key(hash)) return find_in_family(hash, *key);
  return read([&](Connection& db) -> Result<RefreshToken> {
    // A token of a revoked (or missing) grant reads as revoked: revoking a grant marks the
    // grant only.
    auto s = db.prepare(
        "SELECT r.hash, r.grant_id, r.client_id, r.user_id, r.scope, r.created_at, "
        "r.expires_at, r.idle_expires_at, r.rotated_at, "
        "r.revoked OR g.id IS NULL OR g.revoked_at IS NOT NULL "
        "FROM refresh_tokens r LEFT JOIN grants g ON g.id = r.grant_id WHERE r.hash = ?");
    if (!s.bind(1, hash).step()) return fail(not_found("refresh token"));
    return read_refresh(s);
  });
}

Result<Rotation> SqliteStore::rotate_refresh_token(const std::string& old_hash,
                                                   const RefreshPolicy& policy) {
  if (auto key = split_family_key(old_hash)) return rotate_in_family(old_hash, *key, policy);
  return write([&](Connection& db) -> Result<Rotation> {
    // Everything the decision needs is read here, on the writer, whose page cache no commit
    // empties: a separate read before the write cost a reader transaction that re-read the
    // pages every commit had invalidated. No Transaction of its own: write() already runs
    // this in a savepoint that an exception rolls back, and every return below happens
    // either before the first write or after the last.
    Rotation r;
    PresentedRefreshToken presented;
    std::string replaced_by;
    {
      auto s = db.prepare(
          "SELECT hash, grant_id, client_id, user_id, scope, created_at, expires_at, "
          "idle_expires_at, rotated_at, revoked, replaced_by, retried_at IS NOT NULL "
          "FROM refresh_tokens WHERE hash = ?");
      if (!s.bind(1, old_hash).step()) return r;  // kNotFound
      presented.token = read_refresh(s);
      replaced_by = s.text(10);
      presented.retried = s.i64(11) != 0;
    }
    r.token = presented.token;
    auto grant = grant_by_id(db, presented.token.grant_id);
    if (!grant) return r;  // kNotFound
    if (presented.token.rotated_at) {
      // Only a spent token needs its successor's state (whether a grace retry may replace it).
      auto s = db.prepare(
          "SELECT rotated_at IS NULL AND revoked = 0 FROM refresh_tokens WHERE hash = ?");
      presented.successor_unused = s.bind(1, replaced_by).step() && s.i64(0) != 0;
    }
    RotationDecision d = decide_rotation(presented, *grant, policy);
    if (settled_without_successor(db, d, std::move(*grant), policy.now, r)) return r;
    switch (d.outcome) {
      case RotateOutcome::kReuseGrace:
        // The earlier successor is superseded: whoever holds it now holds a spent token.
        db.prepare("UPDATE refresh_tokens SET revoked = 1 WHERE hash = ?")
            .bind(1, replaced_by)
            .run();
        db.prepare("UPDATE refresh_tokens SET retried_at = ?, replaced_by = ? WHERE hash = ?")
            .bind_all(policy.now, d.successor->hash, old_hash)
            .run();
        break;
      case RotateOutcome::kRotated:
        db.prepare("UPDATE refresh_tokens SET rotated_at = ?, replaced_by = ? WHERE hash = ?")
            .bind_all(policy.now, d.successor->hash, old_hash)
            .run();
        rotated_grants_.note(r.grant.id);  // issue17:prune: its chain may be over the cap
        break;
      default:
        break;  // settled above
    }
    insert_refresh(db, *d.successor);
    if (policy.read_allowlist) {
      r.on_allowlist = on_allowlist_in(db, presented.token.client_id, presented.token.user_id);
    }
    return r;
  });
}

}  // namespace stagepass::sqlite
