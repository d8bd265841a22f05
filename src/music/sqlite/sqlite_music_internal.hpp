// Shared plumbing of the SqliteMusicStore translation units: connection leasing, the
// read/write wrappers, and loaders that turn catalog rows into records. Internal: include
// only from src/music/sqlite_music_*.cpp.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "music/sqlite/sqlite_music_store.hpp"
#include "store/sqlite/connection_pool.hpp"

namespace stagepass::music {
namespace internal {

using sqlite::Connection;
using sqlite::SqliteError;
using sqlite::Stmt;
using sqlite::Transaction;

inline Error io_error(const SqliteError& e) { return sqlite::to_error(e); }
inline Error not_found(std::string what) {
  return {ErrorCode::kNotFound, std::move(what) + " not found"};
}
inline Error invalid(std::string message) { return {ErrorCode::kInvalid, std::move(message)}; }

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

}  // namespace stagepass::music
