#include "store/sqlite/sqlite_store.hpp"

#include <filesystem>

#include "core/text.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::sqlite {
using namespace internal;

SqliteStore::SqliteStore(const std::string& path, int readers)
    : signal_(path),
      pool_(
          path, readers, [](Connection& db) { migrate(db); }, commit_hooks(), "sp-acct-writer") {}

// A group that moved clients_version (a client, secret or cut changed: schema triggers) tells
// every process sharing the file, once it is durable, and this process's cache.
CommitHooks SqliteStore::commit_hooks() {
  auto version = [](Connection& db) {
    auto v = db.prepare("SELECT v FROM clients_version WHERE id = 1");
    return v.step() ? v.i64(0) : -1;
  };
  return {[this, version](Connection& db) { clients_version_.at_begin = version(db); },
          [this, version](Connection& db) { clients_version_.at_commit = version(db); },
          [this] {
            if (clients_version_.at_commit == clients_version_.at_begin) return;
            signal_.bump();
            // This process's own change is seen at once even if the signal could not be
            // written: the next lookup reads the version again, and one under way caches
            // nothing.
            std::lock_guard lk(client_cache_.mu);
            client_cache_.version = -1;
            ++client_cache_.generation;
          }};
}

SqliteStore::~SqliteStore() = default;

bool SqliteStore::ping() {
  auto r = read([](Connection& db) -> Result<bool> {
    auto s = db.prepare("SELECT 1");
    return s.step();
  });
  return r.ok() && *r;
}

// ---- clients

namespace {
// Inside the caller's transaction. The secret lives in client_secrets (issue15:secrets); the
// old column stays empty.
void insert_client(Connection& db, const Client& c) {
  db.prepare(
        "INSERT INTO clients (id, name, is_public, secret_hash, redirect_uris, allowed_scopes, "
        "web_origins, created_at, rate_limit, introspect_any, development, owner_id, description) "
        "VALUES (?,?,?,NULL,?,?,?,?,?,?,?,?,?)")
      .bind_all(c.id, c.name, int64_t{c.is_public}, join(c.redirect_uris, "\n"),
                c.allowed_scopes.str(), join(c.web_origins, "\n"), c.created_at, c.rate_limit,
                int64_t{c.introspect_any}, int64_t{c.development}, c.owner_id, c.description)
      .run();
  if (!c.is_public && !c.secret_hash.empty()) {
    insert_current_secret(db, c.id, c.secret_hash, c.created_at);
  }
}
}  // namespace

Status<> SqliteStore::create_client(const Client& c) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    insert_client(db, c);
    tx.commit();
    return Ok{};
  });
}

constexpr const char* kClientColumns =
    "SELECT id, name, is_public, secret_hash, redirect_uris, allowed_scopes, web_origins, "
    "created_at, rate_limit, introspect_any, development, owner_id, description, suspended_at, "
    "suspended_reason FROM clients ";

std::optional<Client> SqliteStore::cached_client(const std::string& id, uint64_t signal,
                                                 std::chrono::steady_clock::time_point now) {
  if (signal == 0) return std::nullopt;
  std::lock_guard lk(client_cache_.mu);
  if (client_cache_.version < 0 || client_cache_.signal != signal ||
      now - client_cache_.checked_at >= ClientCache::kVersionCheck) {
    return std::nullopt;
  }
  auto it = client_cache_.clients.find(id);
  if (it == client_cache_.clients.end()) return std::nullopt;
  return it->second;
}

// The fast path of find_client alone: one pread of the signal and a lookup under one mutex.
std::optional<Client> SqliteStore::find_client_in_memory(const std::string& id) {
  return cached_client(id, signal_.load(), std::chrono::steady_clock::now());
}

Result<Client> SqliteStore::find_client(const std::string& id) {
  // The signal first, like the version below: a row read after it is at least as new.
  const uint64_t signal = signal_.load();  // 0: no signal (unavailable or unreadable)
  const auto now = std::chrono::steady_clock::now();
  if (auto cached = cached_client(id, signal, now)) return std::move(*cached);
  // The slow path, at least once a second: the file may have been replaced (or become
  // openable, or been cut short) since, and the database's own version says what any writer
  // changed. The signal read again after that, still before the rows.
  signal_.reopen_if_replaced();
  uint64_t generation = 0;
  {
    std::lock_guard lk(client_cache_.mu);
    generation = client_cache_.generation;
  }
  return read([&, signal = signal_.load()](Connection& db) -> Result<Client> {
    // Entries dropped are destroyed after the lock is released (declared before each lock):
    // an I/O thread may be waiting for it (find_client_in_memory).
    std::vector<std::unordered_map<std::string, Client>> dropped;
    auto drop_all = [&] { dropped.emplace_back().swap(client_cache_.clients); };
    // The version first: a row read after it is at least as new, so caching the row under
    // it can only make the cache drop entries too early, never serve a stale one.
    int64_t version = 0;
    {
      auto v = db.prepare("SELECT v FROM clients_version WHERE id = 1");
      if (v.step()) version = v.i64(0);
    }
    // A change of this process committed since the lookup began (its snapshot may be older):
    // the row is read, not cached.
    bool ours_since = false;
    {
      std::lock_guard lk(client_cache_.mu);
      ours_since = client_cache_.generation != generation;
      if (!ours_since) {
        if (version != client_cache_.version || signal != client_cache_.signal) {
          drop_all();
          client_cache_.version = version;
          client_cache_.signal = signal;
        }
        client_cache_.checked_at = now;
        auto it = client_cache_.clients.find(id);
        if (it != client_cache_.clients.end()) return it->second;
      }
    }
    static const std::string sql = std::string(kClientColumns) + "WHERE id = ?";
    auto s = db.prepare(sql.c_str());
    if (!s.bind(1, id).step()) return fail(not_found("client"));
    Client client = read_client(s);
    read_client_secrets(db, client);
    std::lock_guard lk(client_cache_.mu);
    // The generation only grows, so an unchanged one also means none moved before the read.
    if (client_cache_.generation == generation && client_cache_.version == version &&
        client_cache_.signal == signal) {
      if (client_cache_.clients.size() >= ClientCache::kMaxEntries) drop_all();
      client_cache_.clients.emplace(id, client);
    }
    return client;
  });
}

