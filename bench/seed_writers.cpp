#include "seed_writers.hpp"

#include <optional>
#include <vector>

#include "app/config.hpp"
#include "store/postgresql/pg_connection.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/sqlite_store_internal.hpp"

namespace stagepass::bench {

// Web API profiles in the music database (SQLite, whatever the accounts store), so GET /v1/me
// answers for the seeded people; batched like the accounts rows.
class ProfileWriter {
 public:
  explicit ProfileWriter(const std::string& path) : db_(path) {
    db_.exec("PRAGMA cache_size=-131072");
  }
  void profile(const User& u) {
    if (!tx_) tx_.emplace(db_);
    db_.prepare(
           "INSERT INTO profiles (id, display_name, email, country, product, followers) "
           "VALUES (?,?,?,?,?,0)")
        .bind_all(u.id, u.display_name, u.email, u.country, u.product)
        .run();
  }
  void commit() {
    if (tx_) {
      tx_->commit();
      tx_.reset();
    }
  }

 private:
  sqlite::Connection db_;
  // Declared after the connection, so an exception rolls the open batch back before it closes.
  std::optional<sqlite::Transaction> tx_;
};

Writer::Writer(const std::string& music_path, bool profiles, int64_t batch) : batch_(batch) {
  if (profiles) music_ = std::make_unique<ProfileWriter>(music_path);
}
Writer::~Writer() = default;

void Writer::user(const User& u) {
  add_user(u);
  if (music_) music_->profile(u);
  row();
}

void Writer::commit() {
  commit_accounts();
  if (music_) music_->commit();
  pending_ = 0;
}

namespace {

// The accounts rows in SQLite: one prepared INSERT per row inside BEGIN IMMEDIATE ... COMMIT.
class SqliteWriter final : public Writer {
 public:
  SqliteWriter(const std::string& accounts_path, const std::string& music_path, int64_t batch,
               bool profiles, int64_t cache_mib)
      : Writer(music_path, profiles, batch), db_(accounts_path) {
    // Random keys touch pages all over the indexes: a larger page cache for big seedings.
    db_.exec(("PRAGMA cache_size=-" + std::to_string(cache_mib * 1024)).c_str());
  }

 protected:
  void add_user(const User& u) override {
    begin();
    db_.prepare(
           "INSERT INTO users (id, email, display_name, password_hash, country, product, "
           "created_at) VALUES (?,?,?,?,?,?,?)")
        .bind_all(u.id, u.email, u.display_name, u.password_hash, u.country, u.product,
                  u.created_at)
        .run();
  }
  void add_grant(const Grant& g) override {
    begin();
    db_.prepare("INSERT INTO grants (id, user_id, client_id, scope, created_at) VALUES (?,?,?,?,?)")
        .bind_all(g.id, g.user_id, g.client_id, g.scope.str(), g.created_at)
        .run();
  }
  void add_refresh(const RefreshToken& t) override {
    begin();
    sqlite::internal::insert_refresh(db_, t);  // as the store: a chain's row, or the token's
  }
  void add_code(const AuthorizationCode& c) override {
    begin();
    db_.prepare(
           "INSERT INTO codes (hash, grant_id, client_id, user_id, redirect_uri, scope, "
           "code_challenge, expires_at) VALUES (?,?,?,?,?,?,?,?)")
        .bind_all(c.hash, c.grant_id, c.client_id, c.user_id, c.redirect_uri, c.scope.str(),
                  c.code_challenge, c.expires_at)
        .run();
  }
  void commit_accounts() override {
    if (tx_) {
      tx_->commit();
      tx_.reset();
    }
  }

 private:
  void begin() {
    if (!tx_) tx_.emplace(db_);
  }

