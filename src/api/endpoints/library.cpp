// Your Library: /v1/me/tracks (saved tracks).
#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

http::Response get_saved(ApiRequest& req, MusicStore& music) {
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req));
  auto r = music.saved_tracks(req.principal.sub, limit, offset);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& s : r->items) {
    items.push_back(
        bj::object{{"added_at", iso_time(s.added_at)}, {"track", track_full(u, s.track)}});
  }
  return json(200, paging(u.base + "/me/tracks", {}, std::move(items), limit, offset, r->total));
}

http::Response put_saved(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 50, true));
  auto r = music.save_tracks(req.principal.sub, ids, req.now_ms);
  return r ? ok_empty() : store_error(r.error());
}

http::Response delete_saved(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 50, true));
  auto r = music.remove_saved_tracks(req.principal.sub, ids);
  return r ? ok_empty() : store_error(r.error());
}

http::Response contains_saved(ApiRequest& req, MusicStore& music) {
  SP_PARAM(ids, parse_ids(req, 50));
  auto r = music.saved_tracks_contain(req.principal.sub, ids);
  if (!r) return store_error(r.error());
  bj::array out;
  for (bool b : *r) out.push_back(b);
  return json(200, out);
}

}  // namespace

void register_library(ApiRoutes& routes, MusicStore& music) {
  auto add = [&](const char* method, const char* pattern, const char* scope,
                 http::Response (*f)(ApiRequest&, MusicStore&)) {
    routes.add(method, pattern, user({scope}), [&music, f](ApiRequest& r) { return f(r, music); });
  };
  add("GET", "/v1/me/tracks", "user-library-read", get_saved);
  add("PUT", "/v1/me/tracks", "user-library-modify", put_saved);
  add("DELETE", "/v1/me/tracks", "user-library-modify", delete_saved);
  add("GET", "/v1/me/tracks/contains", "user-library-read", contains_saved);
}

}  // namespace stagepass::api::endpoints
