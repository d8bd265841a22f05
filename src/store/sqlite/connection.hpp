// A thin RAII layer over one sqlite3 connection: prepared statements cached per connection,
// typed binding and reading, transactions. Not thread-safe: one thread uses a Connection at a
// time (SqliteStore hands them out).
// Lifetime: a Stmt and a Transaction refer to their Connection, which must outlive them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>

namespace stagepass::sqlite {

struct SqliteError : std::runtime_error {
  int code;
  SqliteError(int c, const std::string& what) : std::runtime_error(what), code(c) {}
};

class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, std::string_view v);
  Stmt& bind(int i, int64_t v);
  Stmt& bind_null(int i);
  Stmt& bind(int i, std::optional<int64_t> v) { return v ? bind(i, *v) : bind_null(i); }
  // Binds in order starting at 1.
  template <class... A>
  Stmt& bind_all(const A&... args) {
    int i = 0;
    (bind(++i, args), ...);
    return *this;
  }
  // Steps once; true when a row is available.
  bool step();
  void run() {
    while (step()) {
    }
  }

  std::string text(int col) const;
  int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  double f64(int col) const { return sqlite3_column_double(s_, col); }
  bool is_null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::optional<int64_t> opt_i64(int col) const {
    return is_null(col) ? std::nullopt : std::optional<int64_t>(i64(col));
  }

 private:
  sqlite3_stmt* s_;
};

class Connection {
 public:
  // Opens (creating) the database file in WAL mode with durable commits.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void exec(const char* sql);
  // A cached prepared statement, reset when the returned Stmt goes out of scope.
  Stmt prepare(const char* sql);
  int64_t changes() const { return sqlite3_changes64(db_); }
  // True while a transaction is open on this connection.
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<const char*, sqlite3_stmt*> cache_;  // keyed by the literal's address
};

// All or nothing: BEGIN IMMEDIATE ... COMMIT, rolled back unless commit() ran. Inside an
// open transaction (ConnectionPool's group commit) it is a SAVEPOINT instead: commit()
// releases it into the enclosing transaction, which makes it durable later.
class Transaction {
 public:
  explicit Transaction(Connection& c) : c_(c), nested_(c.in_transaction()) {
    c_.exec(nested_ ? "SAVEPOINT tx" : "BEGIN IMMEDIATE");
  }
  ~Transaction() {
    if (!done_) {
      try {
        if (nested_) {
          c_.exec("ROLLBACK TO tx");
          c_.exec("RELEASE tx");
        } else {
          c_.exec("ROLLBACK");
        }
      } catch (...) {
      }
    }
  }
  void commit() {
    c_.exec(nested_ ? "RELEASE tx" : "COMMIT");
    done_ = true;
  }

 private:
  Connection& c_;
  const bool nested_;
  bool done_ = false;
};

}  // namespace stagepass::sqlite
