// The Web API's resource endpoints (/v1/...): Spotify-shaped catalog, library, playlists,
// player, following, personalization and search, served from a MusicStore.
#pragma once

#include "api/api.hpp"
#include "core/random.hpp"
#include "music/music_store.hpp"

namespace stagepass::api {

// Registers every /v1 resource route with its Requirement (user token, scopes). `music` and
// `random` (new playlist ids) must outlive `routes`. Handlers block on the store: run them on
// the store worker pool. Their "now" is ApiRequest::now_ms (the gateway's clock).
void register_web_api(ApiRoutes& routes, music::MusicStore& music, Random& random);

}  // namespace stagepass::api
