// SqliteMusicStore: MusicStore on its own SQLite file (WAL, synchronous=FULL, migrations by
// PRAGMA user_version), separate from the accounts database.
//
// Concurrency: one writer connection behind a mutex and a pool of reader connections that
// read concurrently under WAL; prepared statements are cached per connection.
// Thread safety: every method is safe from any thread; methods block (run them on a worker
// pool). The implementation is split by concern across sqlite_music_*.cpp.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/read_cache.hpp"
#include "music/music_store.hpp"
#include "music/sqlite/catalog_cache.hpp"
#include "store/sqlite/connection_pool.hpp"

namespace stagepass::sqlite {
class Connection;
}

namespace stagepass::music {

class SqliteMusicStore final : public MusicStore {
 public:
  // Opens or creates the file (and its parent directory), applies migrations and opens
  // `readers` reader connections (at least 1). Throws on failure (startup only).
  SqliteMusicStore(const std::string& path, int readers);
  ~SqliteMusicStore() override;

  bool ping() override;

  Result<CatalogCounts> catalog_counts() override;
  Status<> load_catalog(const std::function<void(CatalogSink&)>& fill) override;
  Status<> prepare_search() override;  // the ranking keys of the three catalog tables
  Result<std::vector<std::optional<Artist>>> artists(const std::vector<std::string>& ids) override;
  Result<std::vector<std::optional<Album>>> albums(const std::vector<std::string>& ids) override;
  Result<std::vector<std::optional<Track>>> tracks(const std::vector<std::string>& ids) override;
  Result<Page<Track>> album_tracks(const std::string& album_id, int limit, int64_t offset) override;
  Result<Page<Album>> artist_albums(const std::string& artist_id,
                                    const std::vector<std::string>& groups, int limit,
                                    int64_t offset) override;
  Result<std::vector<Track>> artist_top_tracks(const std::string& artist_id, int limit) override;
  Result<Page<std::string>> search(const std::string& type, const std::string& query, int limit,
                                   int64_t offset) override;

  Status<> upsert_profile(const Profile& profile) override;
  Result<Profile> find_profile(const std::string& user_id) override;
  std::shared_ptr<const Profile> cached_profile(const std::string& user_id) override;

  Status<> save_tracks(const std::string& user_id, const std::vector<std::string>& ids,
                       int64_t now) override;
  Status<> remove_saved_tracks(const std::string& user_id,
                               const std::vector<std::string>& ids) override;
  Result<std::vector<bool>> saved_tracks_contain(const std::string& user_id,
                                                 const std::vector<std::string>& ids) override;
  Result<Page<SavedTrack>> saved_tracks(const std::string& user_id, int limit,
                                        int64_t offset) override;

  Status<> follow_artists(const std::string& user_id, const std::vector<std::string>& ids,
                          int64_t now) override;
  Status<> unfollow_artists(const std::string& user_id,
                            const std::vector<std::string>& ids) override;
  Result<std::vector<bool>> follows_artists(const std::string& user_id,
                                            const std::vector<std::string>& ids) override;
  Result<CursorPage<Artist>> followed_artists(const std::string& user_id, const std::string& after,
                                              int limit) override;

  Result<Playlist> create_playlist(const std::string& owner_id, const std::string& id,
                                   const PlaylistDetails& details, int64_t now) override;
  Result<Playlist> find_playlist(const std::string& id) override;
  Result<std::string> change_playlist(const std::string& id,
                                      const PlaylistDetails& details) override;
  Result<Page<Playlist>> user_playlists(const std::string& user_id, bool include_private, int limit,
                                        int64_t offset) override;
  Result<Page<PlaylistItem>> playlist_items(const std::string& id, int limit,
                                            int64_t offset) override;
  Result<std::string> add_playlist_items(const std::string& id,
                                         const std::vector<std::string>& track_ids,
                                         std::optional<int64_t> position,
                                         const std::string& by_user, int64_t now) override;
  Result<std::string> replace_playlist_items(const std::string& id,
                                             const std::vector<std::string>& track_ids,
                                             const std::string& by_user, int64_t now) override;
  Result<std::string> reorder_playlist_items(const std::string& id, int64_t range_start,
                                             int64_t insert_before, int64_t range_length,
                                             const std::optional<std::string>& snapshot) override;
  Result<std::string> remove_playlist_items(const std::string& id,
                                            const std::vector<PlaylistRemoval>& removals,
                                            const std::optional<std::string>& snapshot) override;
  Result<bool> may_edit_playlist(const std::string& id, const std::string& user_id) override;

  Status<> upsert_device(const std::string& user_id, const Device& device) override;
  Result<std::vector<Device>> devices(const std::string& user_id) override;
  Result<std::optional<PlaybackState>> playback(const std::string& user_id, int64_t now) override;
  Status<> play(const std::string& user_id, const PlayCommand& cmd, int64_t now) override;
  Status<> pause(const std::string& user_id, int64_t now) override;
  Status<> skip(const std::string& user_id, int direction, int64_t now) override;
  Status<> seek(const std::string& user_id, int64_t position_ms, int64_t now) override;
  Status<> set_volume(const std::string& user_id, int percent,
                      const std::optional<std::string>& device_id) override;
  Status<> set_shuffle(const std::string& user_id, bool state, int64_t now) override;
  Status<> set_repeat(const std::string& user_id, const std::string& mode, int64_t now) override;
  Status<> add_to_queue(const std::string& user_id, const std::string& track_id,
                        int64_t now) override;
  Status<> transfer(const std::string& user_id, const std::string& device_id,
                    std::optional<bool> play, int64_t now) override;

  Status<> record_play(const std::string& user_id, const std::string& track_id, int64_t played_at,
                       const std::string& context_uri) override;
  Result<CursorPage<PlayHistory>> recently_played(const std::string& user_id,
                                                  std::optional<int64_t> before,
                                                  std::optional<int64_t> after, int limit) override;
  Result<Page<Artist>> top_artists(const std::string& user_id, const std::string& time_range,
                                   int limit, int64_t offset, int64_t now) override;
  Result<Page<Track>> top_tracks(const std::string& user_id, const std::string& time_range,
                                 int limit, int64_t offset, int64_t now) override;

  // For the implementation files (sqlite_music_internal.hpp): run `f` on a reader / the
  // writer connection, turning SqliteError into an kIo (or kConflict) Error.
  template <class F>
  auto read(F&& f) {
    return pool_.read(std::forward<F>(f));
  }
  template <class F>
  auto write(F&& f) {
    return pool_.write(std::forward<F>(f));
  }

 private:
  // The search ranking keys of a catalog table, read with `db` at its first search.
  std::shared_ptr<const RankKeys> rank_keys(sqlite::Connection& db, const std::string& table);

  sqlite::ConnectionPool pool_;
  // GET /v1/me answers from here on the I/O thread (cached_profile); 60 s bounds how long a
  // profile changed by another process can look old.
  ReadCache<std::shared_ptr<const Profile>> profiles_{100000, std::chrono::seconds(60)};
  // Postings per (search type, query word) of the read-only catalog indexes (tracks, albums,
  // artists), for Page::scanned; bounded (emptied when full).
  std::mutex postings_mu_;
  std::unordered_map<std::string, int64_t> postings_;
  // The read-only catalog's records, artists' album lists and search pages (catalog_cache.hpp).
  CatalogCache catalog_cache_;
};

}  // namespace stagepass::music
