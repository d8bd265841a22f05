// PgStore: authorization codes (CodeStore) and refresh tokens and their rotation
// (RefreshTokenStore). The exchange and the rotation decide by the pure functions SqliteStore
// calls too (code_redemption.hpp, refresh_rotation.hpp); this file only reads what they need
// and writes what they decided, in one transaction.
//
// Locking under READ COMMITTED: SQLite runs one writer at a time; here each decision locks the
// rows it decides on, always in one order, grant row first, then the code or token row:
//  1. read the presented row's grant id (never changes once written), without a lock;
//  2. lock the grant row (FOR NO KEY UPDATE, the lock revoke_grant_in's UPDATE takes): every
//     redemption and rotation of a grant, and its revocation, run one after the other;
//  3. read the code or token again, FOR UPDATE: after the wait of step 2 this statement sees
//     what the transaction that held the grant committed (a code now used, a token now
//     rotated), so 16 exchanges of one code give one kRedeemed and the rest replays.
// Nothing else locks a token or code row and then a grant row, so no cycle can form.
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace {

constexpr const char* kCodeColumns =
    "SELECT hash, grant_id, client_id, user_id, redirect_uri, scope, code_challenge, "
    "expires_at, used_at FROM codes ";

AuthorizationCode read_code(const PgResult& r, int row) {
  return {r.text(row, 0), r.text(row, 1), r.text(row, 2),
          r.text(row, 3), r.text(row, 4), ScopeSet::parse(r.text(row, 5)),
          r.text(row, 6), r.i64(row, 7),  opt_i64(r, row, 8)};
}

// Columns 0-9: the RefreshToken (9: revoked).
RefreshToken read_refresh(const PgResult& r, int row) {
  RefreshToken t;
  t.hash = r.text(row, 0);
  t.grant_id = r.text(row, 1);
  t.client_id = r.text(row, 2);
  t.user_id = r.text(row, 3);
  t.scope = ScopeSet::parse(r.text(row, 4));
  t.created_at = r.i64(row, 5);
  t.expires_at = r.i64(row, 6);
  t.idle_expires_at = r.i64(row, 7);
  t.rotated_at = opt_i64(r, row, 8);
  t.revoked = as_bool(r, row, 9);
  return t;
}

Status<> insert_refresh(PgConnection& c, const RefreshToken& t) {
  SP_PG_TRY(r, c.prepared("insert_refresh",
                          "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, "
                          "created_at, expires_at, idle_expires_at) "
                          "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                          {t.hash, t.grant_id, t.client_id, t.user_id, t.scope.str(),
                           num(t.created_at), num(t.expires_at), num(t.idle_expires_at)}));
  return Ok{};
}

// Step 2 of the order above: the grant `id`, locked; nullopt if there is none.
Result<std::optional<Grant>> lock_grant(PgConnection& c, const std::string& id) {
  static const std::string sql = std::string(kGrantColumns) + "WHERE id = $1 FOR NO KEY UPDATE";
  SP_PG_TRY(r, c.prepared("lock_grant", sql, {id}));
  if (r->rows() == 0) return std::optional<Grant>{};
  return std::optional<Grant>{read_grant(*r, 0)};
}

// Step 1: the grant id that `sql` reads for `hash`; nullopt if there is no such row.
Result<std::optional<std::string>> grant_of(PgConnection& c, const char* name, const char* sql,
                                            const std::string& hash) {
  SP_PG_TRY(r, c.prepared(name, sql, {hash}));
  if (r->rows() == 0) return std::optional<std::string>{};
  return std::optional<std::string>{r->text(0, 0)};
}

}  // namespace

// ---- codes

Status<> PgStore::save_code(const AuthorizationCode& code) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r,
              c.prepared("save_code",
                         "INSERT INTO codes (hash, grant_id, client_id, user_id, redirect_uri, "
                         "scope, code_challenge, expires_at) "
                         "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                         {code.hash, code.grant_id, code.client_id, code.user_id, code.redirect_uri,
                          code.scope.str(), code.code_challenge, num(code.expires_at)}));
    return Ok{};
  });
}

Result<Redeemed> PgStore::redeem_code(const std::string& hash, const CodePolicy& policy) {
  return pool_.transaction([&](PgConnection& c) -> Result<Redeemed> {
    Redeemed out;
    SP_PG_TRY(grant_id,
              grant_of(c, "code_grant", "SELECT grant_id FROM codes WHERE hash = $1", hash));
    if (!*grant_id) return out;  // kNotFound
    SP_PG_TRY(grant, lock_grant(c, **grant_id));
    static const std::string sql = std::string(kCodeColumns) + "WHERE hash = $1 FOR UPDATE";
    SP_PG_TRY(row, c.prepared("lock_code", sql, {hash}));
    if (row->rows() == 0) return out;  // gone with its grant meanwhile
    out.code = read_code(*row, 0);
    if (!*grant) return out;  // kNotFound
    RedemptionDecision d = decide_redemption(out.code, **grant, policy);
    out.outcome = d.outcome;
    out.refusal = d.refusal;
    out.grant = std::move(**grant);
    switch (d.outcome) {
      case RedeemOutcome::kNotFound:
      case RedeemOutcome::kRefused:
        break;
      case RedeemOutcome::kReplayed: {
        // The revocation SqliteStore writes (grants.revoked_at): the revocation feed sees it.
        SP_PG_TRY(revoked, revoke_grant_in(c, out.grant.id, policy.now));
        break;
      }
      case RedeemOutcome::kRedeemed: {
        SP_PG_TRY(used, c.prepared("spend_code", "UPDATE codes SET used_at = $1 WHERE hash = $2",
                                   {num(policy.now), hash}));
        out.code.used_at = policy.now;
        SP_PG_TRY(stored, insert_refresh(c, *d.refresh));
        if (policy.read_allowlist) {
          SP_PG_TRY(listed, on_allowlist_in(c, out.code.client_id, out.code.user_id));
          out.on_allowlist = *listed;
        }
        break;
      }
    }
    return out;
  });
}

