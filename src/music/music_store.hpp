// MusicStore: the storage role of the Web API (the resource half of Stagepass): the catalog,
// listener profiles, saved tracks, followed artists, playlists, the player and play history.
// It lives in its own database, apart from the accounts store.
//
// Contract for every implementation:
//  - Thread safety: every method may be called concurrently from worker threads.
//  - Blocking: methods block on I/O; never call them on an HTTP I/O thread.
//  - Durability: a method that returns success has committed durably.
//  - Errors: Result/Status with Error.code (core/result.hpp) one of
//      kNotFound    an id named in the call does not exist (message names what),
//      kInvalid     the request contradicts the data (a position out of range, a snapshot id
//                   of another playlist); the message is fit for the wire,
//      kNoDevice    a player command while the user has no (active) device,
//      kRestricted  a player command that makes no sense now (pause while paused),
//      kIo          the database failed.
//  - Arguments are already validated by the caller: ids are syntactically valid, limits are
//    1..50, lists of ids hold at most 50; the store does not re-check syntax.
//  - Times (`now`, added_at, played_at) are milliseconds since the Unix epoch, passed in so
//    tests are deterministic.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "music/music_types.hpp"

namespace stagepass::music {

// Receives generated catalog rows during MusicStore::load_catalog (see catalog_generator).
class CatalogSink {
 public:
  virtual ~CatalogSink() = default;
  virtual void add_artist(const Artist& a) = 0;
  virtual void add_album(const Album& a) = 0;  // `artists` must already be added
  virtual void add_track(const Track& t) = 0;  // only `album.id` of t.album is read
};

class MusicStore {
 public:
  virtual ~MusicStore() = default;
  virtual bool ping() = 0;

