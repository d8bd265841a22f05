#include "tokens/token_verifier.hpp"

#include "crypto/crypto.hpp"

namespace stagepass {

TokenVerifier::TokenVerifier(std::shared_ptr<const Keyring> keys, VerifyOptions options,
                             const Clock& clock, Random& random, RevocationSet& revoked,
                             size_t cache_capacity)
    : keys_(std::move(keys)),
      options_(std::move(options)),
      clock_(clock),
      revoked_(revoked),
      cache_key_secret_(random.bytes(16)),
      cache_(cache_capacity) {}

void TokenVerifier::set_keys(std::shared_ptr<const Keyring> keys) {
  auto in_force = keys;
  keys_.store(std::move(keys));
  cache_.drop_unverifiable(*in_force, clock_.now());
}

Result<std::shared_ptr<const AccessClaims>> TokenVerifier::verify(std::string_view token) {
  const int64_t now = clock_.now();
  const VerifiedTokenCache::Key key = crypto::keyed_digest128(cache_key_secret_, token);
  auto keys = keys_.load();
  auto claims = cache_.find(key, *keys, now);
  if (claims) {
    ++stats_.cache_hits;
  } else {
    ++stats_.cache_misses;
    VerifyOptions o = options_;
    o.now = now;
    auto verified = verify_access_token(*keys, token, o);
    if (!verified) {
      if (verified.error().code == ErrorCode::kUnknownKey && unknown_key_) unknown_key_();
      ++stats_.rejected;
      return fail(verified.error());
    }
    claims = std::make_shared<const AccessClaims>(std::move(*verified));
    cache_.insert(key, claims, *keys, now);
  }
  if (now - options_.leeway > claims->exp) {  // no overflow for any exp in a token
    ++stats_.rejected;
    return fail(Error{ErrorCode::kExpired, "token expired"});
  }
  if (revoked_.covers(claims->gid, claims->client_id, claims->jti, claims->iat)) {
    ++stats_.rejected;
    return fail(Error{ErrorCode::kRevoked, "token revoked"});
  }
  return claims;
}

}  // namespace stagepass
