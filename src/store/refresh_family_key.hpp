// issue17:family. The storage key of a refresh token of the family shape
// (tokens/opaque_token.hpp): "<family key>:<generation><token digest>", the family key being
// 16 lowercase hex digits (the chain's start) + base64url(SHA-256(family)), the generation 8
// lowercase hex digits, the digest base64url(SHA-256(value)). A store that keeps one row per chain
// reads the key apart with split_family_key; any other key (older shapes, or a test's "r1") is a
// per-token key. Pure functions: thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace stagepass {

struct FamilyKey {
  std::string_view family;  // the chain's row key
  uint32_t generation = 0;  // the token's place in its chain
  std::string_view hash;    // the token's digest
};

// nullopt unless `key` has exactly that shape. The views point into `key`.
std::optional<FamilyKey> split_family_key(std::string_view key);

}  // namespace stagepass
