#include "store/refresh_rotation.hpp"

#include <algorithm>

namespace stagepass {

RotationDecision decide_rotation(const PresentedRefreshToken& presented, const Grant& grant,
                                 const RefreshPolicy& policy) {
  const RefreshToken& old = presented.token;
  const auto refused = [](RefreshRefusal why) {
    return RotationDecision{RotateOutcome::kRefused, why, std::nullopt};
  };
  // 1. Revoking a grant marks the grant only: its tokens die here.
  if (grant.revoked_at) return {RotateOutcome::kNotFound};

  // 2. RFC 9700 §4.14.2: a spent token presented again means it leaked, or its client lost a
  // response. Only the latter, once, within the window, by the same client, may retry.
  // Superseded by a grace retry: two parties hold the chain.
  if (old.revoked) return {RotateOutcome::kReuseRevoked};
  const bool grace_retry = old.rotated_at.has_value();
  if (grace_retry &&
      (presented.retried || policy.grace_seconds <= 0 ||
       policy.now - *old.rotated_at >= policy.grace_seconds || policy.client_id != old.client_id ||
       // Once the successor was used the chain moved on, and the old token's holder is not
       // the client that moved it.
       !presented.successor_unused)) {
    return {RotateOutcome::kReuseRevoked};
  }

  // 3. RFC 6749 §6: the token must have been issued to the authenticated client.
  if (policy.client_id != old.client_id) return refused(RefreshRefusal::kOtherClient);
  if (policy.now >= old.expires_at || policy.now >= old.idle_expires_at) {
    return refused(RefreshRefusal::kExpired);
  }
  if (policy.requested_scope && !policy.requested_scope->subset_of(old.scope)) {
    return refused(RefreshRefusal::kScopeExceeded);
  }

  // 4. The successor keeps the scope and the chain's absolute end; only the access token is
  // narrowed by a requested scope.
  return {grace_retry ? RotateOutcome::kReuseGrace : RotateOutcome::kRotated, RefreshRefusal::kNone,
          chain_refresh_token(policy.successor_hash, grant, old.scope, policy.now, old.expires_at,
                              policy.idle_ttl)};
}

RefreshToken chain_refresh_token(std::string hash, const Grant& grant, ScopeSet scope, int64_t now,
                                 int64_t expires_at, int64_t idle_ttl) {
  RefreshToken t;
  t.hash = std::move(hash);
  t.grant_id = grant.id;
  t.client_id = grant.client_id;
  t.user_id = grant.user_id;
  t.scope = std::move(scope);
  t.created_at = now;
  t.expires_at = expires_at;
  t.idle_expires_at = std::min(expires_at, now + idle_ttl);
  return t;
}

}  // namespace stagepass
