// The Web API's resource endpoints (/v1/...): Spotify-shaped catalog, library, playlists,
// player, following, personalization and search, served from a MusicStore.
#pragma once

#include "api/api.hpp"
#include "music/music_store.hpp"

namespace stagepass::api {

// Registers every /v1 resource route with its Requirement (user token, scopes). `music` must
// outlive `routes`. Handlers block on the store: run them on the store worker pool.
void register_web_api(ApiRoutes& routes, music::MusicStore& music);

}  // namespace stagepass::api
