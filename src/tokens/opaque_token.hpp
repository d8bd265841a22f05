// Opaque single-use secrets that the store looks up by a key derived from the value:
// refresh tokens and authorization codes.
//
// Shape: PREFIX + 16 lowercase hex digits (the issue time in microseconds, strictly
// increasing within a process) + base64url(32 random bytes). The store keys a value by
// "<those 16 hex digits>.<base64url(SHA-256(value))>": keys of values issued close in time
// sit next to each other in the B-tree, so a group commit of many rotations writes a few
// shared pages instead of one random page per token. The time part is no secret (a JWT's
// iat says as much); the 256 random bits are. Values of the older shape (PREFIX +
// base64url(32 random bytes)) keep working: their key is token_hash(value).
//
// issue17:family. A refresh token also names its chain (its "family": the code exchange's
// token and every token it is rotated into) and its place in it:
//   PREFIX + FAMILY + GENERATION + base64url(32 random bytes), 93 characters, base64url only,
// FAMILY being 16 hex digits (the chain's start, in microseconds, as above) + base64url(16
// random bytes), GENERATION 8 lowercase hex digits (0 for the code exchange's token, one more
// for each rotation's successor; a grace retry's successor takes the place, and generation,
// of the one it supersedes). Its key is
//   "<family key>:<GENERATION><base64url(SHA-256(value))>", the family key being
//   "<the family's 16 hex digits><base64url(SHA-256(FAMILY))>",
// so a store can keep one row per chain, found by the family key and rewritten by each
// rotation (store/sqlite: refresh_families), and the family's 128 random bits are not kept
// in the clear either. Only holders of the chain's tokens know FAMILY: a value of a
// generation the chain has reached that is not one of its two live tokens is spent (or made
// from a spent one), which is reuse; a later generation than the chain's is unknown (a
// store restored from a backup has not seen it). Stores with a row per token use the key
// whole. The store reads the key back with split_family_key (store/refresh_family_key.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/refresh_family_key.hpp"

namespace stagepass {

inline constexpr std::string_view kRefreshTokenPrefix = "spr_";
inline constexpr std::string_view kCodePrefix = "spc_";

// A new value: the time part is `clock.now_us()`, raised when needed to one past the last
// value this process issued (strictly increasing even if the clock stands still or steps
// back); the 256 bits come from `random`. Thread-safe.
std::string new_opaque_token(Random& random, const Clock& clock, std::string_view prefix);

// The storage key of a value issued by new_opaque_token (or of the older shape).
std::string opaque_token_key(std::string_view value, std::string_view prefix);
inline std::string refresh_token_key(std::string_view value) {
  return opaque_token_key(value, kRefreshTokenPrefix);
}
inline std::string code_key(std::string_view value) { return opaque_token_key(value, kCodePrefix); }

// issue17:family. A new chain's FAMILY (time part as new_opaque_token's; 128 random bits).
std::string new_refresh_family(Random& random, const Clock& clock);
// The refresh token of `family` (new_refresh_family's, or refresh_token_family's) at
// `generation`.
std::string new_family_refresh_token(Random& random, std::string_view family, uint32_t generation);
// The FAMILY and GENERATION of a refresh token of the family shape; nullopt for any other.
struct RefreshTokenFamily {
  std::string_view family;  // a view into the value
  uint32_t generation = 0;
};
std::optional<RefreshTokenFamily> refresh_token_family(std::string_view value);

}  // namespace stagepass
