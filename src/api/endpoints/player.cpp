// Player: /v1/me/player... Commands answer 204; with no device, 404 "Player command failed:
// No active device found" (store_error maps kNoDevice).
#include "api/endpoints/handlers.hpp"

namespace stagepass::api::endpoints {
namespace {

http::Response done(const Status<>& r) { return r ? no_content() : store_error(r.error()); }

http::Response get_state(ApiRequest& req, MusicStore& music, bool full) {
  auto r = music.playback(req.principal.sub, req.now_ms);
  if (!r) return store_error(r.error());
  if (!*r) return no_content();
  Urls u(req.base_url);
  return json(200, full ? playback_state(u, **r) : currently_playing(u, **r));
}

http::Response get_player(ApiRequest& req, MusicStore& music) {
  return get_state(req, music, true);
}

http::Response get_currently_playing(ApiRequest& req, MusicStore& music) {
  // Spotify accepts either scope here; the route itself lists none.
  if (!req.has_scope("user-read-currently-playing") && !req.has_scope("user-read-playback-state")) {
    return insufficient_scope("user-read-currently-playing");
  }
  return get_state(req, music, false);
}

http::Response get_devices(ApiRequest& req, MusicStore& music) {
  auto r = music.devices(req.principal.sub);
  if (!r) return store_error(r.error());
  bj::array out;
  for (const auto& d : *r) out.push_back(device(d));
  return json(200, bj::object{{"devices", std::move(out)}});
}

http::Response play(ApiRequest& req, MusicStore& music) {
  SP_PARAM(body, json_object_body(req, true));
  music::PlayCommand cmd;
  if (auto d = req.param("device_id")) cmd.device_id = *d;
  if (auto* c = body.if_contains("context_uri")) {
    if (!c->is_string()) return error(400, "Invalid context uri");
    auto uri = normalize_uri(c->as_string(), {"album", "playlist", "artist"});
    if (!uri) return error(400, "Invalid context uri");
    cmd.context_uri = *uri;
  }
  if (auto* list = body.if_contains("uris")) {
    if (!list->is_array() || cmd.context_uri) return error(400, "Invalid uris");
    for (const auto& v : list->as_array()) {
      auto id = v.is_string() ? uri_id(v.as_string(), "track") : std::nullopt;
      if (!id) return error(400, "Invalid track uri");
      cmd.track_ids.push_back(*id);
    }
  }
  if (auto* off = body.if_contains("offset")) {
    if (!off->is_object()) return error(400, "Invalid offset");
    const auto& o = off->as_object();
    if (auto* pos = o.if_contains("position")) {
      if (!pos->is_int64() || pos->as_int64() < 0) return error(400, "Invalid offset");
      cmd.offset_position = pos->as_int64();
    } else if (auto* uri = o.if_contains("uri")) {
      auto id = uri->is_string() ? uri_id(uri->as_string(), "track") : std::nullopt;
      if (!id) return error(400, "Invalid offset");
      cmd.offset_track_id = *id;
    }
  }
  if (auto* pos = body.if_contains("position_ms")) {
    if (!pos->is_int64() || pos->as_int64() < 0) return error(400, "Invalid position_ms");
    cmd.position_ms = pos->as_int64();
  }
  return done(music.play(req.principal.sub, cmd, req.now_ms));
}

http::Response pause(ApiRequest& req, MusicStore& music) {
  return done(music.pause(req.principal.sub, req.now_ms));
}
http::Response next(ApiRequest& req, MusicStore& music) {
  return done(music.skip(req.principal.sub, +1, req.now_ms));
}
http::Response previous(ApiRequest& req, MusicStore& music) {
  return done(music.skip(req.principal.sub, -1, req.now_ms));
}

http::Response volume(ApiRequest& req, MusicStore& music) {
  SP_PARAM(pct, parse_int(req, "volume_percent", 0, 100));
  if (!pct) return error(400, "Required parameter volume_percent missing");
  return done(music.set_volume(req.principal.sub, static_cast<int>(*pct), req.param("device_id")));
}

http::Response seek(ApiRequest& req, MusicStore& music) {
  SP_PARAM(pos, parse_int(req, "position_ms", 0, INT64_MAX / 2));
  if (!pos) return error(400, "Required parameter position_ms missing");
  return done(music.seek(req.principal.sub, *pos, req.now_ms));
}

http::Response shuffle(ApiRequest& req, MusicStore& music) {
  auto state = req.param("state");
  if (!state) return error(400, "Required parameter state missing");
  if (*state != "true" && *state != "false") return error(400, "Invalid state");
  return done(music.set_shuffle(req.principal.sub, *state == "true", req.now_ms));
}

http::Response repeat(ApiRequest& req, MusicStore& music) {
  auto state = req.param("state");
  if (!state) return error(400, "Required parameter state missing");
  if (*state != "track" && *state != "context" && *state != "off")
    return error(400, "Invalid state");
  return done(music.set_repeat(req.principal.sub, *state, req.now_ms));
}

http::Response queue(ApiRequest& req, MusicStore& music) {
  auto uri = req.param("uri");
  if (!uri) return error(400, "Required parameter uri missing");
  auto id = uri_id(*uri, "track");
  if (!id) return error(400, "Invalid track uri");
  return done(music.add_to_queue(req.principal.sub, *id, req.now_ms));
}

http::Response transfer(ApiRequest& req, MusicStore& music) {
  SP_PARAM(body, json_object_body(req));
  auto* ids = body.if_contains("device_ids");
  if (!ids || !ids->is_array() || ids->as_array().size() != 1 || !ids->as_array()[0].is_string()) {
    return error(400, "device_ids must hold exactly one device id");
  }
  std::optional<bool> play;
  if (auto* p = body.if_contains("play")) {
    if (!p->is_bool()) return error(400, "Invalid play");
    play = p->as_bool();
  }
  return done(music.transfer(req.principal.sub, std::string(ids->as_array()[0].as_string()), play,
                             req.now_ms));
}

}  // namespace

void register_player(ApiRoutes& routes, MusicStore& music) {
  auto add = [&](const char* method, const char* pattern, std::vector<std::string> scopes,
                 http::Response (*f)(ApiRequest&, MusicStore&)) {
    routes.add(method, pattern, user(std::move(scopes)),
               [&music, f](ApiRequest& r) { return f(r, music); });
  };
  const std::string read = "user-read-playback-state", modify = "user-modify-playback-state";
  add("GET", "/v1/me/player", {read}, get_player);
  add("GET", "/v1/me/player/devices", {read}, get_devices);
  add("GET", "/v1/me/player/currently-playing", {}, get_currently_playing);
  add("PUT", "/v1/me/player/play", {modify}, play);
  add("PUT", "/v1/me/player/pause", {modify}, pause);
  add("POST", "/v1/me/player/next", {modify}, next);
  add("POST", "/v1/me/player/previous", {modify}, previous);
  add("PUT", "/v1/me/player/volume", {modify}, volume);
  add("PUT", "/v1/me/player/seek", {modify}, seek);
  add("PUT", "/v1/me/player/shuffle", {modify}, shuffle);
  add("PUT", "/v1/me/player/repeat", {modify}, repeat);
  add("POST", "/v1/me/player/queue", {modify}, queue);
  add("PUT", "/v1/me/player", {modify}, transfer);
}

}  // namespace stagepass::api::endpoints
