// PgStore: development mode and the allowlist of an app in it (ClientStore, issue15:devmode).
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

// ---- development mode and the allowlist (issue15:devmode)

Status<> PgStore::set_client_mode(const std::string& id, bool development) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("set_client_mode", "UPDATE clients SET development = $1 WHERE id = $2",
                            {flag(development), id}));
    if (r->affected() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

Result<bool> PgStore::add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                       int64_t limit, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<bool> {
    // The app's row is locked first: adds racing for the last place run one after the other,
    // and the count below sees every add committed before.
    SP_PG_TRY(app, lock_client(c, client_id));
    if (!*app) return fail(not_found("client"));
    SP_PG_TRY(person, c.prepared("user_exists", "SELECT 1 FROM users WHERE id = $1", {user_id}));
    if (person->rows() == 0) return fail(not_found("user"));
    SP_PG_TRY(listed, on_allowlist_in(c, client_id, user_id));
    if (*listed) return false;
    SP_PG_TRY(count,
              c.prepared("allowlist_size", "SELECT COUNT(*) FROM allowlist WHERE client_id = $1",
                         {client_id}));
    if (count->i64(0, 0) >= limit) {
      return fail(Error{ErrorCode::kConflict,
                        "the allowlist is full (" + std::to_string(limit) + " people)"});
    }
    SP_PG_TRY(ins, c.prepared("allowlist_add",
                              "INSERT INTO allowlist (client_id, user_id, added_at) "
                              "VALUES ($1, $2, $3)",
                              {client_id, user_id, num(now)}));
    return true;
  });
}

Result<AllowlistRemoval> PgStore::remove_from_allowlist(const std::string& client_id,
                                                        const std::string& user_id, int64_t now) {
  return pool_.transaction([&](PgConnection& c) -> Result<AllowlistRemoval> {
    SP_PG_TRY(del, c.prepared("allowlist_remove",
                              "DELETE FROM allowlist WHERE client_id = $1 AND user_id = $2",
                              {client_id, user_id}));
    if (del->affected() == 0) return fail(not_found("allowlist entry"));
    AllowlistRemoval out;
    // At most one active grant per (person, app) (grants_active).
    SP_PG_TRY(g, c.prepared("active_grant_id",
                            "SELECT id FROM grants WHERE user_id = $1 AND client_id = $2 "
                            "AND revoked_at IS NULL FOR UPDATE",
                            {user_id, client_id}));
    if (g->rows() > 0) {
      SP_PG_TRY(revoked, revoke_grant_in(c, g->text(0, 0), now));
      out.grant_revoked = *revoked;
    }
    return out;
  });
}

Result<std::vector<AllowlistEntry>> PgStore::list_allowlist(const std::string& client_id) {
  return pool_.run([&](PgConnection& c) -> Result<std::vector<AllowlistEntry>> {
    SP_PG_TRY(r, c.prepared("list_allowlist",
                            "SELECT a.client_id, a.user_id, u.email, u.display_name, a.added_at "
                            "FROM allowlist a JOIN users u ON u.id = a.user_id "
                            "WHERE a.client_id = $1 ORDER BY a.added_at, u.email",
                            {client_id}));
    std::vector<AllowlistEntry> out;
    for (int i = 0; i < r->rows(); ++i) {
      out.push_back({r->text(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3), r->i64(i, 4)});
    }
    return out;
  });
}

}  // namespace stagepass::postgresql
