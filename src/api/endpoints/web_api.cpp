#include "api/endpoints/web_api.hpp"

#include "api/endpoints/handlers.hpp"

namespace stagepass::api {

void register_web_api(ApiRoutes& routes, music::MusicStore& music, Random& random) {
  using namespace endpoints;
  register_me(routes, music);
  register_catalog(routes, music);
  register_library(routes, music);
  register_following(routes, music);
  register_playlists(routes, music, random);
  register_playlist_items(routes, music);
  register_player(routes, music);
  register_personalization(routes, music);
  register_search(routes, music);
}

namespace endpoints {

http::Response store_error(const Error& e) {
  if (e.code == ErrorCode::kNotFound) return error(404, "Non existing id: " + e.message);
  if (e.code == ErrorCode::kInvalid) return error(400, e.message);
  if (e.code == ErrorCode::kNoDevice)
    return error(404, "Player command failed: No active device found");
  if (e.code == ErrorCode::kRestricted)
    return error(403, "Player command failed: Restriction violated");
  return error(503, "Service unavailable");
}

}  // namespace endpoints
}  // namespace stagepass::api
