#include "music/ids.hpp"

#include <cstdio>

#include "core/base64url.hpp"

namespace stagepass::music {
namespace {
constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

std::string fingerprint(std::string_view playlist_id, int64_t version) {
  uint64_t h = fnv1a(playlist_id);
  h = fnv1a(std::to_string(version), h);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}
}  // namespace

bool is_base62_id(std::string_view id) {
  if (id.size() != 22) return false;
  for (char c : id) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!ok) return false;
  }
  return true;
}

uint64_t fnv1a(std::string_view data, uint64_t h) {
  for (unsigned char c : data) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string derived_id(uint64_t seed, std::string_view kind, uint64_t index) {
  uint64_t state = seed ^ fnv1a(kind) ^ (index * 0xD6E8FEB86659FD93ull);
  std::string out(22, '0');
  uint64_t r = splitmix64(state);
  for (size_t i = 0; i < 22; ++i) {
    if (i == 11) r = splitmix64(state);  // two 64-bit draws, 11 digits each
    out[i] = kBase62[r % 62];
    r /= 62;
  }
  return out;
}

std::string make_snapshot_id(std::string_view playlist_id, int64_t version) {
  return base64url_encode(std::to_string(version) + "," + fingerprint(playlist_id, version));
}

std::optional<int64_t> snapshot_version(std::string_view snapshot, std::string_view playlist_id) {
  auto raw = base64url_decode(snapshot);
  if (!raw) return std::nullopt;
  auto comma = raw->find(',');
  if (comma == std::string::npos || comma == 0 || comma > 18) return std::nullopt;
  int64_t version = 0;
  for (size_t i = 0; i < comma; ++i) {
    char c = (*raw)[i];
    if (c < '0' || c > '9') return std::nullopt;
    version = version * 10 + (c - '0');
  }
  if (raw->substr(comma + 1) != fingerprint(playlist_id, version)) return std::nullopt;
  return version;
}

}  // namespace stagepass::music
