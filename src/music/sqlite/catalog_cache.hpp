// CatalogCache: what SqliteMusicStore keeps in memory of the catalog (artists, albums,
// tracks), which is read-only once loaded: the records by id, each artist's albums in page
// order, and recent search pages (type, query, limit, offset) with their totals. Every entry
// is exactly what the database answers, as nothing can change it; load_catalog() clears it.
// Playlists (user data) are never cached here.
//
// Bounds (docs/operations.md, "Web API limits and call costs"): each cache is an LruCache
// bounded in entries and bytes, about 40 MiB in all at worst; the ranking keys take 23
// bytes per catalog row (RankKeys::kMaxRowid bounds them).
// Thread safety: that of LruCache (every member safe from any thread).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/lru_cache.hpp"
#include "music/music_types.hpp"
#include "music/sqlite/rank_keys.hpp"

namespace stagepass::music {

// One of an artist's albums as /artists/{id}/albums sorts and filters them.
struct ArtistAlbumRow {
  std::string id;
  std::string group;  // album_type for the artist's own, "appears_on" otherwise
  std::string date;
};

struct CatalogCache {
  LruCache<Track> tracks{20000, 16u << 20};
  LruCache<Album> albums{10000, 8u << 20};
  LruCache<Artist> artists{10000, 4u << 20};
  LruCache<std::vector<ArtistAlbumRow>> artist_albums{4096, 4u << 20};
  LruCache<Page<std::string>> searches{4096, 8u << 20};
  // Search ranking keys by table, loaded at the first search of each (null: rank in SQL).
  std::mutex rank_mu;
  std::map<std::string, std::shared_ptr<const RankKeys>> rank_keys;

  void clear() {
    {
      std::lock_guard lk(rank_mu);
      rank_keys.clear();
    }
    tracks.clear();
    albums.clear();
    artists.clear();
    artist_albums.clear();
    searches.clear();
  }
};

// What a value holds in memory beyond the cache's own per-entry overhead (estimates of the
// heap its strings and vectors use, for the byte bounds).
size_t approx_bytes(const Artist& a);
size_t approx_bytes(const Album& a);
size_t approx_bytes(const Track& t);
size_t approx_bytes(const std::vector<ArtistAlbumRow>& rows);
size_t approx_bytes(const Page<std::string>& page);

}  // namespace stagepass::music
