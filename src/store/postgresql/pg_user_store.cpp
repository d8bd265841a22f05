// PgStore: people (UserStore), their browser sessions (SessionStore), migrations and ping.
#include <algorithm>

#include "store/postgresql/pg_migrations.hpp"
#include "store/postgresql/pg_schema.hpp"
#include "store/postgresql/pg_store_internal.hpp"

namespace stagepass::postgresql {
using namespace internal;

namespace internal {

User read_user(const PgResult& r, int row) {
  return {r.text(row, 0), r.text(row, 1), r.text(row, 2), r.text(row, 3),
          r.text(row, 4), r.text(row, 5), r.i64(row, 6),  r.i64(row, 7)};
}

Result<bool> insert_session_in(PgConnection& c, const Session& s) {
  SP_PG_TRY(
      r, c.prepared("insert_session",
                    "INSERT INTO sessions (hash, user_id, created_at, expires_at, "
                    "last_seen_at, generation) "
                    "SELECT $1, id, $2, $3, $4, credential_generation FROM users "
                    "WHERE id = $5 AND credential_generation = $6 FOR SHARE",
                    {s.hash, num(s.created_at), num(s.expires_at),
                     num(std::max(s.last_seen_at, s.created_at)), s.user_id, num(s.generation)}));
  return r->affected() > 0;
}

}  // namespace internal

PgStore::PgStore(Options o)
    : pool_(PgPool::Options{o.url, o.dbname, o.pool_size, o.acquire_timeout}) {
  if (!o.replica_url.empty()) {
    // Pages read history now and then: a few connections are plenty.
    replica_ = std::make_unique<PgPool>(
        PgPool::Options{std::move(o.replica_url), std::move(o.dbname),
                        std::clamp(o.pool_size / 4, 2, 4), o.acquire_timeout});
  }
}

Status<> PgStore::open(int64_t now) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(applied, migrate(c, schema_migrations(), now));
    return Ok{};
  });
}

bool PgStore::ping() {
  return pool_.run([](PgConnection& c) { return c.exec("SELECT 1"); }).ok();
}

// ---- people

Status<> PgStore::create_user(const User& u) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("create_user",
                            "INSERT INTO users (id, email, display_name, password_hash, country, "
                            "product, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            {u.id, u.email, u.display_name, u.password_hash, u.country, u.product,
                             num(u.created_at)}));
    return Ok{};
  });
}

Result<User> PgStore::find_user(const std::string& id) {
  return pool_.run([&](PgConnection& c) -> Result<User> {
    static const std::string sql = std::string(kUserColumns) + "WHERE id = $1";
    SP_PG_TRY(r, c.prepared("find_user", sql, {id}));
    if (r->rows() == 0) return fail(not_found("user"));
    return read_user(*r, 0);
  });
}

Result<User> PgStore::find_user_by_email(const std::string& email) {
  return pool_.run([&](PgConnection& c) -> Result<User> {
    static const std::string sql =
        std::string(kUserColumns) + "WHERE sp_nocase(email) = sp_nocase($1)";
    SP_PG_TRY(r, c.prepared("find_user_by_email", sql, {email}));
    if (r->rows() == 0) return fail(not_found("user"));
    return read_user(*r, 0);
  });
}

