// Playlists: /v1/me/playlists, /v1/users/{user_id}/playlists, /v1/playlists/{playlist_id}.
#include "api/endpoints/handlers.hpp"
#include "core/random.hpp"

namespace stagepass::api::endpoints {

bool may_read_playlist(const ApiRequest& req, MusicStore& music, const music::Playlist& p) {
  if (p.is_public) return true;
  if (!req.principal.is_user()) return false;
  if (p.owner_id == req.principal.sub) return req.has_scope("playlist-read-private");
  if (!p.collaborative || !req.has_scope("playlist-read-collaborative")) return false;
  auto editor = music.may_edit_playlist(p.id, req.principal.sub);
  return editor && *editor;
}

std::optional<http::Response> check_playlist_write(const ApiRequest& req, MusicStore& music,
                                                   const music::Playlist& p) {
  auto editor = music.may_edit_playlist(p.id, req.principal.sub);
  if (!editor) return store_error(editor.error());
  if (!*editor) return error(403, "You cannot change a playlist you don't own.");
  // Spotify: public playlists need playlist-modify-public, private (and collaborative) ones
  // playlist-modify-private.
  const char* scope = p.is_public ? "playlist-modify-public" : "playlist-modify-private";
  if (!req.has_scope(scope)) return insufficient_scope(scope);
  return std::nullopt;
}

Parsed<music::Playlist> readable_playlist(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req, "playlist_id"));
  auto p = music.find_playlist(id);
  if (!p) {
    if (p.error().code == ErrorCode::kNotFound) return error(404, "Not found.");
    return store_error(p.error());
  }
  if (!may_read_playlist(req, music, *p)) return error(404, "Not found.");
  return std::move(*p);
}

Parsed<music::Playlist> writable_playlist(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req, "playlist_id"));
  auto p = music.find_playlist(id);
  if (!p) {
    if (p.error().code == ErrorCode::kNotFound) return error(404, "Not found.");
    return store_error(p.error());
  }
  auto editor = music.may_edit_playlist(id, req.principal.sub);
  if (!editor) return store_error(editor.error());
  if (!*editor && !may_read_playlist(req, music, *p)) return error(404, "Not found.");
  if (auto denied = check_playlist_write(req, music, *p)) return std::move(*denied);
  return std::move(*p);
}

namespace {

http::Response list(ApiRequest& req, MusicStore& music, const std::string& user_id,
                    bool include_private, const std::string& url) {
  SP_PARAM(limit, parse_limit(req));
  SP_PARAM(offset, parse_offset(req));
  auto r = music.user_playlists(user_id, include_private, limit, offset);
  if (!r) return store_error(r.error());
  Urls u(req.base_url);
  bj::array items;
  for (const auto& p : r->items) items.push_back(playlist_simple(u, p));
  return json(200, paging(url, {}, std::move(items), limit, offset, r->total));
}

http::Response my_playlists(ApiRequest& req, MusicStore& music) {
  return list(req, music, req.principal.sub, true, req.base_url + "/me/playlists");
}

http::Response user_playlists(ApiRequest& req, MusicStore& music) {
  const auto& user_id = req.path["user_id"];
  bool own = req.principal.is_user() && user_id == req.principal.sub &&
             req.has_scope("playlist-read-private");
  return list(req, music, user_id, own,
              req.base_url + "/users/" + percent_encode(user_id) + "/playlists");
}

// Reads name/public/collaborative/description; 400 on a wrong type.
Parsed<music::PlaylistDetails> details_from(const bj::object& body) {
  music::PlaylistDetails d;
  if (auto* v = body.if_contains("name")) {
    if (!v->is_string() || v->as_string().empty()) return error(400, "Invalid name");
    d.name = std::string(v->as_string());
  }
  if (auto* v = body.if_contains("description")) {
    if (!v->is_string()) return error(400, "Invalid description");
    d.description = std::string(v->as_string());
  }
  if (auto* v = body.if_contains("public")) {
    if (!v->is_bool()) return error(400, "Invalid public");
    d.is_public = v->as_bool();
  }
  if (auto* v = body.if_contains("collaborative")) {
    if (!v->is_bool()) return error(400, "Invalid collaborative");
    d.collaborative = v->as_bool();
  }
  return d;
}

http::Response create(ApiRequest& req, MusicStore& music, Random& random,
                      const std::string& user_id) {
  if (user_id != req.principal.sub)
    return error(403, "You cannot create a playlist for another user");
  SP_PARAM(body, json_object_body(req));
  SP_PARAM(d, details_from(body));
  if (!d.name) return error(400, "Missing required field: name");
  if (!d.is_public) d.is_public = !d.collaborative.value_or(false);
  if (*d.is_public && d.collaborative.value_or(false)) {
    return error(400, "Collaborative playlists can't be public");
  }
  const char* scope = *d.is_public ? "playlist-modify-public" : "playlist-modify-private";
  if (!req.has_scope(scope)) return insufficient_scope(scope);
  auto p = music.create_playlist(user_id, random.id22(), d, req.now_ms);
  if (!p) return store_error(p.error());
  return json(201, playlist_full(Urls(req.base_url), *p, {}, 100));
}

http::Response get_playlist(ApiRequest& req, MusicStore& music) {
  SP_PARAM(p, readable_playlist(req, music));
  auto items = music.playlist_items(p.id, 100, 0);
  if (!items) return store_error(items.error());
  return json(200, playlist_full(Urls(req.base_url), p, *items, 100));
}

http::Response change_details(ApiRequest& req, MusicStore& music) {
  SP_PARAM(id, path_id(req, "playlist_id"));
  auto found = music.find_playlist(id);
  if (!found)
    return found.error().code == ErrorCode::kNotFound ? error(404, "Not found.")
                                                      : store_error(found.error());
  const music::Playlist& p = *found;
  if (p.owner_id != req.principal.sub) {
    if (!may_read_playlist(req, music, p)) return error(404, "Not found.");
    return error(403, "You cannot change details of a playlist you don't own.");
  }
  SP_PARAM(body, json_object_body(req));
  SP_PARAM(d, details_from(body));
  bool becomes_public = d.is_public.value_or(p.is_public);
  for (bool pub : {p.is_public, becomes_public}) {
    const char* scope = pub ? "playlist-modify-public" : "playlist-modify-private";
    if (!req.has_scope(scope)) return insufficient_scope(scope);
  }
  auto r = music.change_playlist(p.id, d);
  return r ? ok_empty() : store_error(r.error());
}

}  // namespace

void register_playlists(ApiRoutes& routes, MusicStore& music, Random& random) {
  auto add = [&](const char* method, const char* pattern, Requirement need,
                 http::Response (*f)(ApiRequest&, MusicStore&)) {
    routes.add(method, pattern, std::move(need),
               [&music, f](ApiRequest& r) { return f(r, music); });
  };
  add("GET", "/v1/me/playlists", user({"playlist-read-private"}), my_playlists);
  routes.add("POST", "/v1/me/playlists", user(), [&music, &random](ApiRequest& r) {
    return create(r, music, random, r.principal.sub);
  });
  add("GET", "/v1/users/{user_id}/playlists", any_token(), user_playlists);
  routes.add("POST", "/v1/users/{user_id}/playlists", user(), [&music, &random](ApiRequest& r) {
    return create(r, music, random, r.path["user_id"]);
  });
  add("GET", "/v1/playlists/{playlist_id}", any_token(), get_playlist);
  add("PUT", "/v1/playlists/{playlist_id}", user(), change_details);
}

}  // namespace stagepass::api::endpoints
