// GET /v1/search?q=&type=: full-text search over the catalog and public playlists.
#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

constexpr int64_t kMaxSearchOffset = 1000;  // Spotify's bound

// The call's cost in limit units (docs/operations.md, "Web API limits and call costs"; a
// profile read is 1): every match is read, scored and sorted before the page is cut, and
// every query word's postings are read to find them. Measured with bench/api_costs.py: a
// match costs about a twentieth of a profile read, a posting about a two-hundredth.
constexpr int64_t kMatchesPerUnit = 20;
constexpr int64_t kPostingsPerUnit = 200;

http::Response search(ApiRequest& req, MusicStore& music) {
  // Spotify's own next/previous links spell the query "query=": accept both.
  auto q = req.param("q");
  if (!q) q = req.param("query");
  if (!q) return error(400, "No search query");
  auto type_param = req.param("type");
  if (!type_param) return error(400, "Missing parameter type");
  auto types = split_commas(*type_param);
  if (types.empty()) return error(400, "Missing parameter type");
  for (const auto& t : types) {
    if (t != "track" && t != "album" && t != "artist" && t != "playlist") {
      return error(400, "Bad search type field " + t);
    }
  }
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req, kMaxSearchOffset));
  Urls u(req.base_url);
  bj::object out;
  for (const auto& type : types) {
    auto found = music.search(type, *q, limit, offset);
    if (!found) return store_error(found.error());
    req.cost += found->total / kMatchesPerUnit + found->scanned / kPostingsPerUnit;
    bj::array items;
    if (type == "track") {
      auto r = music.tracks(found->items);
      if (!r) return store_error(r.error());
      for (const auto& t : *r)
        if (t) items.push_back(track_full(u, *t));
    } else if (type == "album") {
      auto r = music.albums(found->items);
      if (!r) return store_error(r.error());
      for (const auto& a : *r)
        if (a) items.push_back(album_simple(u, *a));
    } else if (type == "artist") {
      auto r = music.artists(found->items);
      if (!r) return store_error(r.error());
      for (const auto& a : *r)
        if (a) items.push_back(artist_full(u, *a));
    } else {
      for (const auto& id : found->items) {
        if (auto p = music.find_playlist(id)) items.push_back(playlist_simple(u, *p));
      }
    }
    out[type + "s"] = paging(u.base + "/search", {{"query", *q}, {"type", type}}, std::move(items),
                             limit, offset, std::min(found->total, kMaxSearchOffset + limit));
  }
  return json(200, out);
}

}  // namespace

void register_search(ApiRoutes& routes, MusicStore& music) {
  routes.add("GET", "/v1/search", any_token(),
             [&music](ApiRequest& r) { return search(r, music); });
}

}  // namespace stagepass::api::endpoints
