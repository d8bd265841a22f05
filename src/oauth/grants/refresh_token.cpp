#include "oauth/grants/refresh_token.hpp"

#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

Result<TokenResponse, OAuthError> RefreshTokenGrant::handle(const Form& form,
                                                            const AuthenticatedClient& client) {
  auto value = form.get("refresh_token");
  if (!value) return fail(OAuthError::invalid_request("refresh_token is required"));
  const int64_t now = s_.clock.now();
  const auto invalid = [] { return OAuthError::invalid_grant("refresh token is invalid"); };

  auto old = s_.store.find_refresh_token(refresh_token_key(*value));
  if (!old) {
    if (old.error().code == "not_found") return fail(invalid());
    return fail(OAuthError::server_error("store unavailable"));
  }
  // RFC 6749 §6: the token must have been issued to the authenticated client.
  if (old->client_id != client.client.id || old->revoked) return fail(invalid());
  if (now >= old->expires_at || now >= old->idle_expires_at) {
    return fail(OAuthError::invalid_grant("refresh token has expired"));
  }
  // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
  ScopeSet scope = old->scope;
  if (auto requested = form.get("scope")) {
    scope = ScopeSet::parse(*requested);
    if (!scope.subset_of(old->scope)) {
      return fail(OAuthError::invalid_scope("scope exceeds what was granted"));
    }
  }

  auto grant = s_.store.find_grant(old->grant_id);
  if (!grant || grant->revoked_at) return fail(invalid());
  // The successor keeps the original scope (RFC 6749 §6: a new refresh token's scope MUST
  // be identical to the old one's); only the access token is narrowed.
  auto next = issuer_.refresh_token(*grant, old->scope);
  auto outcome =
      s_.store.rotate_refresh_token(old->hash, next.record, now, s_.settings.refresh_grace);
  if (!outcome) return fail(OAuthError::server_error("store unavailable"));
  switch (*outcome) {
    case RotateOutcome::kRotated:
    case RotateOutcome::kReuseGrace:
      break;
    case RotateOutcome::kNotFound:
      return fail(invalid());
    case RotateOutcome::kReuseRevoked:
      if (s_.revocations_changed) s_.revocations_changed();
      if (s_.audit) {
        s_.audit({0, 0, "refresh_token_reuse", old->user_id, client.client.id, "", "",
                  "a rotated refresh token was used again; the app's access was revoked"});
      }
      return fail(OAuthError::invalid_grant("refresh token was already used; access revoked"));
  }
  return TokenResponse{issuer_.access_token(old->user_id, client.client.id, scope, grant->id),
                       s_.settings.access_token_ttl, scope.str(), next.value};
}

}  // namespace stagepass::oauth
