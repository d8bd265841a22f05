// SqliteMusicStore: catalog reads and full-text search.
#include <algorithm>
#include <cctype>

#include "music/sqlite/rank_keys.hpp"
#include "music/sqlite/sqlite_music_internal.hpp"

namespace stagepass::music {
using namespace internal;

namespace {

// The record `id` from `cache`, else loaded with `db` (and kept when found).
template <class T, class Load>
std::optional<T> cached_one(Connection& db, LruCache<T>& cache, const std::string& id, Load load) {
  if (auto hit = cache.get(id)) return *hit;
  const uint64_t generation = cache.generation();
  auto found = load(db, id);
  if (found) cache.put(id, std::make_shared<const T>(*found), approx_bytes(*found), generation);
  return found;
}

// One entry per id, from `cache` when it has them all, else one read for the others.
template <class T, class Load>
Result<std::vector<std::optional<T>>> cached_many(SqliteMusicStore& store, LruCache<T>& cache,
                                                  const std::vector<std::string>& ids, Load load) {
  std::vector<std::optional<T>> out(ids.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (auto hit = cache.get(ids[i])) {
      out[i] = *hit;
    } else {
      missing.push_back(i);
    }
  }
  if (missing.empty()) return out;
  auto loaded = store.read([&](Connection& db) -> Status<> {
    for (size_t i : missing) out[i] = cached_one(db, cache, ids[i], load);
    return Ok{};
  });
  if (!loaded) return fail(loaded.error());
  return out;
}

// Turns what a person typed into an FTS5 query: every word must match as a word prefix.
// Spotify's field filters ("artist:queen") keep only their value. Punctuation separates
// words, so the result never contains FTS5 syntax of the user's making.
std::vector<std::string> fts_phrases(const std::string& q) {
  static const std::vector<std::string> kFilters = {"artist", "album", "track", "year",
                                                    "genre",  "isrc",  "upc",   "tag"};
  std::vector<std::string> out;
  std::string word;
  auto flush = [&](bool filter_allowed) {
    if (word.empty()) return;
    std::string lower = word;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool is_filter =
        filter_allowed && std::find(kFilters.begin(), kFilters.end(), lower) != kFilters.end();
    if (!is_filter) out.push_back("\"" + word + "\"*");
    word.clear();
  };
  for (unsigned char c : q) {
    if (std::isalnum(c) || c >= 0x80) {
      word.push_back(static_cast<char>(c));
    } else {
      flush(c == ':');
    }
  }
  flush(false);
  return out;
}

// Every phrase must match (FTS5 implicit AND).
std::string join_phrases(const std::vector<std::string>& phrases) {
  std::string out;
  for (const auto& p : phrases) out += (out.empty() ? "" : " ") + p;
  return out;
}

constexpr size_t kPostingsCacheSize = 4096;

}  // namespace

Result<std::vector<std::optional<Artist>>> SqliteMusicStore::artists(
    const std::vector<std::string>& ids) {
  return cached_many(*this, catalog_cache_.artists, ids, load_artist);
}

Result<std::vector<std::optional<Album>>> SqliteMusicStore::albums(
    const std::vector<std::string>& ids) {
  return cached_many(*this, catalog_cache_.albums, ids, load_album);
}

Result<std::vector<std::optional<Track>>> SqliteMusicStore::tracks(
    const std::vector<std::string>& ids) {
  return cached_many(*this, catalog_cache_.tracks, ids, load_track);
}

Result<Page<Track>> SqliteMusicStore::album_tracks(const std::string& album_id, int limit,
                                                   int64_t offset) {
  return read([&](Connection& db) -> Result<Page<Track>> {
    Page<Track> page;
    {
      auto s = db.prepare("SELECT count(*) FROM tracks WHERE album_id = ?");
      s.bind(1, album_id).step();
      page.total = s.i64(0);
    }
    if (page.total == 0 &&
        !db.prepare("SELECT 1 FROM albums WHERE id = ?").bind(1, album_id).step()) {
      return fail(not_found("album"));
    }
    std::vector<std::string> ids;
    {
      auto s = db.prepare(
          "SELECT id FROM tracks WHERE album_id = ? ORDER BY disc_number, track_number "
          "LIMIT ? OFFSET ?");
      s.bind_all(album_id, int64_t{limit}, offset);
      while (s.step()) ids.push_back(s.text(0));
    }
    for (const auto& id : ids) {
      if (auto t = cached_one(db, catalog_cache_.tracks, id, load_track))
        page.items.push_back(std::move(*t));
    }
    return page;
  });
}

Result<Page<Album>> SqliteMusicStore::artist_albums(const std::string& artist_id,
                                                    const std::vector<std::string>& groups,
                                                    int limit, int64_t offset) {
  auto rows = catalog_cache_.artist_albums.get(artist_id);
  if (!rows) {
    const uint64_t generation = catalog_cache_.artist_albums.generation();
    auto read_rows = read([&](Connection& db) -> Result<std::vector<ArtistAlbumRow>> {
      if (!artist_exists(db, artist_id)) return fail(not_found("artist"));
      std::vector<ArtistAlbumRow> out;
      // The artist's own releases (album_group = album_type) and albums they appear on.
      auto s = db.prepare(
          "SELECT al.id, al.album_type, al.release_date FROM album_artists x "
          "JOIN albums al ON al.id = x.album_id WHERE x.artist_id = ?1 "
          "UNION "
          "SELECT DISTINCT al.id, 'appears_on', al.release_date FROM track_artists x "
          "JOIN tracks t ON t.id = x.track_id JOIN albums al ON al.id = t.album_id "
          "WHERE x.artist_id = ?1 AND NOT EXISTS (SELECT 1 FROM album_artists y "
          "WHERE y.album_id = al.id AND y.artist_id = ?1)");
      s.bind(1, artist_id);
      while (s.step()) out.push_back({s.text(0), s.text(1), s.text(2)});
      // Newest first, then by id: a total order, so filtering by group keeps it.
      std::sort(out.begin(), out.end(), [](const ArtistAlbumRow& x, const ArtistAlbumRow& y) {
        return x.date != y.date ? x.date > y.date : x.id < y.id;
      });
      return out;
    });
    if (!read_rows) return fail(read_rows.error());
    rows = std::make_shared<const std::vector<ArtistAlbumRow>>(std::move(*read_rows));
    catalog_cache_.artist_albums.put(artist_id, rows, approx_bytes(*rows), generation);
  }
  std::vector<std::string> ids;  // the page's
  int64_t total = 0;
  for (const auto& r : *rows) {
    if (!groups.empty() && std::find(groups.begin(), groups.end(), r.group) == groups.end()) {
      continue;
    }
    if (total >= offset && total < offset + limit) ids.push_back(r.id);
    ++total;
  }
  auto albums = cached_many(*this, catalog_cache_.albums, ids, load_album);
  if (!albums) return fail(albums.error());
  Page<Album> page;
  page.total = total;
  page.scanned = static_cast<int64_t>(rows->size());
  for (auto& a : *albums) {
    if (a) page.items.push_back(std::move(*a));
  }
  return page;
}

Result<std::vector<Track>> SqliteMusicStore::artist_top_tracks(const std::string& artist_id,
                                                               int limit) {
  return read([&](Connection& db) -> Result<std::vector<Track>> {
    if (!artist_exists(db, artist_id)) return fail(not_found("artist"));
    std::vector<std::string> ids;
    {
      auto s = db.prepare(
          "SELECT t.id FROM track_artists x JOIN tracks t ON t.id = x.track_id "
          "WHERE x.artist_id = ? ORDER BY t.popularity DESC, t.id LIMIT ?");
      s.bind_all(artist_id, int64_t{limit});
      while (s.step()) ids.push_back(s.text(0));
    }
    std::vector<Track> out;
    for (const auto& id : ids) {
      if (auto t = cached_one(db, catalog_cache_.tracks, id, load_track))
        out.push_back(std::move(*t));
    }
    return out;
  });
}

std::shared_ptr<const RankKeys> SqliteMusicStore::rank_keys(Connection& db,
                                                            const std::string& table) {
  std::lock_guard lk(catalog_cache_.rank_mu);
  if (auto it = catalog_cache_.rank_keys.find(table); it != catalog_cache_.rank_keys.end()) {
    return it->second;
  }
  auto keys = RankKeys::load(db, table);
  if (!keys || keys->bytes() > 0) catalog_cache_.rank_keys.emplace(table, keys);  // not empty
  return keys;
}

Status<> SqliteMusicStore::prepare_search() {
  return read([&](Connection& db) -> Status<> {
    for (const char* table : {"tracks", "albums", "artists"}) rank_keys(db, table);
    return Ok{};
  });
}

Result<Page<std::string>> SqliteMusicStore::search(const std::string& type,
                                                   const std::string& query, int limit,
                                                   int64_t offset) {
  struct Sql {
    const char* count;
    const char* page;
    const char* scores;  // catalog: (rowid, bm25) of every match, ranked with RankKeys
    const char* table;
  };
  // bm25 weights the name above the artists; ties go to the more popular, then the id.
  // CROSS JOIN keeps the FTS index as the outer loop (the planner would otherwise scan).
  static const Sql kTrack{
      "SELECT count(*) FROM track_fts WHERE track_fts MATCH ?",
      "SELECT t.id FROM track_fts CROSS JOIN tracks t ON t.rowid = track_fts.rowid "
      "WHERE track_fts MATCH ? ORDER BY bm25(track_fts, 10.0, 1.0), t.popularity DESC, t.id "
      "LIMIT ? OFFSET ?",
      "SELECT rowid, bm25(track_fts, 10.0, 1.0) FROM track_fts WHERE track_fts MATCH ?", "tracks"};
  static const Sql kAlbum{
      "SELECT count(*) FROM album_fts WHERE album_fts MATCH ?",
      "SELECT al.id FROM album_fts CROSS JOIN albums al ON al.rowid = album_fts.rowid "
      "WHERE album_fts MATCH ? ORDER BY bm25(album_fts, 10.0, 1.0), al.popularity DESC, al.id "
      "LIMIT ? OFFSET ?",
      "SELECT rowid, bm25(album_fts, 10.0, 1.0) FROM album_fts WHERE album_fts MATCH ?", "albums"};
  static const Sql kArtist{
      "SELECT count(*) FROM artist_fts WHERE artist_fts MATCH ?",
      "SELECT a.id FROM artist_fts CROSS JOIN artists a ON a.rowid = artist_fts.rowid "
      "WHERE artist_fts MATCH ? ORDER BY bm25(artist_fts), a.popularity DESC, a.id "
      "LIMIT ? OFFSET ?",
      "SELECT rowid, bm25(artist_fts) FROM artist_fts WHERE artist_fts MATCH ?", "artists"};
  static const Sql kPlaylist{
      "SELECT count(*) FROM playlist_fts CROSS JOIN playlists p ON p.rowid = playlist_fts.rowid "
      "WHERE playlist_fts MATCH ? AND p.public = 1",
      "SELECT p.id FROM playlist_fts CROSS JOIN playlists p ON p.rowid = playlist_fts.rowid "
      "WHERE playlist_fts MATCH ? AND p.public = 1 ORDER BY bm25(playlist_fts, 10.0, 1.0), p.id "
      "LIMIT ? OFFSET ?",
      nullptr, nullptr};
  const Sql* sql = type == "track"      ? &kTrack
                   : type == "album"    ? &kAlbum
                   : type == "artist"   ? &kArtist
                   : type == "playlist" ? &kPlaylist
                                        : nullptr;
  if (!sql) return fail(invalid("unknown search type " + type));
  const auto phrases = fts_phrases(query);
  if (phrases.empty()) return Page<std::string>{};
  const std::string match = join_phrases(phrases);
  // The catalog is read-only once loaded: its postings and pages may be cached; playlists not.
  const bool catalog = sql != &kPlaylist;
  std::string memo_key;
  uint64_t generation = 0;
  if (catalog) {
    memo_key = type + '\0' + match + '\0' + std::to_string(limit) + '\0' + std::to_string(offset);
    if (auto hit = catalog_cache_.searches.get(memo_key)) return *hit;
    generation = catalog_cache_.searches.generation();
  }
  auto found = read([&](Connection& db) -> Result<Page<std::string>> {
    Page<std::string> page;
    bool ranked = false;
    if (sql->scores) {
      if (auto keys = rank_keys(db, sql->table)) {
        std::vector<RankKeys::Match> matches;
        auto s = db.prepare(sql->scores);
        s.bind(1, match);
        while (s.step()) matches.push_back({s.f64(1), s.i64(0)});
        if (auto ids = keys->page(matches, offset, limit)) {
          page.total = static_cast<int64_t>(matches.size());
          page.items = std::move(*ids);
          ranked = true;
        }
      }
    }
    if (!ranked) {
      {
        auto s = db.prepare(sql->count);
        s.bind(1, match).step();
        page.total = s.i64(0);
      }
      auto s = db.prepare(sql->page);
      s.bind_all(match, int64_t{limit}, offset);
      while (s.step()) page.items.push_back(s.text(0));
    }
    // What the index read for the matches: each word's postings. One catalog word's postings
    // are its matches; otherwise counted per word (a catalog word once, then cached).
    if (catalog && phrases.size() == 1) {
      page.scanned = page.total;
      return page;
    }
    for (const auto& phrase : phrases) {
      const std::string key = type + '\0' + phrase;
      if (catalog) {
        std::lock_guard lk(postings_mu_);
        if (auto it = postings_.find(key); it != postings_.end()) {
          page.scanned += it->second;
          continue;
        }
      }
      auto c = db.prepare(sql->count);
      c.bind(1, phrase).step();
      const int64_t n = c.i64(0);
      page.scanned += n;
      if (catalog) {
        std::lock_guard lk(postings_mu_);
        if (postings_.size() >= kPostingsCacheSize) postings_.clear();
        postings_.emplace(key, n);
      }
    }
    return page;
  });
  if (found && catalog) {
    auto page = std::make_shared<const Page<std::string>>(*found);
    catalog_cache_.searches.put(memo_key, page, approx_bytes(*page), generation);
  }
  return found;
}

}  // namespace stagepass::music