  sqlite::Connection db_;
  // Declared after the connection, so an exception rolls the open batch back before it closes.
  std::optional<sqlite::Transaction> tx_;
};

// The accounts rows on PostgreSQL, in the columns of pg_schema.cpp's tables: multi-row INSERTs
// of up to kRowsPerInsert rows, their values sent apart from the SQL text, inside BEGIN ...
// COMMIT. Without a COMMIT (an exception) the connection closes and PostgreSQL rolls the open
// batch back.
class PgWriter final : public Writer {
 public:
  PgWriter(const std::string& url, const std::string& music_path, int64_t batch, bool profiles)
      : Writer(music_path, profiles, batch) {
    auto c = postgresql::PgConnection::connect(url);
    if (!c) throw std::runtime_error(c.error().message);
    conn_ = std::move(*c);
  }

 protected:
  void add_user(const User& u) override {
    add(users_, {u.id, u.email, u.display_name, u.password_hash, u.country, u.product,
                 std::to_string(u.created_at)});
  }
  void add_grant(const Grant& g) override {
    add(grants_, {g.id, g.user_id, g.client_id, g.scope.str(), std::to_string(g.created_at)});
  }
  void add_refresh(const RefreshToken& t) override {
    add(refresh_,
        {t.hash, t.grant_id, t.client_id, t.user_id, t.scope.str(), std::to_string(t.created_at),
         std::to_string(t.expires_at), std::to_string(t.idle_expires_at)});
  }
  void add_code(const AuthorizationCode& c) override {
    add(codes_, {c.hash, c.grant_id, c.client_id, c.user_id, c.redirect_uri, c.scope.str(),
                 c.code_challenge, std::to_string(c.expires_at)});
  }
  void commit_accounts() override {
    flush_all();
    if (open_) check(conn_->exec("COMMIT"), "COMMIT");
    open_ = false;
  }

 private:
  static constexpr size_t kRowsPerInsert = 1000;  // at most 8,000 parameters per statement
  struct Table {
    const char* name;
    const char* columns;
    size_t width;
    std::vector<postgresql::PgParam> values;
  };

  void add(Table& t, std::vector<postgresql::PgParam> row) {
    if (!open_) {
      check(conn_->exec("BEGIN"), "BEGIN");
      open_ = true;
    }
    for (auto& v : row) t.values.push_back(std::move(v));
    if (t.values.size() >= kRowsPerInsert * t.width) flush_all();
  }
  // In the order of the foreign keys: users, then grants, then what belongs to a grant.
  void flush_all() {
    for (Table* t : {&users_, &grants_, &refresh_, &codes_}) flush(*t);
  }
  void flush(Table& t) {
    if (t.values.empty()) return;
    std::string sql = std::string("INSERT INTO ") + t.name + " (" + t.columns + ") VALUES ";
    for (size_t i = 0; i < t.values.size(); ++i) {
      sql += i % t.width ? ",$" : (i ? "),($" : "($");
      sql += std::to_string(i + 1);
    }
    sql += ')';
    check(conn_->query(sql, t.values), t.name);
    t.values.clear();
  }
  template <typename R>
  static void check(const R& r, std::string_view what) {
    if (!r) {
      throw std::runtime_error("PostgreSQL (" + std::string(what) + "): " + r.error().message);
    }
  }

  std::unique_ptr<postgresql::PgConnection> conn_;
  Table users_{
      "users", "id, email, display_name, password_hash, country, product, created_at", 7, {}};
  Table grants_{"grants", "id, user_id, client_id, scope, created_at", 5, {}};
  Table refresh_{"refresh_tokens",
                 "hash, grant_id, client_id, user_id, scope, created_at, expires_at, "
                 "idle_expires_at",
                 8,
                 {}};
  Table codes_{"codes",
               "hash, grant_id, client_id, user_id, redirect_uri, scope, code_challenge, "
               "expires_at",
               8,
               {}};
  bool open_ = false;
};

}  // namespace

std::unique_ptr<Writer> make_writer(const std::string& database, const std::string& music_path,
                                    int64_t batch, bool profiles, int64_t cache_mib) {
  if (is_postgresql_url(database)) {
    return std::make_unique<PgWriter>(database, music_path, batch, profiles);
  }
  return std::make_unique<SqliteWriter>(database, music_path, batch, profiles, cache_mib);
}

}  // namespace stagepass::bench
