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
  RefreshToken next;
  next.hash = policy.successor_hash;
  next.grant_id = grant.id;
  next.client_id = grant.client_id;
  next.user_id = grant.user_id;
  next.scope = old.scope;
  next.created_at = policy.now;
  next.expires_at = old.expires_at;
  next.idle_expires_at = std::min(old.expires_at, policy.now + policy.idle_ttl);
  return {grace_retry ? RotateOutcome::kReuseGrace : RotateOutcome::kRotated, RefreshRefusal::kNone,
          std::move(next)};
}

}  // namespace stagepass
