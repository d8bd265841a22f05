// UserStore on SQLite: people, and the password change that ends their sessions and, when
// asked, revokes their grants in the same write (user_store.hpp).
#include "store/sqlite/sqlite_store.hpp"
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

Status<> SqliteStore::create_user(const User& u) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO users (id, email, display_name, password_hash, country, product, "
          "created_at) VALUES (?,?,?,?,?,?,?)")
        .bind_all(u.id, u.email, u.display_name, u.password_hash, u.country, u.product,
                  u.created_at)
        .run();
    return Ok{};
  });
}

Result<User> SqliteStore::find_user(const std::string& id) {
  return read([&](Connection& db) -> Result<User> {
    static const std::string sql = std::string(kUserColumns) + "WHERE id = ?";
    auto s = db.prepare(sql.c_str());
    if (!s.bind(1, id).step()) return fail(not_found("user"));
    return read_user(s);
  });
}

Result<User> SqliteStore::find_user_by_email(const std::string& email) {
  return read([&](Connection& db) -> Result<User> {
    static const std::string sql = std::string(kUserColumns) + "WHERE email = ?";
    auto s = db.prepare(sql.c_str());
    if (!s.bind(1, email).step()) return fail(not_found("user"));
    return read_user(s);
  });
}

Result<PasswordChanged> SqliteStore::change_password(const PasswordChange& c) {
  return write([&](Connection& db) -> Result<PasswordChanged> {
    // Every step or none: an early return rolls back what this write did so far.
    Transaction tx(db);
    PasswordChanged done;
    // 1. Only over the generation the checked password was read with: a change checked
    //    against the old password must not win over a later change or "sign out everywhere".
    {
      auto s = db.prepare(
          "UPDATE users SET password_hash = ?, credential_generation = credential_generation + 1 "
          "WHERE id = ? AND credential_generation = ? RETURNING credential_generation");
      if (!s.bind_all(c.password_hash, c.user_id, c.expected_generation).step()) {
        auto exists = db.prepare("SELECT 1 FROM users WHERE id = ?");
        if (!exists.bind(1, c.user_id).step()) return fail(not_found("user"));
        return fail(credentials_changed());
      }
      done.generation = s.i64(0);
    }
    // 2. Every session ends: whoever knew the old password may hold one, or a copy of the
    //    cookie of the browser that asked.
    db.prepare("DELETE FROM sessions WHERE user_id = ?").bind(1, c.user_id).run();
    done.sessions_ended = db.changes();
    // 3. The browser that asked continues in a new session of the new generation.
    if (c.session) {
      Session s = *c.session;
      s.user_id = c.user_id;
      s.generation = done.generation;
      if (!insert_session_in(db, s)) {
        return fail(Error{ErrorCode::kIo, "the new session could not be stored"});
      }
    }
    // 4. Every app loses access, exactly as revoke_grant revokes one grant.
    if (c.revoke_grants) {
      std::vector<std::string> grants;
      auto s = db.prepare("SELECT id FROM grants WHERE user_id = ? AND revoked_at IS NULL");
      s.bind(1, c.user_id);
      while (s.step()) grants.push_back(s.text(0));
      for (const auto& id : grants) done.grants_revoked += revoke_grant_in(db, id, c.now);
    }
    tx.commit();
    return done;
  });
}

}  // namespace stagepass::sqlite
