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
#pragma once

#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/random.hpp"

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

}  // namespace stagepass
