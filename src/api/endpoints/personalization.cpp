// Personalization: /v1/me/top/{type} and /v1/me/player/recently-played.
#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

http::Response get_top(ApiRequest& req, MusicStore& music) {
  const auto& type = req.path["type"];
  if (type != "artists" && type != "tracks") return error(400, "Invalid type");
  auto range = req.param("time_range").value_or("medium_term");
  if (range != "short_term" && range != "medium_term" && range != "long_term") {
    return error(400, "Invalid time range");
  }
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req, 10000));
  Urls u(req.base_url);
  bj::array items;
  int64_t total = 0;
  if (type == "artists") {
    auto r = music.top_artists(req.principal.sub, range, limit, offset, req.now_ms);
    if (!r) return store_error(r.error());
    for (const auto& a : r->items) items.push_back(artist_full(u, a));
    total = r->total;
  } else {
    auto r = music.top_tracks(req.principal.sub, range, limit, offset, req.now_ms);
    if (!r) return store_error(r.error());
    for (const auto& t : r->items) items.push_back(track_full(u, t));
    total = r->total;
  }
  return json(200, paging(u.base + "/me/top/" + type, {{"time_range", range}}, std::move(items),
                          limit, offset, total));
}

http::Response get_recently_played(ApiRequest& req, MusicStore& music) {
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(before, parse_int(req, "before", 0, INT64_MAX));
  SP_PARAM(after, parse_int(req, "after", 0, INT64_MAX));
  if (before && after) return error(400, "Only one of before or after may be specified");
  auto r = music.recently_played(req.principal.sub, before, after, limit);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& h : r->items) items.push_back(play_history(u, h));
  return json(200, cursor_paging(u.base + "/me/player/recently-played", {}, std::move(items), limit,
                                 r->after, r->before, "before", r->before, r->has_more, r->total));
}

}  // namespace

void register_personalization(ApiRoutes& routes, MusicStore& music) {
  routes.add("GET", "/v1/me/top/{type}", user({"user-top-read"}),
             [&music](ApiRequest& r) { return get_top(r, music); });
  routes.add("GET", "/v1/me/player/recently-played", user({"user-read-recently-played"}),
             [&music](ApiRequest& r) { return get_recently_played(r, music); });
}

}  // namespace stagepass::api::endpoints