  // ---- catalog (read-only once loaded)
  virtual Result<CatalogCounts> catalog_counts() = 0;
  // Runs `fill` inside one transaction, then builds the search index. Call once, on an empty
  // catalog (startup only; may take seconds).
  virtual Status<> load_catalog(const std::function<void(CatalogSink&)>& fill) = 0;
  // Readies what the first search would otherwise build while others wait (startup, once the
  // catalog is loaded). A store with nothing to ready does nothing.
  virtual Status<> prepare_search() { return Ok{}; }
  // Many ids at once; the result has one entry per id, nullopt for an unknown id.
  virtual Result<std::vector<std::optional<Artist>>> artists(
      const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<std::optional<Album>>> albums(const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<std::optional<Track>>> tracks(const std::vector<std::string>& ids) = 0;
  // Tracks of an album by disc and track number; kNotFound for an unknown album.
  virtual Result<Page<Track>> album_tracks(const std::string& album_id, int limit,
                                           int64_t offset) = 0;
  // Albums of an artist, newest first, restricted to `groups` (album, single, compilation,
  // appears_on; empty = all). kNotFound for an unknown artist. `scanned`: the albums read
  // (every one of the artist's, before `groups` and the page select).
  virtual Result<Page<Album>> artist_albums(const std::string& artist_id,
                                            const std::vector<std::string>& groups, int limit,
                                            int64_t offset) = 0;
  // The artist's most popular tracks (at most `limit`).
  virtual Result<std::vector<Track>> artist_top_tracks(const std::string& artist_id, int limit) = 0;
  // Full-text search over names (words and word prefixes, all must match), best match
  // first. `type` is one of "track", "album", "artist", "playlist" (public playlists only).
  // Answers ids; fetch the objects with the methods above. `total` counts every match (not
  // capped); `scanned` the index entries read for them (each word's postings).
  virtual Result<Page<std::string>> search(const std::string& type, const std::string& query,
                                           int limit, int64_t offset) = 0;

  // ---- profiles
  // Creates or replaces the profile (the accounts service calls it when a user is created).
  virtual Status<> upsert_profile(const Profile& profile) = 0;
  virtual Result<Profile> find_profile(const std::string& user_id) = 0;
  // The profile if it is in memory, without blocking (the I/O thread may call this);
  // null means "ask find_profile". Implementations without a cache keep the default. The
  // same object comes back until the profile changes or leaves the cache, so a caller may
  // key what it derives from a profile by the pointer.
  virtual std::shared_ptr<const Profile> cached_profile(const std::string& user_id) {
    (void)user_id;
    return nullptr;
  }

  // ---- saved tracks ("Your Library"), most recently saved first
  // kNotFound (and nothing saved) when a track id is unknown; saving twice keeps added_at.
  virtual Status<> save_tracks(const std::string& user_id, const std::vector<std::string>& ids,
                               int64_t now) = 0;
  virtual Status<> remove_saved_tracks(const std::string& user_id,
                                       const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<bool>> saved_tracks_contain(const std::string& user_id,
                                                         const std::vector<std::string>& ids) = 0;
  virtual Result<Page<SavedTrack>> saved_tracks(const std::string& user_id, int limit,
                                                int64_t offset) = 0;

  // ---- followed artists, ordered by artist id; `after` is the last id of the previous page
  virtual Status<> follow_artists(const std::string& user_id, const std::vector<std::string>& ids,
                                  int64_t now) = 0;  // kNotFound for an unknown artist
  virtual Status<> unfollow_artists(const std::string& user_id,
                                    const std::vector<std::string>& ids) = 0;
  virtual Result<std::vector<bool>> follows_artists(const std::string& user_id,
                                                    const std::vector<std::string>& ids) = 0;
  virtual Result<CursorPage<Artist>> followed_artists(const std::string& user_id,
                                                      const std::string& after, int limit) = 0;

  // ---- playlists. Every change returns the new snapshot id.
  // Creates a playlist owned (and followed) by `owner_id` with the caller-chosen `id`.
  virtual Result<Playlist> create_playlist(const std::string& owner_id, const std::string& id,
                                           const PlaylistDetails& details, int64_t now) = 0;
  virtual Result<Playlist> find_playlist(const std::string& id) = 0;
  virtual Result<std::string> change_playlist(const std::string& id,
                                              const PlaylistDetails& details) = 0;
  // Playlists `user_id` owns or follows, most recent first. Private playlists are included
  // only when `include_private` (the caller is that user): their own, and collaborative ones
  // they follow.
  virtual Result<Page<Playlist>> user_playlists(const std::string& user_id, bool include_private,
                                                int limit, int64_t offset) = 0;
  virtual Result<Page<PlaylistItem>> playlist_items(const std::string& id, int limit,
                                                    int64_t offset) = 0;
  // Inserts tracks at `position` (nullopt: append). kInvalid when position > length.
  virtual Result<std::string> add_playlist_items(const std::string& id,
                                                 const std::vector<std::string>& track_ids,
                                                 std::optional<int64_t> position,
                                                 const std::string& by_user, int64_t now) = 0;
  virtual Result<std::string> replace_playlist_items(const std::string& id,
                                                     const std::vector<std::string>& track_ids,
                                                     const std::string& by_user, int64_t now) = 0;
  // Moves [range_start, range_start+range_length) before `insert_before` (Spotify's rules).
  // A `snapshot_id` must name this playlist (any version); the change applies to the
  // current items.
  virtual Result<std::string> reorder_playlist_items(
      const std::string& id, int64_t range_start, int64_t insert_before, int64_t range_length,
      const std::optional<std::string>& snapshot) = 0;
  virtual Result<std::string> remove_playlist_items(const std::string& id,
                                                    const std::vector<PlaylistRemoval>& removals,
                                                    const std::optional<std::string>& snapshot) = 0;
  // May `user_id` change the items (owner, or a follower of a collaborative playlist)?
  virtual Result<bool> may_edit_playlist(const std::string& id, const std::string& user_id) = 0;

  // ---- player
  // Adds or replaces a device; an active device makes the others inactive.
  virtual Status<> upsert_device(const std::string& user_id, const Device& device) = 0;
  virtual Result<std::vector<Device>> devices(const std::string& user_id) = 0;
  // The state at `now` (progress advanced, finished tracks moved to the history); nullopt
  // when there is no active device or nothing loaded.
  virtual Result<std::optional<PlaybackState>> playback(const std::string& user_id,
                                                        int64_t now) = 0;
  virtual Status<> play(const std::string& user_id, const PlayCommand& cmd, int64_t now) = 0;
  virtual Status<> pause(const std::string& user_id, int64_t now) = 0;
  virtual Status<> skip(const std::string& user_id, int direction, int64_t now) = 0;  // +1/-1
  virtual Status<> seek(const std::string& user_id, int64_t position_ms, int64_t now) = 0;
  virtual Status<> set_volume(const std::string& user_id, int percent,
                              const std::optional<std::string>& device_id) = 0;
  virtual Status<> set_shuffle(const std::string& user_id, bool state, int64_t now) = 0;
  virtual Status<> set_repeat(const std::string& user_id, const std::string& mode, int64_t now) = 0;
  virtual Status<> add_to_queue(const std::string& user_id, const std::string& track_id,
                                int64_t now) = 0;
  // Makes `device_id` the active device (kNotFound when unknown); plays when `play`.
  virtual Status<> transfer(const std::string& user_id, const std::string& device_id,
                            std::optional<bool> play, int64_t now) = 0;

  // ---- history and taste
  virtual Status<> record_play(const std::string& user_id, const std::string& track_id,
                               int64_t played_at, const std::string& context_uri) = 0;
  // Newest first. `before`/`after` (exclusive, ms) bound played_at; at most one is set.
  virtual Result<CursorPage<PlayHistory>> recently_played(const std::string& user_id,
                                                          std::optional<int64_t> before,
                                                          std::optional<int64_t> after,
                                                          int limit) = 0;
  // Derived from saved tracks, followed artists and plays within `time_range`
  // (short_term = 4 weeks, medium_term = 6 months, long_term = all) ending at `now`;
  // deterministic, ties broken by id.
  virtual Result<Page<Artist>> top_artists(const std::string& user_id,
                                           const std::string& time_range, int limit, int64_t offset,
                                           int64_t now) = 0;
  virtual Result<Page<Track>> top_tracks(const std::string& user_id, const std::string& time_range,
                                         int limit, int64_t offset, int64_t now) = 0;
};

}  // namespace stagepass::music
