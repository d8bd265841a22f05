#include "store/code_redemption.hpp"

#include <algorithm>

#include "crypto/crypto.hpp"
#include "store/refresh_rotation.hpp"

namespace stagepass {

namespace {

// The PKCE check (RFC 7636 §4.6): the S256 of the verifier against the stored challenge.
CodeRefusal pkce_refusal(const AuthorizationCode& code, const CodePolicy& policy) {
  if (code.code_challenge.empty()) {
    return policy.verifier_s256 ? CodeRefusal::kVerifierUnexpected : CodeRefusal::kNone;
  }
  if (!policy.verifier_s256) return CodeRefusal::kVerifierMissing;
  return crypto::constant_time_equal(*policy.verifier_s256, code.code_challenge)
             ? CodeRefusal::kNone
             : CodeRefusal::kVerifierMismatch;
}

}  // namespace

RedemptionDecision decide_redemption(const AuthorizationCode& code, const Grant& grant,
                                     const CodePolicy& policy) {
  const auto refused = [](CodeRefusal why) {
    return RedemptionDecision{RedeemOutcome::kRefused, why, std::nullopt};
  };
  // 1. Revoking a grant marks the grant only: its unused codes die here.
  if (grant.revoked_at) return {RedeemOutcome::kNotFound};

  // 2. The checks. The client first: the grant answers another client's code exactly like an
  // unknown one, so that client learns nothing about it (that it exists, expired or was spent).
  if (code.client_id != policy.client_id) return refused(CodeRefusal::kOtherClient);
  if (policy.now >= code.expires_at) return refused(CodeRefusal::kExpired);
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
  if (policy.redirect_uri != code.redirect_uri) return refused(CodeRefusal::kRedirectUriMismatch);
  if (const CodeRefusal pkce = pkce_refusal(code, policy); pkce != CodeRefusal::kNone) {
    return refused(pkce);
  }

  // 3. Single use.
  if (code.used_at) return {RedeemOutcome::kReplayed};

  // 4. The chain's first refresh token.
  return {RedeemOutcome::kRedeemed, CodeRefusal::kNone,
          chain_refresh_token(policy.refresh_hash, grant, code.scope, policy.now,
                              policy.now + policy.refresh_ttl, policy.refresh_idle_ttl)};
}

}  // namespace stagepass