// ---- refresh tokens

Result<RefreshToken> PgStore::find_refresh_token(const std::string& hash) {
  return pool_.run([&](PgConnection& c) -> Result<RefreshToken> {
    // A token of a revoked (or missing) grant reads as revoked: revoking a grant marks the
    // grant only.
    SP_PG_TRY(r, c.prepared("find_refresh_token",
                            "SELECT r.hash, r.grant_id, r.client_id, r.user_id, r.scope, "
                            "r.created_at, r.expires_at, r.idle_expires_at, r.rotated_at, "
                            "r.revoked OR g.id IS NULL OR g.revoked_at IS NOT NULL "
                            "FROM refresh_tokens r LEFT JOIN grants g ON g.id = r.grant_id "
                            "WHERE r.hash = $1",
                            {hash}));
    if (r->rows() == 0) return fail(not_found("refresh token"));
    return read_refresh(*r, 0);
  });
}

Result<Rotation> PgStore::rotate_refresh_token(const std::string& old_hash,
                                               const RefreshPolicy& policy) {
  return pool_.transaction([&](PgConnection& c) -> Result<Rotation> {
    Rotation out;
    SP_PG_TRY(grant_id, grant_of(c, "refresh_grant",
                                 "SELECT grant_id FROM refresh_tokens WHERE hash = $1", old_hash));
    if (!*grant_id) return out;  // kNotFound
    SP_PG_TRY(grant, lock_grant(c, **grant_id));
    SP_PG_TRY(row, c.prepared("lock_refresh",
                              "SELECT hash, grant_id, client_id, user_id, scope, created_at, "
                              "expires_at, idle_expires_at, rotated_at, revoked, replaced_by, "
                              "retried_at IS NOT NULL FROM refresh_tokens WHERE hash = $1 "
                              "FOR UPDATE",
                              {old_hash}));
    if (row->rows() == 0) return out;  // gone with its grant meanwhile
    PresentedRefreshToken presented;
    presented.token = read_refresh(*row, 0);
    const std::string replaced_by = row->text(0, 10);
    presented.retried = as_bool(*row, 0, 11);
    out.token = presented.token;
    if (!*grant) return out;  // kNotFound
    if (presented.token.rotated_at) {
      // Only a spent token needs its successor's state (whether a grace retry may replace
      // it). The grant's lock keeps it from changing until this transaction ends.
      SP_PG_TRY(s, c.prepared("successor_unused",
                              "SELECT rotated_at IS NULL AND NOT revoked FROM refresh_tokens "
                              "WHERE hash = $1",
                              {replaced_by}));
      presented.successor_unused = s->rows() > 0 && as_bool(*s, 0, 0);
    }
    RotationDecision d = decide_rotation(presented, **grant, policy);
    out.outcome = d.outcome;
    out.refusal = d.refusal;
    out.grant = std::move(**grant);
    switch (d.outcome) {
      case RotateOutcome::kNotFound:
      case RotateOutcome::kRefused:
        return out;
      case RotateOutcome::kReuseRevoked: {
        // The revocation SqliteStore writes (grants.revoked_at): the revocation feed sees it.
        SP_PG_TRY(revoked, revoke_grant_in(c, out.grant.id, policy.now));
        return out;
      }
      case RotateOutcome::kReuseGrace: {
        // The earlier successor is superseded: whoever holds it now holds a spent token.
        SP_PG_TRY(superseded, c.prepared("supersede_refresh",
                                         "UPDATE refresh_tokens SET revoked = true WHERE hash = $1",
                                         {replaced_by}));
        SP_PG_TRY(retried, c.prepared("retry_refresh",
                                      "UPDATE refresh_tokens SET retried_at = $1, replaced_by = $2 "
                                      "WHERE hash = $3",
                                      {num(policy.now), d.successor->hash, old_hash}));
        break;
      }
      case RotateOutcome::kRotated: {
        SP_PG_TRY(spent, c.prepared("spend_refresh",
                                    "UPDATE refresh_tokens SET rotated_at = $1, replaced_by = $2 "
                                    "WHERE hash = $3",
                                    {num(policy.now), d.successor->hash, old_hash}));
        rotated_grants_.note(out.grant.id);  // issue17:prune: its chain may be over the cap
        break;
      }
    }
    SP_PG_TRY(stored, insert_refresh(c, *d.successor));
    if (policy.read_allowlist) {
      SP_PG_TRY(listed, on_allowlist_in(c, presented.token.client_id, presented.token.user_id));
      out.on_allowlist = *listed;
    }
    return out;
  });
}

}  // namespace stagepass::postgresql
