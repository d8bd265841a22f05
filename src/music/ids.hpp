// Identifiers of the music service: Spotify-shaped 22-character base62 ids, a seeded PRNG
// (splitmix64) for deterministic generation, and opaque playlist snapshot ids. Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stagepass::music {

// True for exactly 22 characters of [0-9A-Za-z].
bool is_base62_id(std::string_view id);

// splitmix64 (Steele, Lea, Flood 2014): advances `state` and returns the next value.
inline uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A 22-character base62 id that depends only on (seed, kind, index).
std::string derived_id(uint64_t seed, std::string_view kind, uint64_t index);

// 64-bit FNV-1a, for stable (non-cryptographic) fingerprints.
uint64_t fnv1a(std::string_view data, uint64_t h = 0xcbf29ce484222325ull);

// Snapshot ids are opaque to clients: base64url("<version>,<fingerprint>").
std::string make_snapshot_id(std::string_view playlist_id, int64_t version);
// The version a snapshot id names, nullopt when it is not a snapshot of this playlist.
std::optional<int64_t> snapshot_version(std::string_view snapshot, std::string_view playlist_id);

}  // namespace stagepass::music
