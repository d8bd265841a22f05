// Demo seeding: gives a user a lived-in library so every /v1/me/... endpoint shows something.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "music/music_store.hpp"

namespace stagepass::music {

// Idempotent (each part is seeded only when absent): saved tracks, followed artists, three
// playlists, play history over the last days, and an active device "Stagepass Web Player"
// playing a playlist on repeat (so GET /v1/me/player shows something alive), plus an idle
// second device. Picks catalog items by searching common words, so it works with any seed;
// needs a non-empty catalog. `now` is milliseconds since the Unix epoch (the caller's Clock):
// the seeded history ends there. The profile itself is not created here (the accounts
// service upserts it).
Status<> seed_demo_library(MusicStore& music, const std::string& user_id, int64_t now);

}  // namespace stagepass::music