Result<std::vector<Client>> SqliteStore::list_clients() {
  return read([&](Connection& db) -> Result<std::vector<Client>> {
    static const std::string sql = std::string(kClientColumns) + "ORDER BY created_at, id";
    auto s = db.prepare(sql.c_str());
    std::vector<Client> out;
    while (s.step()) out.push_back(read_client(s));
    read_all_client_secrets(db, out);
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
    db.prepare("INSERT OR REPLACE INTO deleted_clients (id, deleted_at) VALUES (?, ?)")
        .bind_all(id, now)
        .run();
    tx.commit();
    return Ok{};
  });
}

// Not write_background: the revocation feed prunes from poll(), which a request that revokes
// (RFC 7009, "Remove access") runs on its own thread and waits for.
Status<> SqliteStore::prune_deleted_clients(int64_t before) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("DELETE FROM deleted_clients WHERE deleted_at < ?").bind(1, before).run();
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::deleted_clients_since(
    int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<std::pair<std::string, int64_t>>> {
    auto s = db.prepare("SELECT id, deleted_at FROM deleted_clients WHERE deleted_at >= ?");
    s.bind(1, since);
    std::vector<std::pair<std::string, int64_t>> out;
    while (s.step()) out.emplace_back(s.text(0), s.i64(1));
    return out;
  });
}

Status<> SqliteStore::set_client_secret_hash(const std::string& id, const std::string& hash) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    int64_t created_at = 0;
    {
      auto c = db.prepare("SELECT created_at FROM clients WHERE id = ?");
      if (!c.bind(1, id).step()) return fail(not_found("client"));
      created_at = c.i64(0);
    }
    db.prepare("DELETE FROM client_secrets WHERE client_id = ?").bind(1, id).run();
    insert_current_secret(db, id, hash, created_at);
    tx.commit();
    return Ok{};
  });
}

// ---- apps of the developer dashboard (issue15:dashboard)

Result<std::vector<Client>> SqliteStore::list_owned_clients(const std::string& owner_id) {
  if (owner_id.empty()) return std::vector<Client>{};
  return read([&](Connection& db) -> Result<std::vector<Client>> {
    static const std::string sql =
        std::string(kClientColumns) + "WHERE owner_id = ? ORDER BY created_at, rowid";
    auto s = db.prepare(sql.c_str());
    s.bind(1, owner_id);
    std::vector<Client> out;
    while (s.step()) out.push_back(read_client(s));
    return out;
  });
}

Status<> SqliteStore::create_owned_client(const Client& c, int64_t max_owned) {
  if (c.owner_id.empty()) return fail(Error{ErrorCode::kInvalid, "an owned client needs an owner"});
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    auto count = db.prepare("SELECT COUNT(*) FROM clients WHERE owner_id = ?");
    count.bind(1, c.owner_id);
    count.step();
    if (count.i64(0) >= max_owned) {
      return fail(Error{ErrorCode::kInvalid, "the owner has reached the app limit"});
    }
    insert_client(db, c);
    tx.commit();
    return Ok{};
  });
}

Status<> SqliteStore::update_owned_client(const Client& c) {
  if (c.owner_id.empty()) return fail(not_found("client"));
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "UPDATE clients SET name = ?, description = ?, redirect_uris = ?, allowed_scopes = ?, "
          "web_origins = ? WHERE id = ? AND owner_id = ?")
        .bind_all(c.name, c.description, join(c.redirect_uris, "\n"), c.allowed_scopes.str(),
                  join(c.web_origins, "\n"), c.id, c.owner_id)
        .run();
    if (db.changes() == 0) return fail(not_found("client"));
    return Ok{};
  });
}

