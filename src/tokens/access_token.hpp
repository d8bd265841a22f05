// Access tokens: JWTs per RFC 9068 ("typ":"at+jwt"), signed with EdDSA by the keyring's key
// that signs at the token's "iat" (key_schedule.hpp: the active key). Minting and verification are
// pure CPU work and thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "tokens/keyring.hpp"

namespace stagepass {

struct AccessClaims {
  std::string iss;
  std::string sub;  // user id, or the client id for client-credentials tokens
  std::string aud;
  std::string client_id;
  std::string scope;  // space-separated
  int64_t iat = 0;
  int64_t exp = 0;
  std::string jti;
  std::string gid;  // grant id; empty for client-credentials tokens
  // The app's own Web API rate limit, requests per rolling 30 s: the private claim "rl"
  // (RFC 7519 §4.3), present only when the app has one. 0 (absent): the resource server's
  // default (STAGEPASS_RATE_LIMIT). It travels with the token so a resource server needs no
  // accounts database to enforce it; a change reaches tokens minted after it.
  int64_t rate_limit = 0;
  // issue15:devmode. Whether the person is on the allowlist of the app, an app in
  // development mode: the private claim "al", a boolean, present only on user tokens of such
  // apps (nullopt: an app in extended mode, or a client-credentials token). The issuer decides
  // it when it mints the token (code exchange, every refresh), so a resource server refuses
  // an unlisted person's token (403 USER_NOT_ALLOWLISTED) without the accounts database.
  std::optional<bool> allowlisted{};
  // issue15-fix:rotation. The kid of the key that verified the token (verify_access_token
  // sets it; minting ignores it): a cached verification stays good only while that key
  // does (VerifiedTokenCache).
  std::string kid{};
  // issue15-fix:rotation-b. When the token's iat is later than its issue time (a token minted
  // in the second of its app's hard cut carries iat = cut + 1, so the cut does not refuse
  // it): "nbf" with the issue time, so a verifier without leeway (introspection) accepts it
  // at once, and the key signing then signs it. 0: no "nbf" (not before its iat).
  int64_t nbf = 0;
};

std::string mint_access_token(const Keyring& keys, const AccessClaims& claims);

struct VerifyOptions {
  std::string issuer;
  std::string audience;
  int64_t now = 0;
  int64_t leeway = 30;  // bounded clock skew, seconds
};
// Checks header (typ at+jwt, alg, a kid of a key not retired at opts.now: Keyring::
// verifying_key), signature, iss, aud, exp/iat/nbf, that "rl",
// when present, is a positive integer, and that "al", when present, is a boolean.
// Error codes: kMalformed, kUnknownKey, kSignature, kWrongIssuer, kWrongAudience, kClaims (no
// sub or jti, a bad "rl" or "al"), kExpired, kNotYetValid; checked in that order.
Result<AccessClaims> verify_access_token(const Keyring& keys, std::string_view token,
                                         const VerifyOptions& opts);

// The storage key of an opaque secret: base64url(SHA-256(value)).
std::string token_hash(std::string_view value);

}  // namespace stagepass
