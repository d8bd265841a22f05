#include "music/demo_library.hpp"

#include <algorithm>

#include "music/ids.hpp"

namespace stagepass::music {
namespace {

// Distinct tracks from the top tracks of artists found by a few common words.
Result<std::vector<std::string>> pick_tracks(MusicStore& music, std::vector<std::string>& artists) {
  std::vector<std::string> tracks;
  for (const char* word : {"Heart", "River", "Star", "Moon", "Fire", "Light", "Dream", "Wave"}) {
    auto found = music.search("artist", word, 2, 0);
    if (!found) return fail(found.error());
    for (const auto& a : found->items) {
      if (std::find(artists.begin(), artists.end(), a) != artists.end()) continue;
      artists.push_back(a);
      auto top = music.artist_top_tracks(a, 6);
      if (!top) return fail(top.error());
      for (const auto& t : *top) tracks.push_back(t.id);
    }
  }
  if (tracks.size() < 10)
    return fail(Error{ErrorCode::kInvalid, "the catalog is too small for the demo"});
  return tracks;
}

std::vector<std::string> slice(const std::vector<std::string>& v, size_t from, size_t n) {
  std::vector<std::string> out;
  for (size_t i = from; i < v.size() && out.size() < n; ++i) out.push_back(v[i]);
  return out;
}

}  // namespace

Status<> seed_demo_library(MusicStore& music, const std::string& user_id, int64_t now) {
  constexpr int64_t kHour = 3600 * 1000;
  std::vector<std::string> artists;
  auto picked = pick_tracks(music, artists);
  if (!picked) return fail(picked.error());
  const auto& tracks = *picked;
  const uint64_t user_seed = fnv1a(user_id);

  if (auto saved = music.saved_tracks(user_id, 1, 0); !saved) {
    return fail(saved.error());
  } else if (saved->total == 0) {
    // One at a time, oldest first, so added_at differs.
    auto list = slice(tracks, 0, 24);
    for (size_t i = 0; i < list.size(); ++i) {
      auto r = music.save_tracks(user_id, {list[i]},
                                 now - static_cast<int64_t>(list.size() - i) * 6 * kHour);
      if (!r) return r;
    }
  }
  if (auto follows = music.followed_artists(user_id, "", 1); !follows) {
    return fail(follows.error());
  } else if (follows->total == 0) {
    if (auto r = music.follow_artists(user_id, slice(artists, 0, 6), now - 48 * kHour); !r)
      return r;
  }

  struct Spec {
    const char* name;
    const char* description;
    bool is_public;
    size_t from, count;
  };
  const Spec specs[] = {{"Late Night Drive", "Neon roads and slow synths.", true, 0, 15},
                        {"Focus Flow", "Quiet tracks for deep work.", false, 10, 12},
                        {"Stagepass Discoveries", "Fresh finds from the catalog.", true, 20, 20}};
  std::string first_playlist;
  for (size_t i = 0; i < std::size(specs); ++i) {
    std::string id = derived_id(user_seed, "demo-playlist", i);
    if (i == 0) first_playlist = id;
    if (music.find_playlist(id)) continue;
    PlaylistDetails d{specs[i].name, specs[i].description, specs[i].is_public, false};
    if (auto p = music.create_playlist(user_id, id, d, now - 72 * kHour); !p)
      return fail(p.error());
    auto items = slice(tracks, specs[i].from, specs[i].count);
    if (auto r = music.add_playlist_items(id, items, std::nullopt, user_id, now - 70 * kHour); !r) {
      return fail(r.error());
    }
  }

  if (auto history = music.recently_played(user_id, std::nullopt, std::nullopt, 1); !history) {
    return fail(history.error());
  } else if (history->total == 0) {
    for (size_t i = 0; i < 30; ++i) {
      const auto& t = tracks[(i * 7) % tracks.size()];
      auto r = music.record_play(user_id, t, now - static_cast<int64_t>(30 - i) * kHour,
                                 i % 2 ? "stagepass:playlist:" + first_playlist : "");
      if (!r) return r;
    }
  }

  auto devices = music.devices(user_id);
  if (!devices) return fail(devices.error());
  if (devices->empty()) {
    Device web{derived_id(user_seed, "demo-device", 0), "Stagepass Web Player", "Computer", 65,
               true};
    Device speaker{derived_id(user_seed, "demo-device", 1), "Kitchen Speaker", "Speaker", 40,
                   false};
    if (auto r = music.upsert_device(user_id, speaker); !r) return r;
    if (auto r = music.upsert_device(user_id, web); !r) return r;
    PlayCommand play;
    play.context_uri = "stagepass:playlist:" + first_playlist;
    play.offset_position = 2;
    play.position_ms = 42000;
    if (auto r = music.play(user_id, play, now); !r) return r;
    if (auto r = music.set_repeat(user_id, "context", now); !r) return r;
  }
  return Ok{};
}

}  // namespace stagepass::music
