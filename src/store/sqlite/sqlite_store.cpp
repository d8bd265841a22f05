#include "store/sqlite/sqlite_store.hpp"

#include <filesystem>

#include "core/text.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"

namespace stagepass::sqlite {
namespace {

Error io_error(const SqliteError& e) {
  if ((e.code & 0xff) == SQLITE_CONSTRAINT) return {"conflict", e.what()};
  return {"io", e.what()};
}
Error not_found(std::string what) { return {"not_found", std::move(what) + " not found"}; }

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    if (nl == std::string::npos) nl = s.size();
    if (nl > start) out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

constexpr const char* kUserColumns =
    "SELECT id, email, display_name, password_hash, country, product, created_at FROM users ";
User read_user(Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5), s.i64(6)};
}

Client read_client(Stmt& s) {
  Client c;
  c.id = s.text(0);
  c.name = s.text(1);
  c.is_public = s.i64(2) != 0;
  c.secret_hash = s.text(3);
  c.redirect_uris = split_lines(s.text(4));
  c.allowed_scopes = ScopeSet::parse(s.text(5));
  c.web_origins = split_lines(s.text(6));
  c.created_at = s.i64(7);
  return c;
}

Grant read_grant(Stmt& s) {
  return {s.text(0), s.text(1), s.text(2), ScopeSet::parse(s.text(3)), s.i64(4), s.opt_i64(5)};
}

RefreshToken read_refresh(Stmt& s) {
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

void insert_refresh(Connection& db, const RefreshToken& t) {
  db.prepare(
        "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
        "expires_at, idle_expires_at) VALUES (?,?,?,?,?,?,?,?)")
      .bind_all(t.hash, t.grant_id, t.client_id, t.user_id, t.scope.str(), t.created_at,
                t.expires_at, t.idle_expires_at)
      .run();
}

bool grant_active(Connection& db, const std::string& grant_id) {
  auto s = db.prepare("SELECT 1 FROM grants WHERE id = ? AND revoked_at IS NULL");
  return s.bind(1, grant_id).step();
}

void revoke_grant_in(Connection& db, const std::string& id, int64_t now) {
  db.prepare("UPDATE grants SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
      .bind_all(now, id)
      .run();
  db.prepare("UPDATE refresh_tokens SET revoked = 1 WHERE grant_id = ?").bind(1, id).run();
  db.prepare("UPDATE codes SET used_at = coalesce(used_at, ?) WHERE grant_id = ?")
      .bind_all(now, id)
      .run();
}

}  // namespace

class SqliteStore::Lease {
 public:
  explicit Lease(SqliteStore& s) : s_(s) {
    std::unique_lock lk(s_.pool_mu_);
    s_.pool_cv_.wait(lk, [&] { return !s_.readers_.empty(); });
    c_ = std::move(s_.readers_.back());
    s_.readers_.pop_back();
  }
  ~Lease() {
    {
      std::lock_guard lk(s_.pool_mu_);
      s_.readers_.push_back(std::move(c_));
    }
    s_.pool_cv_.notify_one();
  }
  Connection& operator*() { return *c_; }

 private:
  SqliteStore& s_;
  std::unique_ptr<Connection> c_;
};

template <class F>
auto SqliteStore::read(F&& f) -> decltype(f(std::declval<Connection&>())) {
  try {
    Lease lease(*this);
    return f(*lease);
  } catch (const SqliteError& e) {
    return fail(io_error(e));
  }
}

template <class F>
auto SqliteStore::write(F&& f) -> decltype(f(std::declval<Connection&>())) {
  try {
    std::lock_guard lk(write_mu_);
    return f(*writer_);
  } catch (const SqliteError& e) {
    return fail(io_error(e));
  }
}

SqliteStore::SqliteStore(const std::string& path, int readers) {
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  writer_ = std::make_unique<Connection>(path);
  migrate(*writer_);
  for (int i = 0; i < std::max(1, readers); ++i) {
    readers_.push_back(std::make_unique<Connection>(path));
  }
}

SqliteStore::~SqliteStore() = default;

bool SqliteStore::ping() {
  auto r = read([](Connection& db) -> Result<bool> {
    auto s = db.prepare("SELECT 1");
    return s.step();
  });
  return r.ok() && *r;
}

// ---- users

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

// ---- clients

Status<> SqliteStore::create_client(const Client& c) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO clients (id, name, is_public, secret_hash, redirect_uris, allowed_scopes, "
          "web_origins, created_at) VALUES (?,?,?,?,?,?,?,?)")
        .bind_all(c.id, c.name, int64_t{c.is_public}, c.secret_hash, join(c.redirect_uris, "\n"),
                  c.allowed_scopes.str(), join(c.web_origins, "\n"), c.created_at)
        .run();
    return Ok{};
  });
}

