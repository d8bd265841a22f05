// Playlist items: GET/POST/PUT/DELETE /v1/playlists/{playlist_id}/tracks (and /items).
// Writes answer {"snapshot_id": ...}: 201 for POST, 200 for PUT and DELETE.
#include <algorithm>

#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

constexpr size_t kMaxUris = 100;  // Spotify's bound per request

// The 400 for a uri that names no track. It quotes the uri (as Spotify does) only when that
// is short printable ASCII: `uris=` in the query may carry any byte, and invalid UTF-8 in the
// message would make the error body invalid JSON.
http::Response invalid_uri(const std::string& uri) {
  bool quotable = uri.size() <= 100 && std::all_of(uri.begin(), uri.end(), [](unsigned char c) {
                    return c > 0x20 && c < 0x7f;
                  });
  return error(400, quotable ? "Invalid track uri: " + uri : std::string("Invalid track uri"));
}

// Track uris from `uris=` (comma-separated) or the body's "uris"; nullopt when neither.
Parsed<std::optional<std::vector<std::string>>> parse_uris(const ApiRequest& req,
                                                           const bj::object& body) {
  std::vector<std::string> raw;
  if (auto q = req.param("uris")) {
    raw = split_commas(*q);
  } else if (auto* v = body.if_contains("uris")) {
    if (!v->is_array()) return error(400, "Invalid uris");
    for (const auto& x : v->as_array()) {
      if (!x.is_string()) return error(400, "Invalid uris");
      raw.emplace_back(x.as_string());
    }
  } else {
    return std::optional<std::vector<std::string>>{};
  }
  if (raw.size() > kMaxUris) return error(400, "You can add a maximum of 100 tracks per request.");
  std::vector<std::string> ids;
  for (const auto& uri : raw) {
    auto id = uri_id(uri, "track");
    if (!id) return invalid_uri(uri);
    ids.push_back(*id);
  }
  return std::optional<std::vector<std::string>>(std::move(ids));
}

std::optional<int64_t> body_int(const bj::object& body, const char* name, bool& bad) {
  auto* v = body.if_contains(name);
  if (!v) return std::nullopt;
  if (!v->is_int64() || v->as_int64() < 0) {
    bad = true;
    return std::nullopt;
  }
  return v->as_int64();
}

http::Response snapshot(int status, const Result<std::string>& r) {
  if (!r) return store_error(r.error());
  return json(status, bj::object{{"snapshot_id", *r}});
}

http::Response get_items(ApiRequest& req, MusicStore& music) {
  SP_PARAM(p, readable_playlist(req, music));
  SP_PARAM(limit, parse_limit(req, 100, 100));
  SP_PARAM(offset, parse_offset(req));
  auto r = music.playlist_items(p.id, limit, offset);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& i : r->items) items.push_back(playlist_track(u, i));
  return json(200, paging(u.href("playlists", p.id) + "/tracks", {}, std::move(items), limit,
                          offset, r->total));
}

http::Response add_items(ApiRequest& req, MusicStore& music) {
  SP_PARAM(p, writable_playlist(req, music));
  SP_PARAM(body, json_object_body(req, true));
  SP_PARAM(ids, parse_uris(req, body));
  if (!ids || ids->empty()) return error(400, "Missing required field: uris");
  SP_PARAM(position, parse_int(req, "position", 0, INT64_MAX / 2));
  bool bad = false;
  if (!position) position = body_int(body, "position", bad);
  if (bad) return error(400, "Invalid position");
  return snapshot(201,
                  music.add_playlist_items(p.id, *ids, position, req.principal.sub, req.now_ms));
}

http::Response update_items(ApiRequest& req, MusicStore& music) {
  SP_PARAM(p, writable_playlist(req, music));
  SP_PARAM(body, json_object_body(req, true));
  SP_PARAM(ids, parse_uris(req, body));
  if (ids)
    return snapshot(200, music.replace_playlist_items(p.id, *ids, req.principal.sub, req.now_ms));
  bool bad = false;
  auto start = body_int(body, "range_start", bad);
  auto before = body_int(body, "insert_before", bad);
  auto length = body_int(body, "range_length", bad);
  if (bad) return error(400, "Invalid range");
  if (!start) return error(400, "Missing required field: range_start");
  if (!before) return error(400, "Missing required field: insert_before");
  std::optional<std::string> snap;
  if (auto* s = body.if_contains("snapshot_id")) {
    if (!s->is_string()) return error(400, "Invalid snapshot id");
    snap = std::string(s->as_string());
  }
  return snapshot(200,
                  music.reorder_playlist_items(p.id, *start, *before, length.value_or(1), snap));
}

http::Response remove_items(ApiRequest& req, MusicStore& music) {
  SP_PARAM(p, writable_playlist(req, music));
  SP_PARAM(body, json_object_body(req));
  // Spotify's body names the list "tracks" (older) or "items" (newer).
  auto* list = body.if_contains("tracks");
  if (!list) list = body.if_contains("items");
  if (!list || !list->is_array() || list->as_array().empty()) {
    return error(400, "Missing required field: tracks");
  }
  if (list->as_array().size() > kMaxUris) return error(400, "Too many tracks");
  std::vector<music::PlaylistRemoval> removals;
  for (const auto& t : list->as_array()) {
    auto* uri = t.is_object() ? t.as_object().if_contains("uri") : nullptr;
    auto id = uri && uri->is_string() ? uri_id(uri->as_string(), "track") : std::nullopt;
    if (!id) return error(400, "Invalid track uri");
    music::PlaylistRemoval r{*id, {}};
    if (auto* pos = t.as_object().if_contains("positions")) {
      if (!pos->is_array()) return error(400, "Invalid positions");
      for (const auto& x : pos->as_array()) {
        if (!x.is_int64() || x.as_int64() < 0) return error(400, "Invalid positions");
        r.positions.push_back(x.as_int64());
      }
    }
    removals.push_back(std::move(r));
  }
  std::optional<std::string> snap;
  if (auto* s = body.if_contains("snapshot_id")) {
    if (!s->is_string()) return error(400, "Invalid snapshot id");
    snap = std::string(s->as_string());
  }
  return snapshot(200, music.remove_playlist_items(p.id, removals, snap));
}

}  // namespace

void register_playlist_items(ApiRoutes& routes, MusicStore& music) {
  for (const char* path :
       {"/v1/playlists/{playlist_id}/tracks", "/v1/playlists/{playlist_id}/items"}) {
    routes.add("GET", path, any_token(), [&music](ApiRequest& r) { return get_items(r, music); });
    routes.add("POST", path, user(), [&music](ApiRequest& r) { return add_items(r, music); });
    routes.add("PUT", path, user(), [&music](ApiRequest& r) { return update_items(r, music); });
    routes.add("DELETE", path, user(), [&music](ApiRequest& r) { return remove_items(r, music); });
  }
}

}  // namespace stagepass::api::endpoints
