// TokenVerifier: the resource server's check of a bearer token (RFC 9068 §4): signature
// against any key the issuer still publishes, typ, iss, aud, exp/nbf within a bounded clock
// skew, and not revoked. Verified tokens are cached (VerifiedTokenCache); revocation and
// expiry apply to cached entries too. Time comes only from the injected Clock; the cache's
// digest key only from the injected Random (read once, at construction).
// Thread safety: verify() is safe from any thread; set_keys() swaps the keyring atomically.
// Lifetime: `clock` and `revoked` must outlive the verifier.
#pragma once

#include <atomic>
#include <functional>
#include <memory>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "tokens/access_token.hpp"
#include "tokens/revocation_set.hpp"
#include "tokens/verified_token_cache.hpp"

namespace stagepass {

struct VerifierStats {
  std::atomic<uint64_t> cache_hits{0};
  std::atomic<uint64_t> cache_misses{0};
  std::atomic<uint64_t> rejected{0};
};

class TokenVerifier {
 public:
  // `options.now` is ignored: every verify() reads `clock`.
  TokenVerifier(std::shared_ptr<const Keyring> keys, VerifyOptions options, const Clock& clock,
                Random& random, RevocationSet& revoked, size_t cache_capacity);

  // The claims (the cached object: it carries the app's rate limit, "rl") or an error:
  // verify_access_token's codes, and kRevoked.
  Result<std::shared_ptr<const AccessClaims>> verify(std::string_view token);
  // Swaps the keyring and drops the cached verifications its keys no longer make
  // (issue15-fix:rotation: a key removed from the JWKS, or past its retire_at). A hit is
  // checked against the keyring in force too, so one cached by a verify() racing the swap
  // is refused all the same.
  void set_keys(std::shared_ptr<const Keyring> keys);
  // Called (cheaply, from the verifying thread) when a token names a kid the keyring lacks,
  // so the owner can refetch the issuer's JWKS; the owner rate-limits the refetch.
  void on_unknown_key(std::function<void()> hook) { unknown_key_ = std::move(hook); }
  std::shared_ptr<const Keyring> keys() const { return keys_.load(); }
  const VerifiedTokenCache& cache() const { return cache_; }
  const VerifierStats& stats() const { return stats_; }

 private:
  std::atomic<std::shared_ptr<const Keyring>> keys_;
  VerifyOptions options_;
  const Clock& clock_;
  RevocationSet& revoked_;
  const std::string cache_key_secret_;  // keys the cache's token digests (per process)
  VerifiedTokenCache cache_;
  VerifierStats stats_;
  std::function<void()> unknown_key_;
};

}  // namespace stagepass
