// SqliteStore: development mode and the allowlist (issue15:devmode; ClientStore's contract).
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

Status<> SqliteStore::set_client_mode(const std::string& id, bool development) {
  return write([&](Connection& db) -> Status<> {
    // Changes the row, so clients_version moves and every node's client cache drops the copy
    // in the old mode: the next token request of the app sees the new one.
    db.prepare("UPDATE clients SET development = ? WHERE id = ?")
        .bind_all(int64_t{development}, id)
        .run();
    if (db.changes() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

Result<bool> SqliteStore::add_to_allowlist(const std::string& client_id, const std::string& user_id,
                                           int64_t limit, int64_t now) {
  return write([&](Connection& db) -> Result<bool> {
    // One write: the count and the insert see the same list, so two adds racing for the
    // last place cannot both take it (the writer runs them one after the other).
    if (!db.prepare("SELECT 1 FROM clients WHERE id = ?").bind(1, client_id).step())
      return fail(not_found("client"));
    if (!db.prepare("SELECT 1 FROM users WHERE id = ?").bind(1, user_id).step())
      return fail(not_found("user"));
    if (on_allowlist_in(db, client_id, user_id)) return false;
    auto count = db.prepare("SELECT COUNT(*) FROM allowlist WHERE client_id = ?");
    count.bind(1, client_id).step();
    if (count.i64(0) >= limit) {
      return fail(Error{ErrorCode::kConflict,
                        "the allowlist is full (" + std::to_string(limit) + " people)"});
    }
    db.prepare("INSERT INTO allowlist (client_id, user_id, added_at) VALUES (?,?,?)")
        .bind_all(client_id, user_id, now)
        .run();
    return true;
  });
}

Result<AllowlistRemoval> SqliteStore::remove_from_allowlist(const std::string& client_id,
                                                            const std::string& user_id,
                                                            int64_t now) {
  return write([&](Connection& db) -> Result<AllowlistRemoval> {
    Transaction tx(db);
    db.prepare("DELETE FROM allowlist WHERE client_id = ? AND user_id = ?")
        .bind_all(client_id, user_id)
        .run();
    if (db.changes() == 0) return fail(not_found("allowlist entry"));
    AllowlistRemoval out;
    // At most one active grant per (person, app) (grants_active).
    auto s = db.prepare(
        "SELECT id FROM grants WHERE user_id = ? AND client_id = ? AND "
        "revoked_at IS NULL");
    if (s.bind_all(user_id, client_id).step()) {
      const std::string grant_id = s.text(0);
      out.grant_revoked = revoke_grant_in(db, grant_id, now);
    }
    tx.commit();
    return out;
  });
}

Result<std::vector<AllowlistEntry>> SqliteStore::list_allowlist(const std::string& client_id) {
  return read([&](Connection& db) -> Result<std::vector<AllowlistEntry>> {
    auto s = db.prepare(
        "SELECT a.client_id, a.user_id, u.email, u.display_name, a.added_at "
        "FROM allowlist a JOIN users u ON u.id = a.user_id "
        "WHERE a.client_id = ? ORDER BY a.added_at, u.email");
    s.bind(1, client_id);
    std::vector<AllowlistEntry> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4)});
    return out;
  });
}

}  // namespace stagepass::sqlite
