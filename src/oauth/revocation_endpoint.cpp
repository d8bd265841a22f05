#include "oauth/revocation_endpoint.hpp"

#include "monitor/log.hpp"
#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

Status<> RevocationEndpoint::revoke_refresh_token(const std::string& value,
                                                  const Client& client) const {
  auto token = s_.refresh_tokens.find_refresh_token(refresh_token_key(value));
  if (!token && token.error().code != ErrorCode::kNotFound) return fail(std::move(token.error()));
  // RFC 7009 §2.1: the server first validates that the token was issued to this client.
  if (!token || token->client_id != client.id) return Ok{};
  // One event per revocation, not per request: repeating it (the answer is 200 either way)
  // must not let a token holder flood the person's security log.
  auto revoked = s_.revoker.revoke_grant(
      token->grant_id,
      {0, 0, "app_signed_out", token->user_id, client.id, "", "", "the app revoked its access"});
  if (!revoked && revoked.error().code != ErrorCode::kNotFound)
    return fail(std::move(revoked.error()));
  return Ok{};
}

Result<bool> RevocationEndpoint::revoke_access_token(const std::string& value,
                                                     const Client& client) const {
  const int64_t now = s_.clock.now();
  // Expired tokens need no revocation; a generous leeway keeps clock-skewed ones covered. The
  // store keeps a revocation that long past expiry, so a repeat is always seen as one.
  auto claims = verify_access_token(
      *s_.keys.get(), value,
      {s_.settings.issuer, s_.settings.audience, now, GrantStore::kRevokedTokenRetention});
  if (!claims) return false;
  if (claims->client_id != client.id) return true;  // a JWT of ours, but not this client's
  // Only the first revocation of a token is an event (see revoke_refresh_token).
  // In the person's log like a refresh token's revocation (a client-credentials token has no
  // person: operators still see it in `admin events`).
  auto changed = s_.revoker.revoke_access_token(
      claims->jti, client.id, claims->exp,
      {0, 0, "access_token_revoked", claims->gid.empty() ? "" : claims->sub, client.id, "", "",
       "the app revoked an access token"});
  if (!changed) return fail(std::move(changed.error()));
  if (*changed) {
    log::event("info", "access token revoked", {{"client_id", client.id}, {"jti", claims->jti}});
  }
  return true;
}

http::Response RevocationEndpoint::answer(FormCall& call,
                                          const AuthenticatedClient& authenticated) const {
  auto token = call.form.get("token");
  if (!token) return OAuthError::invalid_request("token is required").to_response();
  const Client& client = authenticated.client;

  // The hint only orders the lookups (§2.1: the server MAY ignore it); the prefix of our
  // opaque refresh tokens makes the order irrelevant in practice.
  Status<> done = Ok{};
  if (token->starts_with("spr_")) {
    done = revoke_refresh_token(*token, client);
  } else if (auto access = revoke_access_token(*token, client); !access) {
    done = fail(std::move(access.error()));
  } else if (!*access) {
    done = revoke_refresh_token(*token, client);
  }
  if (!done) return OAuthError::unavailable().to_response();
  // §2.2: "The authorization server responds with HTTP status code 200" - exactly 200.
  return http::Response::json(200, "{}");
}

}  // namespace stagepass::oauth