Result<PasswordChanged> PgStore::change_password(const PasswordChange& ch) {
  return pool_.transaction([&](PgConnection& c) -> Result<PasswordChanged> {
    PasswordChanged done;
    // 1. Only over the generation the checked password was read with (user_store.hpp). A
    //    concurrent change holds the row; READ COMMITTED then re-checks this WHERE against
    //    what it committed, so the later of two changes over one generation loses.
    SP_PG_TRY(up, c.prepared("change_password",
                             "UPDATE users SET password_hash = $1, "
                             "credential_generation = credential_generation + 1 "
                             "WHERE id = $2 AND credential_generation = $3 "
                             "RETURNING credential_generation",
                             {ch.password_hash, ch.user_id, num(ch.expected_generation)}));
    if (up->rows() == 0) {
      SP_PG_TRY(exists,
                c.prepared("user_exists", "SELECT 1 FROM users WHERE id = $1", {ch.user_id}));
      if (exists->rows() == 0) return fail(not_found("user"));
      return fail(credentials_changed());
    }
    done.generation = up->i64(0, 0);
    // 2. Every session ends.
    SP_PG_TRY(ended, c.prepared("delete_sessions_of", "DELETE FROM sessions WHERE user_id = $1",
                                {ch.user_id}));
    done.sessions_ended = ended->affected();
    // 3. The browser that asked continues in a session of the new generation.
    if (ch.session) {
      Session s = *ch.session;
      s.user_id = ch.user_id;
      s.generation = done.generation;
      // A taken key is kConflict (as SQLite answers); nothing is written either way.
      SP_PG_TRY(stored, insert_session_in(c, s));
      if (!*stored) return fail(Error{ErrorCode::kIo, "the new session could not be stored"});
    }
    // 4. Every app loses access, as revoke_grant revokes one grant.
    if (ch.revoke_grants) {
      SP_PG_TRY(grants, c.prepared("active_grants_of",
                                   "SELECT id FROM grants WHERE user_id = $1 AND revoked_at IS "
                                   "NULL ORDER BY id FOR UPDATE",
                                   {ch.user_id}));
      for (int i = 0; i < grants->rows(); ++i) {
        SP_PG_TRY(revoked, revoke_grant_in(c, grants->text(i, 0), ch.now));
        done.grants_revoked += *revoked ? 1 : 0;
      }
    }
    return done;
  });
}

// ---- sessions

Status<> PgStore::create_session(const Session& s) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(stored, insert_session_in(c, s));
    if (!*stored) return fail(credentials_changed());
    return Ok{};
  });
}

Result<Session> PgStore::find_session(const std::string& hash, int64_t now) {
  return pool_.run([&](PgConnection& c) -> Result<Session> {
    SP_PG_TRY(r, c.prepared("find_session",
                            "SELECT s.hash, s.user_id, s.created_at, s.expires_at, "
                            "s.last_seen_at, s.generation "
                            "FROM sessions s JOIN users u ON u.id = s.user_id "
                            "WHERE s.hash = $1 AND s.expires_at > $2 "
                            "AND s.generation = u.credential_generation",
                            {hash, num(now)}));
    if (r->rows() == 0) return fail(not_found("session"));
    return Session{r->text(0, 0), r->text(0, 1), r->i64(0, 2),
                   r->i64(0, 3),  r->i64(0, 4),  r->i64(0, 5)};
  });
}

Status<> PgStore::touch_session(const std::string& hash, int64_t now) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("touch_session",
                            "UPDATE sessions SET last_seen_at = $1 "
                            "WHERE hash = $2 AND last_seen_at < $1",
                            {num(now), hash}));
    return Ok{};
  });
}

Status<> PgStore::delete_session(const std::string& hash) {
  return pool_.run([&](PgConnection& c) -> Status<> {
    SP_PG_TRY(r, c.prepared("delete_session", "DELETE FROM sessions WHERE hash = $1", {hash}));
    return Ok{};
  });
}

Result<int64_t> PgStore::delete_user_sessions(const std::string& user_id,
                                              const std::string& keep_hash) {
  return pool_.transaction([&](PgConnection& c) -> Result<int64_t> {
    // The generation first: it locks the person's row, so a sign-in inserting a session of
    // the old generation (insert_session_in, FOR SHARE) either committed before (and its
    // session is deleted below) or waits and then finds the generation moved on.
    SP_PG_TRY(gen, c.prepared("bump_generation",
                              "UPDATE users SET credential_generation = credential_generation + 1 "
                              "WHERE id = $1 RETURNING credential_generation",
                              {user_id}));
    SP_PG_TRY(del, c.prepared("delete_sessions_but",
                              "DELETE FROM sessions WHERE user_id = $1 AND hash <> $2",
                              {user_id, keep_hash}));
    if (gen->rows() > 0) {
      SP_PG_TRY(kept, c.prepared("keep_session",
                                 "UPDATE sessions SET generation = $1 "
                                 "WHERE hash = $2 AND user_id = $3",
                                 {num(gen->i64(0, 0)), keep_hash, user_id}));
    }
    return del->affected();
  });
}

}  // namespace stagepass::postgresql
