// Shared plumbing of the SqliteMusicStore translation units: connection leasing, the
// read/write wrappers, and loaders that turn catalog rows into records. Internal: include
// only from src/music/sqlite_music_*.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "music/sqlite_music_store.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::music {
namespace internal {

using sqlite::Connection;
using sqlite::SqliteError;
using sqlite::Stmt;
using sqlite::Transaction;

inline Error io_error(const SqliteError& e) {
  if ((e.code & 0xff) == SQLITE_CONSTRAINT) return {"conflict", e.what()};
  return {"io", e.what()};
}
inline Error not_found(std::string what) { return {"not_found", std::move(what) + " not found"}; }
inline Error invalid(std::string message) { return {"invalid", std::move(message)}; }

std::vector<std::string> split(const std::string& s, char sep);
std::string joined(const std::vector<std::string>& parts, char sep);

// Catalog loaders: nullopt when the id is unknown. A track carries its album (with the
// album's artists) and its own artists.
std::optional<Artist> load_artist(Connection& db, const std::string& id);
std::optional<Album> load_album(Connection& db, const std::string& id);
std::optional<Track> load_track(Connection& db, const std::string& id);
bool track_exists(Connection& db, const std::string& id);
bool artist_exists(Connection& db, const std::string& id);

// Play history row insert (shared by record_play and the player's auto-advance).
void insert_play(Connection& db, const std::string& user_id, const std::string& track_id,
                 int64_t played_at, const std::string& context_uri);

}  // namespace internal

class SqliteMusicStore::Lease {
 public:
  explicit Lease(SqliteMusicStore& s) : s_(s) {
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
  sqlite::Connection& operator*() { return *c_; }

 private:
  SqliteMusicStore& s_;
  std::unique_ptr<sqlite::Connection> c_;
};

template <class F>
auto SqliteMusicStore::read(F&& f) -> decltype(f(std::declval<sqlite::Connection&>())) {
  try {
    Lease lease(*this);
    return f(*lease);
  } catch (const sqlite::SqliteError& e) {
    return fail(internal::io_error(e));
  }
}

template <class F>
auto SqliteMusicStore::write(F&& f) -> decltype(f(std::declval<sqlite::Connection&>())) {
  try {
    std::lock_guard lk(write_mu_);
    return f(*writer_);
  } catch (const sqlite::SqliteError& e) {
    return fail(internal::io_error(e));
  }
}

}  // namespace stagepass::music
