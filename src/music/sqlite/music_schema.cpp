#include "music/sqlite/music_schema.hpp"

#include <array>
#include <string>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/migrations.hpp"

namespace stagepass::music {
namespace {

constexpr std::array kMigrations = {
    R"sql(
CREATE TABLE artists (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  genres TEXT NOT NULL,          -- comma-separated
  popularity INTEGER NOT NULL,
  followers INTEGER NOT NULL
);
CREATE TABLE albums (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  album_type TEXT NOT NULL,
  release_date TEXT NOT NULL,
  label TEXT NOT NULL,
  popularity INTEGER NOT NULL,
  total_tracks INTEGER NOT NULL
);
CREATE TABLE album_artists (
  album_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  artist_id TEXT NOT NULL,
  PRIMARY KEY (album_id, position)
) WITHOUT ROWID;
CREATE TABLE tracks (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  album_id TEXT NOT NULL,
  disc_number INTEGER NOT NULL,
  track_number INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  explicit INTEGER NOT NULL,
  popularity INTEGER NOT NULL
);
CREATE TABLE track_artists (
  track_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  artist_id TEXT NOT NULL,
  PRIMARY KEY (track_id, position)
) WITHOUT ROWID;
CREATE INDEX album_artists_artist ON album_artists(artist_id);
CREATE INDEX tracks_album ON tracks(album_id, disc_number, track_number);
CREATE INDEX track_artists_artist ON track_artists(artist_id);
-- Full-text indexes over names; rowid = the catalog row's rowid. Built after a bulk load.
CREATE VIRTUAL TABLE artist_fts USING fts5(name, content='', prefix='2 3',
  tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE album_fts USING fts5(name, artists, content='', prefix='2 3',
  tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE track_fts USING fts5(name, artists, content='', prefix='2 3',
  tokenize='unicode61 remove_diacritics 2');

CREATE TABLE profiles (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  email TEXT NOT NULL,
  country TEXT NOT NULL,
  product TEXT NOT NULL,
  followers INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE saved_tracks (
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  track_id TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  UNIQUE (user_id, track_id)
);
CREATE INDEX saved_tracks_recent ON saved_tracks(user_id, seq);
CREATE TABLE followed_artists (
  user_id TEXT NOT NULL,
  artist_id TEXT NOT NULL,
  followed_at INTEGER NOT NULL,
  PRIMARY KEY (user_id, artist_id)
) WITHOUT ROWID;

CREATE TABLE playlists (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  owner_id TEXT NOT NULL,
  name TEXT NOT NULL,
  description TEXT NOT NULL,
  public INTEGER NOT NULL,
  collaborative INTEGER NOT NULL,
  version INTEGER NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE playlist_items (
  playlist_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  track_id TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  added_by TEXT NOT NULL,
  PRIMARY KEY (playlist_id, position)
) WITHOUT ROWID;
CREATE TABLE playlist_follows (
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  playlist_id TEXT NOT NULL,
  UNIQUE (user_id, playlist_id)
);
CREATE INDEX playlist_follows_user ON playlist_follows(user_id, seq);
CREATE INDEX playlist_follows_playlist ON playlist_follows(playlist_id);
-- Kept in step with playlists by the store (rowid = playlists.rowid).
CREATE VIRTUAL TABLE playlist_fts USING fts5(name, description, prefix='2 3',
  tokenize='unicode61 remove_diacritics 2');

CREATE TABLE devices (
  user_id TEXT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  volume_percent INTEGER NOT NULL,
  is_active INTEGER NOT NULL,
  PRIMARY KEY (user_id, id)
) WITHOUT ROWID;
-- One row per user with something loaded. `tracks` is the context as newline-separated
-- track ids, `queue` the user's queue (played before the context continues).
CREATE TABLE playback (
  user_id TEXT PRIMARY KEY,
  device_id TEXT NOT NULL,
  context_uri TEXT NOT NULL,
  tracks TEXT NOT NULL,
  queue TEXT NOT NULL,
  position INTEGER NOT NULL,     -- index in `tracks` of the context track
  track_id TEXT NOT NULL,        -- the track playing (may come from the queue)
  progress_ms INTEGER NOT NULL,  -- at `timestamp`
  is_playing INTEGER NOT NULL,
  shuffle INTEGER NOT NULL,
  repeat TEXT NOT NULL,
  timestamp INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE play_history (
  seq INTEGER PRIMARY KEY,
  user_id TEXT NOT NULL,
  track_id TEXT NOT NULL,
  played_at INTEGER NOT NULL,
  context_uri TEXT NOT NULL
);
CREATE INDEX play_history_user ON play_history(user_id, played_at);
)sql",
};

}  // namespace

void migrate_music(sqlite::Connection& db) { sqlite::apply_migrations(db, kMigrations); }

}  // namespace stagepass::music
