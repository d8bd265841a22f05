#include "oauth/grants/refresh_token.hpp"

#include "oauth/app_access.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

namespace {

// The one answer for a token that is unknown, of a revoked grant, or issued to another client.
OAuthError invalid() { return OAuthError::invalid_grant("refresh token is invalid"); }

// The RFC 6749 §5.2 error for a live token the store's policy check refused.
OAuthError refusal_error(RefreshRefusal why) {
  switch (why) {
    case RefreshRefusal::kNone:
    case RefreshRefusal::kOtherClient:
      return invalid();
    case RefreshRefusal::kExpired:
      return OAuthError::invalid_grant("refresh token has expired");
    case RefreshRefusal::kScopeExceeded:
      return OAuthError::invalid_scope("scope exceeds what was granted");
  }
  return invalid();
}

}  // namespace

Result<TokenResponse, OAuthError> RefreshTokenGrant::handle(
    const Form& form, const AuthenticatedClient& client) const {
  auto value = form.get("refresh_token");
  if (!value) return fail(OAuthError::invalid_request("refresh_token is required"));
  std::optional<ScopeSet> requested;
  if (auto r = form.get("scope")) requested = ScopeSet::parse(*r);

  // One write (RefreshTokenStore::rotate_refresh_token) applies this policy on the token and
  // grant as the write reads them, after its reuse detection (decide_rotation states the
  // order); no read before it.
  const NewRefreshToken next = issuer_.next_refresh_token(*value);
  RefreshPolicy policy;
  policy.client_id = client.client.id;
  policy.now = s_.clock.now();
  policy.grace_seconds = s_.settings.refresh_grace;
  policy.requested_scope = requested;
  policy.successor_hash = next.hash;
  policy.idle_ttl = s_.settings.refresh_idle_ttl;
  // Development mode: the same write reads the allowlist again, so every refreshed token says
  // what the list says now (a person added since gets a working token, oauth/app_access.hpp).
  policy.read_allowlist = client.client.development;
  auto rotation = s_.refresh_tokens.rotate_refresh_token(refresh_token_key(*value), policy);
  if (!rotation) return fail(OAuthError::unavailable());
  const RefreshToken& old = rotation->token;
  switch (rotation->outcome) {
    case RotateOutcome::kRotated:
    case RotateOutcome::kReuseGrace:
      break;
    case RotateOutcome::kNotFound:
      return fail(invalid());
    case RotateOutcome::kRefused:
      return fail(refusal_error(rotation->refusal));
    case RotateOutcome::kReuseRevoked:
      if (s_.abuse) s_.abuse->note_refresh_reuse(old.client_id, old.user_id, s_.clock.now());
      s_.revoker.revoked({0, 0, "refresh_token_reuse", old.user_id, old.client_id, "", "",
                          old.client_id == client.client.id
                              ? "a spent refresh token was used again; the app's access was revoked"
                              : "a spent refresh token was presented by another app; the app's "
                                "access was revoked"});
      // Another app learns no more than for an unknown token.
      if (old.client_id != client.client.id) return fail(invalid());
      return fail(OAuthError::invalid_grant("refresh token was already used; access revoked"));
  }
  // The successor kept the token's scope; a narrower `scope` narrows only the access token.
  const ScopeSet& scope = requested ? *requested : old.scope;
  auto token =
      issuer_.access_token(client, old.user_id, scope, rotation->grant.id,
                           allowlist_claim(client.client, old.user_id, rotation->on_allowlist));
  if (!token) return fail(token.error());
  return TokenResponse{std::move(*token), s_.settings.access_token_ttl, scope.str(), next.value};
}

}  // namespace stagepass::oauth
