// PgStore: consent and its revocation (GrantStore), and the revocation log every node's
// RevocationSet reads (RevocationLog).
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace internal {

Grant read_grant(const PgResult& r, int row) {
  return {r.text(row, 0), r.text(row, 1),     r.text(row, 2),    ScopeSet::parse(r.text(row, 3)),
          r.i64(row, 4),  opt_i64(r, row, 5), opt_i64(r, row, 6)};
}

Result<bool> revoke_grant_in(PgConnection& c, const std::string& id, int64_t now) {
  SP_PG_TRY(r, c.prepared("revoke_grant",
                          "UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                          {num(now), id}));
  return r->affected() > 0;
}

}  // namespace internal

namespace {

Result<std::vector<Revoked>> revoked(PgConnection& c, const char* name, const char* sql,
                                     int64_t since) {
  SP_PG_TRY(r, c.prepared(name, sql, {num(since)}));
  std::vector<Revoked> out;
  for (int i = 0; i < r->rows(); ++i) out.push_back({r->text(i, 0), r->text(i, 1), r->i64(i, 2)});
  return out;
}

}  // namespace

Result<Grant> PgStore::find_active_grant(const std::string& user_id, const std::string& client_id) {
  return pool_.run([&](PgConnection& c) -> Result<Grant> {
    static const std::string sql =
        std::string(kGrantColumns) + "WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL";
    SP_PG_TRY(r, c.prepared("find_active_grant", sql, {user_id, client_id}));
    if (r->rows() == 0) return fail(not_found("grant"));
    return read_grant(*r, 0);
  });
}

Result<Grant> PgStore::find_grant(const std::string& id) {
  return pool_.run([&](PgConnection& c) -> Result<Grant> {
    static const std::string sql = std::string(kGrantColumns) + "WHERE id = $1";
    SP_PG_TRY(r, c.prepared("find_grant", sql, {id}));
    if (r->rows() == 0) return fail(not_found("grant"));
    return read_grant(*r, 0);
  });
}

Result<Grant> PgStore::record_consent(const std::string& user_id, const std::string& client_id,
                                      const ScopeSet& scope, const std::string& new_id,
                                      int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<Grant> {
    // The active grant, created if there is none. Two consents racing for one (person, app)
    // meet on grants_active: the loser's insert does nothing and it then reads (and locks)
    // the winner's grant, so both widen the same one.
    SP_PG_TRY(ins, c.prepared("insert_grant",
                              "INSERT INTO grants (id, user_id, client_id, scope, created_at) "
                              "VALUES ($1, $2, $3, '', $4) "
                              "ON CONFLICT (user_id, client_id) WHERE revoked_at IS NULL "
                              "DO NOTHING",
                              {new_id, user_id, client_id, num(now)}));
    static const std::string sql =
        std::string(kGrantColumns) +
        "WHERE user_id = $1 AND client_id = $2 AND revoked_at IS NULL FOR UPDATE";
    SP_PG_TRY(r, c.prepared("lock_active_grant", sql, {user_id, client_id}));
    if (r->rows() == 0) return fail(Error{ErrorCode::kIo, "the grant could not be stored"});
    Grant g = read_grant(*r, 0);
    g.scope = g.scope.unite(scope);
    SP_PG_TRY(up, c.prepared("widen_grant", "UPDATE grants SET scope = $1 WHERE id = $2",
                             {g.scope.str(), g.id}));
    return g;
  });
}

Result<bool> PgStore::revoke_grant(const std::string& id, int64_t now) {
  return pool_.run([&](PgConnection& c) { return revoke_grant_in(c, id, now); });
}

Result<std::vector<Grant>> PgStore::list_user_grants(const std::string& user_id) {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<Grant>> {
    static const std::string sql = std::string(kGrantColumns) +
                                   "WHERE user_id = $1 AND revoked_at IS NULL "
                                   "ORDER BY created_at DESC";
    SP_PG_TRY(r, c.prepared("list_user_grants", sql, {user_id}));
    std::vector<Grant> out;
    for (int i = 0; i < r->rows(); ++i) out.push_back(read_grant(*r, i));
    return out;
  });
}

Status<> PgStore::record_grant_usage(const std::vector<std::pair<std::string, int64_t>>& uses) {
  if (uses.empty()) return Ok{};
  return pool_.transaction([&](PgConnection& c) -> Status<> {
    for (const auto& [id, at] : uses) {
      SP_PG_TRY(r, c.prepared("grant_last_use",
                              "UPDATE grants SET last_used_at = $1 WHERE id = $2 "
                              "AND (last_used_at IS NULL OR last_used_at < $1)",
                              {num(at), id}));
    }
    return Ok{};
  });
}

Result<bool> PgStore::revoke_access_token(const std::string& jti, const std::string& client_id,
                                          int64_t expires_at, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<bool> {
    // Rows are kept kRevokedTokenRetention past expiry (grant_store.hpp). At most 100 expired
    // rows go per revocation (each adds one, so the table still shrinks): an unbounded purge
    // of a backlog an app built up could outlast the sessions' statement bound and fail every
    // revocation after it.
    SP_PG_TRY(purge, c.prepared("purge_revoked_tokens",
                                "DELETE FROM revoked_tokens WHERE jti IN (SELECT jti FROM "
                                "revoked_tokens WHERE expires_at < $1 LIMIT 100)",
                                {num(now - kRevokedTokenRetention)}));
    // The first revocation stays; affected() says whether this was it.
    SP_PG_TRY(r, c.prepared("revoke_access_token",
                            "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) "
                            "VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
                            {jti, client_id, num(expires_at), num(now)}));
    return r->affected() > 0;
  });
}

Result<std::vector<Revoked>> PgStore::revoked_grants_since(int64_t since) {
  return pool_.run([&](PgConnection& c) {
    return revoked(c, "revoked_grants_since",
                   "SELECT id, client_id, revoked_at FROM grants WHERE revoked_at >= $1 "
                   "ORDER BY revoked_at",
                   since);
  });
}

Result<std::vector<Revoked>> PgStore::revoked_tokens_since(int64_t since) {
  return pool_.run([&](PgConnection& c) {
    return revoked(c, "revoked_tokens_since",
                   "SELECT jti, client_id, revoked_at FROM revoked_tokens WHERE revoked_at >= $1",
                   since);
  });
}

}  // namespace stagepass::postgresql
