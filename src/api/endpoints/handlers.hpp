// Internal to src/api/endpoints: the per-group route registrations that register_web_api
// composes, and helpers every handler file shares.
#pragma once

#include <utility>

#include "api/api.hpp"
#include "api/endpoints/objects.hpp"
#include "api/endpoints/params.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "music/music_store.hpp"

// Unwraps a Parsed<T> into `var`, or returns its error response from the handler.
#define SP_PARAM(var, expr)                                                \
  auto var##_parsed = (expr);                                              \
  if (::stagepass::api::endpoints::failed(var##_parsed))                   \
    return std::get<::stagepass::http::Response>(std::move(var##_parsed)); \
  auto var = std::get<0>(std::move(var##_parsed))

namespace stagepass::api::endpoints {

using music::MusicStore;

// A store error as Spotify's error object: not_found 404, invalid 400, no_device 404,
// restricted 403, anything else 503 (the store failed; nothing the client sent).
http::Response store_error(const Error& e);

inline Requirement any_token() { return {}; }
inline Requirement user(std::vector<std::string> scopes = {}) { return {true, std::move(scopes)}; }

// Playlist access (playlists.cpp). A private playlist is visible only to its owner (with
// playlist-read-private) and, when collaborative, to its followers (with
// playlist-read-collaborative); to everyone else it does not exist (404).
bool may_read_playlist(const ApiRequest& req, MusicStore& music, const music::Playlist& p);
// nullopt when the caller may change the playlist's items; else the response to send
// (403 not an editor or a missing modify scope).
std::optional<http::Response> check_playlist_write(const ApiRequest& req, MusicStore& music,
                                                   const music::Playlist& p);
// The playlist named by the path's {playlist_id} as the caller may read it, or the 400/404.
Parsed<music::Playlist> readable_playlist(ApiRequest& req, MusicStore& music);
// The playlist for a change of its items: 404 when the caller may neither read nor edit it,
// else check_playlist_write's answer.
Parsed<music::Playlist> writable_playlist(ApiRequest& req, MusicStore& music);

void register_me(ApiRoutes& routes, MusicStore& music);
void register_catalog(ApiRoutes& routes, MusicStore& music);
void register_library(ApiRoutes& routes, MusicStore& music);
void register_following(ApiRoutes& routes, MusicStore& music);
void register_playlists(ApiRoutes& routes, MusicStore& music, Random& random);
void register_playlist_items(ApiRoutes& routes, MusicStore& music);
void register_player(ApiRoutes& routes, MusicStore& music);
void register_personalization(ApiRoutes& routes, MusicStore& music);
void register_search(ApiRoutes& routes, MusicStore& music);

}  // namespace stagepass::api::endpoints
