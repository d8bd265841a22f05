// ConnectionPool: the concurrency model shared by every SQLite-backed store: one writer
// connection behind a mutex (SQLite admits one writer at a time) and a pool of reader
// connections that read concurrently under WAL. read()/write() run a function on a
// connection and turn SqliteError into Result errors ("conflict" for constraint violations,
// "io" otherwise). Thread safety: read() and write() may be called from any thread; they
// block, so call them from worker threads.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::sqlite {

inline Error to_error(const SqliteError& e) {
  if ((e.code & 0xff) == SQLITE_CONSTRAINT) return {"conflict", e.what()};
  return {"io", e.what()};
}

class ConnectionPool {
 public:
  // Opens (creating the file and its directory) the writer, runs `migrate` on it, then opens
  // `readers` reader connections. Throws on failure (startup only).
  ConnectionPool(const std::string& path, int readers,
                 const std::function<void(Connection&)>& migrate);

  template <class F>
  auto read(F&& f) -> decltype(f(std::declval<Connection&>())) {
    try {
      Lease lease(*this);
      return f(*lease.c);
    } catch (const SqliteError& e) {
      return fail(to_error(e));
    }
  }

  template <class F>
  auto write(F&& f) -> decltype(f(std::declval<Connection&>())) {
    try {
      std::lock_guard lk(write_mu_);
      return f(*writer_);
    } catch (const SqliteError& e) {
      return fail(to_error(e));
    }
  }

 private:
  struct Lease {
    explicit Lease(ConnectionPool& p);
    ~Lease();
    ConnectionPool& pool;
    std::unique_ptr<Connection> c;
  };

  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
};

}  // namespace stagepass::sqlite