constexpr const char* kClientColumns =
    "SELECT id, name, is_public, secret_hash, redirect_uris, allowed_scopes, web_origins, "
    "created_at FROM clients ";

Result<Client> SqliteStore::find_client(const std::string& id) {
  return read([&](Connection& db) -> Result<Client> {
    static const std::string sql = std::string(kClientColumns) + "WHERE id = ?";
    auto s = db.prepare(sql.c_str());
    if (!s.bind(1, id).step()) return fail(not_found("client"));
    return read_client(s);
  });
}

Result<std::vector<Client>> SqliteStore::list_clients() {
  return read([&](Connection& db) -> Result<std::vector<Client>> {
    static const std::string sql = std::string(kClientColumns) + "ORDER BY created_at, id";
    auto s = db.prepare(sql.c_str());
    std::vector<Client> out;
    while (s.step()) out.push_back(read_client(s));
    return out;
  });
}

Status<> SqliteStore::delete_client(const std::string& id, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    db.prepare("DELETE FROM clients WHERE id = ?").bind(1, id).run();
    if (db.changes() == 0) return fail(not_found("client"));
    auto s = db.prepare("SELECT id FROM grants WHERE client_id = ? AND revoked_at IS NULL");
    std::vector<std::string> grants;
    s.bind(1, id);
    while (s.step()) grants.push_back(s.text(0));
    for (const auto& g : grants) revoke_grant_in(db, g, now);
    tx.commit();
    return Ok{};
  });
}

Status<> SqliteStore::set_client_secret_hash(const std::string& id, const std::string& hash) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("UPDATE clients SET secret_hash = ? WHERE id = ?").bind_all(hash, id).run();
    if (db.changes() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

// ---- grants

constexpr const char* kGrantColumns =
    "SELECT id, user_id, client_id, scope, created_at, revoked_at FROM grants ";

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
    static const std::string sql = std::string(kGrantColumns) + "WHERE id = ?";
    auto s = db.prepare(sql.c_str());
    if (!s.bind(1, id).step()) return fail(not_found("grant"));
    return read_grant(s);
  });
}

Result<Grant> SqliteStore::record_consent(const std::string& user_id,
                                          const std::string& client_id, const ScopeSet& scope,
                                          const std::string& new_id, int64_t now) {
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
        g = Grant{new_id, user_id, client_id, {}, now, std::nullopt};
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

Status<> SqliteStore::revoke_grant(const std::string& id, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    revoke_grant_in(db, id, now);
    tx.commit();
    return Ok{};
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

Result<AuthorizationCode> SqliteStore::consume_code(const std::string& hash, int64_t now) {
  return write([&](Connection& db) -> Result<AuthorizationCode> {
    Transaction tx(db);
    AuthorizationCode c;
    {
      auto s = db.prepare(
          "SELECT hash, grant_id, client_id, user_id, redirect_uri, scope, code_challenge, "
          "expires_at, used_at FROM codes WHERE hash = ?");
      if (!s.bind(1, hash).step()) return fail(not_found("code"));
      c = {s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), ScopeSet::parse(s.text(5)),
           s.text(6), s.i64(7), s.opt_i64(8)};
    }
    if (c.used_at) {
      revoke_grant_in(db, c.grant_id, now);
      tx.commit();
      return fail(Error{"conflict", "authorization code replayed; grant revoked"});
    }
    db.prepare("UPDATE codes SET used_at = ? WHERE hash = ?").bind_all(now, hash).run();
    tx.commit();
    c.used_at = now;
    return c;
  });
}

// ---- refresh tokens

Status<> SqliteStore::save_refresh_token(const RefreshToken& t) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    if (!grant_active(db, t.grant_id)) return fail(not_found("grant"));
    insert_refresh(db, t);
    tx.commit();
    return Ok{};
  });
}

