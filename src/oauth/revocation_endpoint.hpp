// Token revocation (RFC 7009), POST /api/revoke: a client tells the server it no longer
// needs a token (e.g. the user logged out of the app). Its own step in the form pipeline
// (form_pipeline.hpp: one Authorization header, form body, client authentication as at the
// token endpoint, no-store, CORS): token required -> find it (refresh token by hash, access
// token by signature) -> if it belongs to this client, revoke (an audit event only when this
// request revoked it, so repeats cannot flood the log) -> 200 (§2.2: invalid, expired,
// foreign or already revoked tokens do not cause an error, so nothing is revealed), or 503
// with Retry-After when the store could not be read or written (§2.2.1: "the client must
// assume the token still exists and may retry after a reasonable delay"): never a 200 for a
// revocation that was not made.
// Revoking a refresh token revokes its grant, and with it the grant's access tokens
// (§2.1); revoking an access token revokes that token alone.
// Blocking: answer() runs on a worker thread. Lifetime: keeps a reference to the services.
#pragma once

#include "oauth/form_endpoint.hpp"
#include "oauth/services.hpp"

namespace stagepass::oauth {

class RevocationEndpoint final : public FormEndpoint {
 public:
  explicit RevocationEndpoint(Services& s) : s_(s) {}
  http::Response answer(FormCall& call, const AuthenticatedClient& client) const override;

 private:
  // Ok once the token is revoked or is not this client's refresh token; kIo when the store
  // failed.
  Status<> revoke_refresh_token(const std::string& value, const Client& client) const;
  // true: it was one of our access tokens (handled, revoked if this client's); false: not an
  // access token of ours; kIo when the store failed.
  Result<bool> revoke_access_token(const std::string& value, const Client& client) const;
  Services& s_;
};

}  // namespace stagepass::oauth
