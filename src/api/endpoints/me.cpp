// GET /v1/me and GET /v1/users/{user_id}: profiles.
#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

// One indexed lookup (profiles by primary key).
http::Response get_me(ApiRequest& req, MusicStore& music) {
  auto p = music.find_profile(req.principal.sub);
  if (!p)
    return p.error().code == "not_found" ? error(404, "User not found") : store_error(p.error());
  return json(200, user_private(Urls(req.base_url), *p, req.has_scope("user-read-email"),
                                req.has_scope("user-read-private")));
}

// From memory on the I/O thread when the profile is cached.
std::optional<http::Response> get_me_cached(ApiRequest& req, MusicStore& music) {
  auto p = music.cached_profile(req.principal.sub);
  if (!p) return std::nullopt;
  return json(200, user_private(Urls(req.base_url), *p, req.has_scope("user-read-email"),
                                req.has_scope("user-read-private")));
}

http::Response get_user(ApiRequest& req, MusicStore& music) {
  auto p = music.find_profile(req.path["user_id"]);
  if (!p)
    return p.error().code == "not_found" ? error(404, "No such user") : store_error(p.error());
  return json(200, user_public(Urls(req.base_url), *p));
}

}  // namespace

void register_me(ApiRoutes& routes, MusicStore& music) {
  routes.add(
      "GET", "/v1/me", user(), [&music](ApiRequest& r) { return get_me(r, music); },
      [&music](ApiRequest& r) { return get_me_cached(r, music); });
  routes.add("GET", "/v1/users/{user_id}", any_token(),
             [&music](ApiRequest& r) { return get_user(r, music); });
}

}  // namespace stagepass::api::endpoints