// issue15:abuse: the suspension changes the row, so clients_version moves and every node's
// client cache drops the unsuspended copy.
Status<> SqliteStore::set_client_suspension(const std::string& id, int64_t at,
                                            const std::string& reason, int64_t cut_slack) {
  return write([&](Connection& db) -> Status<> {
    Transaction tx(db);
    db.prepare("UPDATE clients SET suspended_at = ?, suspended_reason = ? WHERE id = ?")
        .bind_all(at, at > 0 ? reason : std::string(), id)
        .run();
    if (db.changes() == 0) return fail(not_found("client"));
    if (at > 0) {
      // issue15-fix:suspension: the refusal of the tokens issued until now outlives the
      // suspension (client_store.hpp). Past the previous cut too: tokens minted after it
      // carry iat = that cut + 1, maybe later than now (TokenIssuer).
      db.prepare(
            "INSERT INTO client_token_cuts (client_id, cut_at) VALUES (?, ?) "
            "ON CONFLICT (client_id) DO UPDATE SET cut_at = MAX(cut_at + 1, excluded.cut_at)")
          .bind_all(id, at + std::max<int64_t>(0, cut_slack))
          .run();
    }
    tx.commit();
    return Ok{};
  });
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::suspended_clients_since(
    int64_t since) {
  return read([&](Connection& db) -> Result<std::vector<std::pair<std::string, int64_t>>> {
    auto s = db.prepare(
        "SELECT id, suspended_at FROM clients WHERE suspended_at >= ? AND "
        "suspended_at > 0");
    s.bind(1, since);
    std::vector<std::pair<std::string, int64_t>> out;
    while (s.step()) out.emplace_back(s.text(0), s.i64(1));
    return out;
  });
}

// ---- sessions

Status<> SqliteStore::create_session(const Session& s) {
  return write([&](Connection& db) -> Status<> {
    // Conditional on the generation inside the same write (session_store.hpp): a password
    // change or "sign out everywhere" committed since the sign-in read the person wins.
    if (!insert_session_in(db, s)) return fail(credentials_changed());
    return Ok{};
  });
}

Result<Session> SqliteStore::find_session(const std::string& hash, int64_t now) {
  return read([&](Connection& db) -> Result<Session> {
    auto s = db.prepare(
        "SELECT s.hash, s.user_id, s.created_at, s.expires_at, s.last_seen_at, s.generation "
        "FROM sessions s JOIN users u ON u.id = s.user_id "
        "WHERE s.hash = ? AND s.expires_at > ? AND s.generation = u.credential_generation");
    if (!s.bind_all(hash, now).step()) return fail(not_found("session"));
    return Session{s.text(0), s.text(1), s.i64(2), s.i64(3), s.i64(4), s.i64(5)};
  });
}

Status<> SqliteStore::touch_session(const std::string& hash, int64_t now) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("UPDATE sessions SET last_seen_at = ? WHERE hash = ? AND last_seen_at < ?")
        .bind_all(now, hash, now)
        .run();
    return Ok{};
  });
}

Status<> SqliteStore::delete_session(const std::string& hash) {
  return write([&](Connection& db) -> Status<> {
    db.prepare("DELETE FROM sessions WHERE hash = ?").bind(1, hash).run();
    return Ok{};
  });
}

Result<int64_t> SqliteStore::delete_user_sessions(const std::string& user_id,
                                                  const std::string& keep_hash) {
  return write([&](Connection& db) -> Result<int64_t> {
    db.prepare("DELETE FROM sessions WHERE user_id = ? AND hash != ?")
        .bind_all(user_id, keep_hash)
        .run();
    const int64_t ended = db.changes();
    // A sign-in still checking a password read the old generation: it creates nothing now.
    db.prepare("UPDATE users SET credential_generation = credential_generation + 1 WHERE id = ?")
        .bind(1, user_id)
        .run();
    db.prepare(
          "UPDATE sessions SET generation = (SELECT credential_generation FROM users WHERE id = ?) "
          "WHERE hash = ? AND user_id = ?")
        .bind_all(user_id, keep_hash, user_id)
        .run();
    return ended;
  });
}

// ---- signing keys

Result<std::vector<SigningKey>> SqliteStore::list_signing_keys() {
  return read([&](Connection& db) -> Result<std::vector<SigningKey>> {
    auto s = db.prepare(
        "SELECT kid, alg, public_key, sealed_private_key, created_at, signs_from, retire_at "
        "FROM signing_keys ORDER BY signs_from, created_at, kid");
    std::vector<SigningKey> out;
    while (s.step()) {
      out.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.i64(4), s.i64(5),
                     s.opt_i64(6).value_or(0)});
    }
    return out;
  });
}

Status<> SqliteStore::save_signing_key(const SigningKey& k) {
  return write([&](Connection& db) -> Status<> {
    db.prepare(
          "INSERT INTO signing_keys (kid, alg, public_key, sealed_private_key, created_at, "
          "signs_from, retire_at) VALUES (?,?,?,?,?,?,?)")
        .bind_all(k.kid, k.alg, k.public_key, k.sealed_private_key, k.created_at, k.signs_from,
                  k.retire_at ? std::optional<int64_t>(k.retire_at) : std::nullopt)
        .run();
    return Ok{};
  });
}

}  // namespace stagepass::sqlite
