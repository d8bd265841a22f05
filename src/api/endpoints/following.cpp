// Following artists: /v1/me/following (type=artist; Spotify's cursor paging by `after`).
#include "api/endpoints/handlers.hpp"
#include "music/ids.hpp"

namespace stagepass::api::endpoints {
namespace {

std::optional<http::Response> check_type(const ApiRequest& req) {
  auto type = req.param("type");
  if (!type) return error(400, "Missing parameter type");
  if (*type != "artist") return error(400, "Invalid type: only type=artist is supported");
  return std::nullopt;
}

http::Response get_following(ApiRequest& req, MusicStore& music) {
  if (auto bad = check_type(req)) return std::move(*bad);
  SP_PARAM(limit, parse_limit(req));
  auto after = req.param("after").value_or("");
  if (!after.empty() && !music::is_base62_id(after)) return error(400, "Invalid after");
  auto r = music.followed_artists(req.principal.sub, after, limit);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& a : r->items) items.push_back(artist_full(u, a));
  auto page =
      cursor_paging(u.base + "/me/following", {{"type", "artist"}}, std::move(items), limit,
                    r->has_more ? r->after : "", "", "after", r->after, r->has_more, r->total);
  return json(200, bj::object{{"artists", std::move(page)}});
}

http::Response put_following(ApiRequest& req, MusicStore& music) {
  if (auto bad = check_type(req)) return std::move(*bad);
  SP_PARAM(ids, parse_ids(req, 50, true));
  auto r = music.follow_artists(req.principal.sub, ids, req.now_ms);
  return r ? no_content() : store_error(r.error());
}

http::Response delete_following(ApiRequest& req, MusicStore& music) {
  if (auto bad = check_type(req)) return std::move(*bad);
  SP_PARAM(ids, parse_ids(req, 50, true));
  auto r = music.unfollow_artists(req.principal.sub, ids);
  return r ? no_content() : store_error(r.error());
}

http::Response contains_following(ApiRequest& req, MusicStore& music) {
  if (auto bad = check_type(req)) return std::move(*bad);
  SP_PARAM(ids, parse_ids(req, 50));
  auto r = music.follows_artists(req.principal.sub, ids);
  if (!r) return store_error(r.error());
  bj::array out;
  for (bool b : *r) out.push_back(b);
  return json(200, out);
}

}  // namespace

void register_following(ApiRoutes& routes, MusicStore& music) {
  auto add = [&](const char* method, const char* pattern, const char* scope,
                 http::Response (*f)(ApiRequest&, MusicStore&)) {
    routes.add(method, pattern, user({scope}), [&music, f](ApiRequest& r) { return f(r, music); });
  };
  add("GET", "/v1/me/following", "user-follow-read", get_following);
  add("PUT", "/v1/me/following", "user-follow-modify", put_following);
  add("DELETE", "/v1/me/following", "user-follow-modify", delete_following);
  add("GET", "/v1/me/following/contains", "user-follow-read", contains_following);
}

}  // namespace stagepass::api::endpoints
