// Catalog: /v1/tracks, /v1/albums, /v1/artists (any valid token, client credentials too).
#include <memory>
#include <new>
#include <optional>
#include <string>

#include "api/endpoints/handlers.hpp"
#include "core/lru_cache.hpp"

namespace stagepass::api::endpoints {
namespace {

// Catalog answers already rendered, by request target (path and query, as sent) and base URL.
// The catalog never changes once loaded (music/music_store.hpp), and these handlers read
// nothing else (not the token, not the clock), so a 200 to the same target is the same bytes
// for as long as the process runs: the next one is answered on the I/O thread, without the
// worker pool, the catalog caches or JSON. Only 200s are kept, with the units the call was
// charged (the same again: docs/operations.md, "Catalog reads from memory"). Bounded like the
// catalog caches: 4,096 answers, 16 MiB with their keys; a target over 2 KiB (50 ids take
// about 1.2 KiB) is answered but not kept, so padded targets cannot flush the cache for
// little. The catalog is loaded before the routes exist (ApiNode) and never reloaded; the
// cache is never cleared. Why: an artist's albums (8.4 KB for 20 albums) cost 144 CPU µs a
// call to render, a third of it malloc and free, against 35 µs for a profile answered so
// (issue 17).
class RenderedPages {
 public:
  struct Page {
    std::string body;
    int64_t cost = 1;
  };
  static std::string key(const ApiRequest& req) {
    std::string k;
    k.reserve(req.base_url.size() + 1 + req.http.target().size());
    k += req.base_url;
    k += ' ';
    k += req.http.target();
    return k;
  }
  static constexpr size_t kMaxTarget = 2048;

  std::shared_ptr<const Page> find(const std::string& key) { return cache_.get(key); }
  // Nothing clears this cache (the catalog never changes), so no put() can race a clear().
  void keep(const std::string& key, const std::string& body, int64_t cost) {
    auto page = std::make_shared<const Page>(Page{body, cost});
    cache_.put(key, page, body.size(), cache_.generation());
  }

 private:
  LruCache<Page> cache_{4096, 16u << 20};
};

template <class T, class Build>
bj::array many(const std::vector<std::optional<T>>& found, const Urls& u, Build build) {
  bj::array out;
  for (const auto& x : found) out.push_back(x ? bj::value(build(u, *x)) : bj::value(nullptr));
  return out;
}

http::Response get_track(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  auto r = music.tracks({id});
  if (!r) return store_error(r.error());
  if (!(*r)[0]) return error(404, "Non existing id: '" + id + "'");
  return json(200, track_full(Urls(req.base_url), *(*r)[0]));
}

http::Response get_tracks(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 50));
  auto r = music.tracks(ids);
  if (!r) return store_error(r.error());
  return json(200, bj::object{{"tracks", many(*r, Urls(req.base_url), track_full)}});
}

http::Response album_response(ApiRequest& req, MusicStore& music, const music::Album& a) {
  auto tracks = music.album_tracks(a.id, 50, 0);
  if (!tracks) return store_error(tracks.error());
  return json(200, album_full(Urls(req.base_url), a, *tracks, 50));
}

http::Response get_album(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  auto r = music.albums({id});
  if (!r) return store_error(r.error());
  if (!(*r)[0]) return error(404, "Non existing id: '" + id + "'");
  return album_response(req, music, *(*r)[0]);
}

http::Response get_albums(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 20));
  auto r = music.albums(ids);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array out;
  for (const auto& a : *r) {
    if (!a) {
      out.push_back(nullptr);
      continue;
    }
    auto tracks = music.album_tracks(a->id, 50, 0);
    if (!tracks) return store_error(tracks.error());
    out.push_back(album_full(u, *a, *tracks, 50));
  }
  return json(200, bj::object{{"albums", std::move(out)}});
}

http::Response get_album_tracks(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req));
  auto r = music.album_tracks(id, limit, offset);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& t : r->items) items.push_back(track_simple(u, t));
  return json(
      200, paging(u.href("albums", id) + "/tracks", {}, std::move(items), limit, offset, r->total));
}

http::Response get_artist(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  auto r = music.artists({id});
  if (!r) return store_error(r.error());
  if (!(*r)[0]) return error(404, "Non existing id: '" + id + "'");
  return json(200, artist_full(Urls(req.base_url), *(*r)[0]));
}

http::Response get_artists(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 50));
  auto r = music.artists(ids);
  if (!r) return store_error(r.error());
  return json(200, bj::object{{"artists", many(*r, Urls(req.base_url), artist_full)}});
}

http::Response get_artist_albums(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req));
  std::vector<std::string> groups;
  Params params;
  if (auto g = req.param("include_groups")) {
    groups = split_commas(*g);
    for (const auto& x : groups) {
      if (x != "album" && x != "single" && x != "compilation" && x != "appears_on") {
        return error(400, "Invalid include_groups");
      }
    }
    params.emplace_back("include_groups", *g);
  }
  auto r = music.artist_albums(id, groups, limit, offset);
  if (!r) return store_error(r.error());
  // Every album of the artist is read and sorted before the page is cut (docs/operations.md,
  // "Web API limits and call costs"): a unit per 20 albums beyond the call's first.
  req.cost += r->scanned / 20;
  Urls u(req.base_url);
  bj::array items;
  for (const auto& a : r->items) items.push_back(album_simple(u, a));
  return json(200, paging(u.href("artists", id) + "/albums", params, std::move(items), limit,
                          offset, r->total));
}

http::Response get_artist_top_tracks(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req));
  auto r = music.artist_top_tracks(id, 10);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& t : *r) items.push_back(track_full(u, t));
  return json(200, bj::object{{"tracks", std::move(items)}});
}

}  // namespace

void register_catalog(ApiRoutes& routes, MusicStore& music) {
  auto pages = std::make_shared<RenderedPages>();
  auto add = [&](const char* pattern, http::Response (*f)(ApiRequest&, MusicStore&)) {
    routes.add(
        "GET", pattern, any_token(),
        [&music, f, pages](ApiRequest& r) {
          auto answer = f(r, music);
          if (answer.status == 200 && r.http.target().size() <= RenderedPages::kMaxTarget) {
            try {
              pages->keep(RenderedPages::key(r), answer.body, r.cost);
            } catch (const std::bad_alloc&) {
              // Not kept: the answer itself is complete.
            }
          }
          return answer;
        },
        [pages](ApiRequest& r) -> std::optional<http::Response> {
          if (r.http.target().size() > RenderedPages::kMaxTarget) return std::nullopt;
          try {
            auto page = pages->find(RenderedPages::key(r));
            if (!page) return std::nullopt;
            r.cost = page->cost;
            return http::Response::json(200, page->body);
          } catch (const std::bad_alloc&) {
            return std::nullopt;  // the handler answers, as for a page not kept
          }
        });
  };
  add("/v1/tracks/{id}", get_track);
  add("/v1/tracks", get_tracks);
  add("/v1/albums/{id}", get_album);
  add("/v1/albums", get_albums);
  add("/v1/albums/{id}/tracks", get_album_tracks);
  add("/v1/artists/{id}", get_artist);
  add("/v1/artists", get_artists);
  add("/v1/artists/{id}/albums", get_artist_albums);
  add("/v1/artists/{id}/top-tracks", get_artist_top_tracks);
}

}  // namespace stagepass::api::endpoints
