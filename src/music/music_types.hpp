// The records of the music service (catalog, profiles, library, playlists, player). Plain
// values; MusicStore persists them and the Web API turns them into Spotify-shaped JSON.
// Times are milliseconds since the Unix epoch. Ids are 22-character base62 strings.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stagepass::music {

// An artist as other objects embed it (Spotify's "simplified artist").
struct ArtistRef {
  std::string id;
  std::string name;
};

struct Artist {
  std::string id;
  std::string name;
  std::vector<std::string> genres;
  int popularity = 0;  // 0..100
  int64_t followers = 0;
};

struct Album {
  std::string id;
  std::string name;
  std::string album_type;    // "album" | "single" | "compilation"
  std::string release_date;  // "YYYY-MM-DD" (precision "day")
  std::string label;
  int popularity = 0;
  int total_tracks = 0;
  std::vector<ArtistRef> artists;
};

struct Track {
  std::string id;
  std::string name;
  Album album;  // the album it belongs to (simplified: artists filled, no track list)
  std::vector<ArtistRef> artists;
  int disc_number = 1;
  int track_number = 1;
  int64_t duration_ms = 0;
  bool explicit_ = false;
  int popularity = 0;
};

// A page of a list whose full length is known.
template <class T>
struct Page {
  std::vector<T> items;
  int64_t total = 0;
  // Index entries read to answer, beyond the matches: for search, the postings of every query
  // word (what a multi-word query scans even when few rows match). 0 where not measured.
  int64_t scanned = 0;
};

// A page of a list read with a cursor (`after`/`before`), as /me/following and
// /me/player/recently-played page.
template <class T>
struct CursorPage {
  std::vector<T> items;
  int64_t total = 0;
  std::string after;      // following: the last id of the page; history: newest played_at
  std::string before;     // history: the oldest played_at of the page; empty otherwise
  bool has_more = false;  // another page exists past this one (`after` for following,
                          // `before` for history)
};

// A listener's public and private profile. The accounts service writes it when a user is
// created (the Web API has no access to the accounts database).
struct Profile {
  std::string id;
  std::string display_name;
  std::string email;
  std::string country = "SE";
  std::string product = "premium";
  int64_t followers = 0;
};

struct SavedTrack {
  int64_t added_at = 0;
  Track track;
};

struct Playlist {
  std::string id;
  std::string owner_id;
  std::string owner_display_name;  // from the owner's profile; empty when unknown
  std::string name;
  std::string description;
  bool is_public = true;
  bool collaborative = false;
  std::string snapshot_id;  // opaque; changes with every change of the playlist
  int64_t total_tracks = 0;
  int64_t followers = 0;
};

struct PlaylistDetails {  // what a create or a change sets; nullopt leaves a field alone
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<bool> is_public;
  std::optional<bool> collaborative;
};

struct PlaylistItem {
  int64_t added_at = 0;
  std::string added_by;  // a user id
  Track track;
};

// One removal of DELETE /playlists/{id}/tracks: every occurrence of the track, or only those
// at `positions` (which must hold that track).
struct PlaylistRemoval {
  std::string track_id;
  std::vector<int64_t> positions;
};

struct Device {
  std::string id;
  std::string name;
  std::string type = "Computer";  // Spotify's device types: Computer, Smartphone, Speaker...
  int volume_percent = 50;
  bool is_active = false;
};

struct PlaybackState {
  Device device;
  std::optional<Track> item;  // nullopt when the queue ran out
  int64_t progress_ms = 0;
  bool is_playing = false;
  bool shuffle_state = false;
  std::string repeat_state = "off";  // "off" | "track" | "context"
  std::string context_uri;           // "stagepass:album:<id>", ...; empty for a uri list
  int64_t timestamp = 0;             // when the state last changed
};

// PUT /me/player/play. Empty: resume. `context_uri` or `track_ids`, not both.
struct PlayCommand {
  std::optional<std::string> device_id;
  std::optional<std::string> context_uri;  // stagepass:album|playlist|artist:<id>
  std::vector<std::string> track_ids;
  std::optional<int64_t> offset_position;
  std::optional<std::string> offset_track_id;
  std::optional<int64_t> position_ms;
};

struct PlayHistory {
  Track track;
  int64_t played_at = 0;
  std::string context_uri;  // empty when none
};

// Counts of the catalog tables, and how long a generation took.
struct CatalogCounts {
  int64_t artists = 0;
  int64_t albums = 0;
  int64_t tracks = 0;
};

}  // namespace stagepass::music