Result<RefreshToken> SqliteStore::find_refresh_token(const std::string& hash) {
  return read([&](Connection& db) -> Result<RefreshToken> {
    auto s = db.prepare(
        "SELECT hash, grant_id, client_id, user_id, scope, created_at, expires_at, "
        "idle_expires_at, rotated_at, revoked FROM refresh_tokens WHERE hash = ?");
    if (!s.bind(1, hash).step()) return fail(not_found("refresh token"));
    return read_refresh(s);
  });
}

Result<RotateOutcome> SqliteStore::rotate_refresh_token(const std::string& old_hash,
                                                        const RefreshToken& next, int64_t now,
                                                        int64_t grace_seconds) {
  return write([&](Connection& db) -> Result<RotateOutcome> {
    Transaction tx(db);
    auto s = db.prepare(
        "SELECT grant_id, rotated_at, replaced_by, revoked FROM refresh_tokens WHERE hash = ?");
    if (!s.bind(1, old_hash).step()) return RotateOutcome::kNotFound;
    std::string grant_id = s.text(0);
    auto rotated_at = s.opt_i64(1);
    std::string replaced_by = s.text(2);
    bool revoked = s.i64(3) != 0;
    if (revoked || !grant_active(db, grant_id)) return RotateOutcome::kNotFound;

    RotateOutcome outcome = RotateOutcome::kRotated;
    if (rotated_at) {
      // RFC 9700 §4.14.2: a rotated token presented again means it leaked (or a client lost
      // a response). Inside the grace window the newest successor wins; outside it the whole
      // grant dies.
      if (grace_seconds <= 0 || now - *rotated_at >= grace_seconds) {
        revoke_grant_in(db, grant_id, now);
        tx.commit();
        return RotateOutcome::kReuseRevoked;
      }
      db.prepare("UPDATE refresh_tokens SET revoked = 1 WHERE hash = ?")
          .bind(1, replaced_by)
          .run();
      outcome = RotateOutcome::kReuseGrace;
    }
    db.prepare("UPDATE refresh_tokens SET rotated_at = coalesce(rotated_at, ?), replaced_by = ? "
               "WHERE hash = ?")
        .bind_all(now, next.hash, old_hash)
        .run();
    insert_refresh(db, next);
    tx.commit();
    return outcome;
  });
}

// ---- sessions

Status<> SqliteStore::create_session(const Session& s) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?,?,?,?)")
        .bind_all(s.hash, s.user_id, s.created_at, s.expires_at)
        .run();
    return Ok{};
  });
}

Result<Session> SqliteStore::find_session(const std::string& hash, int64_t now) {
  return read([&](Connection& db) -> Result<Session> {
    auto s = db.prepare(
        "SELECT hash, user_id, created_at, expires_at FROM sessions "
        "WHERE hash = ? AND expires_at > ?");
    if (!s.bind_all(hash, now).step()) return fail(not_found("session"));
    return Session{s.text(0), s.text(1), s.i64(2), s.i64(3)};
  });
}

Status<> SqliteStore::delete_session(const std::string& hash) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("DELETE FROM sessions WHERE hash = ?").bind(1, hash).run();
    return Ok{};
  });
}

// ---- signing keys

Result<std::vector<SigningKey>> SqliteStore::list_signing_keys() {
  return read([&](Connection& db) -> Result<std::vector<SigningKey>> {
    auto s = db.prepare(
        "SELECT kid, alg, public_key, sealed_private_key, created_at FROM signing_keys "
        "ORDER BY created_at, kid");
    std::vector<SigningKey> out;
    while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4)});
    return out;
  });
}

Status<> SqliteStore::save_signing_key(const SigningKey& k) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO signing_keys (kid, alg, public_key, sealed_private_key, created_at) "
          "VALUES (?,?,?,?,?)")
        .bind_all(k.kid, k.alg, k.public_key, k.sealed_private_key, k.created_at)
        .run();
    return Ok{};
  });
}

}  // namespace stagepass::sqlite
