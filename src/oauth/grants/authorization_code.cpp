#include "oauth/grants/authorization_code.hpp"

#include "oauth/pkce.hpp"
#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

Result<TokenResponse, OAuthError> AuthorizationCodeGrant::handle(
    const Form& form, const AuthenticatedClient& client) {
  auto code_value = form.get("code");
  auto redirect_uri = form.get("redirect_uri");
  auto verifier = form.get("code_verifier");
  if (!code_value) return fail(OAuthError::invalid_request("code is required"));
  if (!redirect_uri) return fail(OAuthError::invalid_request("redirect_uri is required"));
  if (verifier && !pkce_verifier_well_formed(*verifier)) {
    return fail(OAuthError::invalid_grant("code_verifier is malformed"));
  }

  // Single use: consuming marks the code spent; a second use revokes the grant, and with it
  // every token issued from the first use (RFC 6749 §4.1.2).
  auto code = s_.store.consume_code(code_key(*code_value), s_.clock.now());
  if (!code) {
    if (code.error().code == "conflict") {
      if (s_.revocations_changed) s_.revocations_changed();
      return fail(OAuthError::invalid_grant("authorization code was already used"));
    }
    if (code.error().code == "not_found") {
      return fail(OAuthError::invalid_grant("authorization code is invalid"));
    }
    return fail(OAuthError::server_error("store unavailable"));
  }
  if (s_.clock.now() >= code->expires_at) {
    return fail(OAuthError::invalid_grant("authorization code has expired"));
  }
  // RFC 6749 §4.1.3: ensure the code was issued to the authenticated client.
  if (code->client_id != client.client.id) {
    return fail(OAuthError::invalid_grant("authorization code was issued to another client"));
  }
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
  if (*redirect_uri != code->redirect_uri) {
    return fail(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
  }
  if (!code->code_challenge.empty()) {
    if (!verifier) return fail(OAuthError::invalid_grant("code_verifier is required"));
    if (!pkce_s256_matches(*verifier, code->code_challenge)) {
      return fail(OAuthError::invalid_grant("code_verifier does not match the code_challenge"));
    }
  } else if (verifier) {
    // RFC 9700 §4.8.2: a verifier without a challenge is a PKCE downgrade attempt.
    return fail(OAuthError::invalid_grant("code_verifier sent but no code_challenge was"));
  }

  auto grant = s_.store.find_grant(code->grant_id);
  if (!grant || grant->revoked_at) return fail(OAuthError::invalid_grant("the grant was revoked"));
  auto refresh = issuer_.refresh_token(*grant, code->scope);
  // Stored only if the grant is still active: a concurrent replay cannot leave a live token.
  if (auto saved = s_.store.save_refresh_token(refresh.record); !saved) {
    if (saved.error().code == "not_found") {
      return fail(OAuthError::invalid_grant("the grant was revoked"));
    }
    return fail(OAuthError::server_error("store unavailable"));
  }
  return TokenResponse{
      issuer_.access_token(code->user_id, client.client.id, code->scope, grant->id),
      s_.settings.access_token_ttl, code->scope.str(), refresh.value};
}

}  // namespace stagepass::oauth
