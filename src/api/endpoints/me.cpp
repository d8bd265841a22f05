// GET /v1/me and GET /v1/users/{user_id}: profiles.
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "api/endpoints/handlers.hpp"
#include "core/read_cache.hpp"

namespace stagepass::api::endpoints {
namespace {

// One indexed lookup (profiles by primary key).
http::Response get_me(ApiRequest& req, MusicStore& music) {
  auto p = music.find_profile(req.principal.sub);
  if (!p)
    return p.error().code == ErrorCode::kNotFound ? error(404, "User not found")
                                                  : store_error(p.error());
  return json(200, user_private(Urls(req.base_url), *p, req.has_scope("user-read-email"),
                                req.has_scope("user-read-private")));
}

// GET /v1/me bodies already rendered, per person and per the two scopes that shape the body.
// An entry is used only while it was rendered from the very profile object the store's cache
// holds now (a changed profile is a new object) and for the same base URL, so it is never
// older than that cache. Bounded like the profile cache: 100,000 bodies of ~0.5 KB.
class RenderedProfiles {
 public:
  std::optional<std::string> find(const std::string& key, const music::Profile* from,
                                  const std::string& base_url) const {
    std::optional<std::string> body;
    cache_.visit(key, [&](const Rendered& r) {
      if (r.from.get() == from && r.base_url == base_url) body = r.body;
    });
    return body;
  }
  void keep(const std::string& key, std::shared_ptr<const music::Profile> from,
            const std::string& base_url, std::string body) {
    cache_.put(key, Rendered{std::move(from), base_url, std::move(body)}, 0);
  }

 private:
  struct Rendered {
    std::shared_ptr<const music::Profile> from;
    std::string base_url;
    std::string body;
  };
  ReadCache<Rendered> cache_{100000, std::chrono::seconds(60)};
};

// From memory on the I/O thread when the profile is cached.
std::optional<http::Response> get_me_cached(ApiRequest& req, MusicStore& music,
                                            RenderedProfiles& rendered) {
  auto p = music.cached_profile(req.principal.sub);
  if (!p) return std::nullopt;
  const bool email = req.has_scope("user-read-email");
  const bool priv = req.has_scope("user-read-private");
  std::string key;
  key.reserve(req.principal.sub.size() + 2);
  key += email ? 'e' : '-';
  key += priv ? 'p' : '-';
  key += req.principal.sub;
  if (auto body = rendered.find(key, p.get(), req.base_url)) {
    return http::Response::json(200, std::move(*body));
  }
  std::string body = boost::json::serialize(user_private(Urls(req.base_url), *p, email, priv));
  rendered.keep(key, p, req.base_url, body);
  return http::Response::json(200, std::move(body));
}

http::Response get_user(ApiRequest& req, MusicStore& music) {
  auto p = music.find_profile(req.path["user_id"]);
  if (!p)
    return p.error().code == ErrorCode::kNotFound ? error(404, "No such user")
                                                  : store_error(p.error());
  return json(200, user_public(Urls(req.base_url), *p));
}

}  // namespace

void register_me(ApiRoutes& routes, MusicStore& music) {
  auto rendered = std::make_shared<RenderedProfiles>();
  routes.add(
      "GET", "/v1/me", user(), [&music](ApiRequest& r) { return get_me(r, music); },
      [&music, rendered](ApiRequest& r) { return get_me_cached(r, music, *rendered); });
  routes.add("GET", "/v1/users/{user_id}", any_token(),
             [&music](ApiRequest& r) { return get_user(r, music); });
}

}  // namespace stagepass::api::endpoints
