#include "oauth/grants/authorization_code.hpp"

#include "oauth/app_access.hpp"
#include "oauth/pkce.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

namespace {

// The one answer for a code that is unknown, of a revoked grant, or issued to another client.
constexpr const char* kInvalidCode = "authorization code is invalid";

// The RFC 6749 §5.2 error for a presentation the store refused (CodePolicy's checks).
OAuthError refusal_error(CodeRefusal why) {
  switch (why) {
    case CodeRefusal::kNone:
    case CodeRefusal::kOtherClient:
      // Answered exactly like an unknown code: another client learns nothing about a code it
      // holds (that it exists, expired or was spent).
      return OAuthError::invalid_grant(kInvalidCode);
    case CodeRefusal::kExpired:
      return OAuthError::invalid_grant("authorization code has expired");
    case CodeRefusal::kRedirectUriMismatch:
      return OAuthError::invalid_grant("redirect_uri does not match the authorization request");
    case CodeRefusal::kVerifierMissing:
      return OAuthError::invalid_grant("code_verifier is required");
    case CodeRefusal::kVerifierMismatch:
      return OAuthError::invalid_grant("code_verifier does not match the code_challenge");
    case CodeRefusal::kVerifierUnexpected:
      return OAuthError::invalid_grant("code_verifier sent but no code_challenge was");
  }
  return OAuthError::invalid_grant(kInvalidCode);
}

}  // namespace

Result<TokenResponse, OAuthError> AuthorizationCodeGrant::handle(
    const Form& form, const AuthenticatedClient& client) const {
  auto code_value = form.get("code");
  auto redirect_uri = form.get("redirect_uri");
  auto verifier = form.get("code_verifier");
  if (!code_value) return fail(OAuthError::invalid_request("code is required"));
  if (!redirect_uri) return fail(OAuthError::invalid_request("redirect_uri is required"));
  if (verifier && !pkce_verifier_well_formed(*verifier)) {
    return fail(OAuthError::invalid_grant("code_verifier is malformed"));
  }

  // One write (CodeStore::redeem_code) applies this policy on the code and grant as the write
  // reads them; the verifier's S256 is computed here, so the writer only compares it.
  const NewRefreshToken refresh = issuer_.new_refresh_token();
  CodePolicy policy;
  policy.client_id = client.client.id;
  policy.redirect_uri = *redirect_uri;
  if (verifier) policy.verifier_s256 = pkce_s256(*verifier);
  policy.now = s_.clock.now();
  policy.refresh_hash = refresh.hash;
  policy.refresh_ttl = s_.settings.refresh_token_ttl;
  policy.refresh_idle_ttl = s_.settings.refresh_idle_ttl;
  // Development mode: the same write reads whether the person is on the allowlist.
  policy.read_allowlist = client.client.development;
  auto redeemed = s_.codes.redeem_code(code_key(*code_value), policy);
  if (!redeemed) return fail(OAuthError::unavailable());
  const AuthorizationCode& code = redeemed->code;
  switch (redeemed->outcome) {
    case RedeemOutcome::kRedeemed:
      break;
    case RedeemOutcome::kNotFound:
      return fail(OAuthError::invalid_grant(kInvalidCode));
    case RedeemOutcome::kRefused:
      return fail(refusal_error(redeemed->refusal));
    case RedeemOutcome::kReplayed:
      // Single use: the second use revoked the grant, and with it every token issued from
      // the first use (RFC 6749 §4.1.2).
      s_.revoker.revoked({0, 0, "authorization_code_replay", code.user_id, code.client_id, "", "",
                          "an authorization code was used twice; the app's access was revoked"});
      return fail(OAuthError::invalid_grant("authorization code was already used"));
  }
  auto token =
      issuer_.access_token(client, code.user_id, code.scope, code.grant_id,
                           allowlist_claim(client.client, code.user_id, redeemed->on_allowlist));
  if (!token) return fail(token.error());
  return TokenResponse{std::move(*token), s_.settings.access_token_ttl, code.scope.str(),
                       refresh.value};
}

}  // namespace stagepass::oauth
