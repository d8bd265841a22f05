#include "oauth/grants/refresh_token.hpp"

#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

Result<TokenResponse, OAuthError> RefreshTokenGrant::handle(const Form& form,
                                                            const AuthenticatedClient& client) {
  auto value = form.get("refresh_token");
  if (!value) return fail(OAuthError::invalid_request("refresh_token is required"));
  const int64_t now = s_.clock.now();
  const auto invalid = [] { return OAuthError::invalid_grant("refresh token is invalid"); };
  std::optional<ScopeSet> requested;
  if (auto r = form.get("scope")) requested = ScopeSet::parse(*r);
  const NewRefreshToken next = issuer_.new_refresh_token();

  // The policy runs inside the store's write, on the token and grant as the write sees
  // them (one transaction, no read before it), after the store's reuse detection (see
  // RefreshTokenStore::rotate_refresh_token for the order); it only copies what the
  // response needs.
  std::optional<OAuthError> refused;
  std::string grant_id;
  ScopeSet granted;
  auto decide = [&](const RefreshToken& old, const Grant& grant) -> std::optional<RefreshToken> {
    // RFC 6749 §6: the token must have been issued to the authenticated client.
    if (old.client_id != client.client.id) {
      refused = invalid();
      return std::nullopt;
    }
    if (now >= old.expires_at || now >= old.idle_expires_at) {
      refused = OAuthError::invalid_grant("refresh token has expired");
      return std::nullopt;
    }
    // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
    if (requested && !requested->subset_of(old.scope)) {
      refused = OAuthError::invalid_scope("scope exceeds what was granted");
      return std::nullopt;
    }
    grant_id = grant.id;
    granted = old.scope;
    // The successor keeps the original scope (RFC 6749 §6: a new refresh token's scope MUST
    // be identical to the old one's) and the chain's absolute expiry; only the access token
    // is narrowed.
    return issuer_.refresh_record(next.hash, grant, old.scope, old.expires_at);
  };
  auto rotation = s_.refresh_tokens.rotate_refresh_token(
      refresh_token_key(*value), client.client.id, now, s_.settings.refresh_grace, decide);
  if (!rotation) return fail(OAuthError::server_error("store unavailable"));
  switch (rotation->outcome) {
    case RotateOutcome::kRotated:
    case RotateOutcome::kReuseGrace:
      break;
    case RotateOutcome::kNotFound:
      return fail(invalid());
    case RotateOutcome::kRefused:
      return fail(refused.value_or(invalid()));
    case RotateOutcome::kReuseRevoked: {
      const RefreshToken& t = rotation->token;
      s_.revoker.revoked({0, 0, "refresh_token_reuse", t.user_id, t.client_id, "", "",
                          t.client_id == client.client.id
                              ? "a spent refresh token was used again; the app's access was revoked"
                              : "a spent refresh token was presented by another app; the app's "
                                "access was revoked"});
    }
      // Another app learns no more than for an unknown token.
      if (rotation->token.client_id != client.client.id) return fail(invalid());
      return fail(OAuthError::invalid_grant("refresh token was already used; access revoked"));
  }
  const ScopeSet scope = requested ? *requested : granted;
  return TokenResponse{issuer_.access_token(rotation->token.user_id, client.client.id, scope,
                                            grant_id, client.client.rate_limit),
                       s_.settings.access_token_ttl, scope.str(), next.value};
}

}  // namespace stagepass::oauth
