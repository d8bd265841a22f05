// Token revocation (RFC 7009), POST /api/revoke: a client tells the server it no longer
// needs a token (e.g. the user logged out of the app). Steps: form body -> authenticate the
// client as at the token endpoint -> token required -> find it (refresh token by hash, access
// token by signature) -> if it belongs to this client, revoke (an audit event only when this
// request revoked it, so repeats cannot flood the log) -> always 200 (§2.2: invalid, expired,
// foreign or already revoked tokens do not cause an error, so nothing is revealed).
// Revoking a refresh token revokes its grant, and with it the grant's access tokens
// (§2.1); revoking an access token revokes that token alone.
// Blocking: handle() runs on a worker thread.
#pragma once

#include "oauth/client_auth.hpp"
#include "oauth/token_endpoint.hpp"

namespace stagepass::oauth {

class RevocationEndpoint {
 public:
  explicit RevocationEndpoint(Services& s) : s_(s) {}
  http::Response handle(const TokenRequest& req) const;

 private:
  void revoke_refresh_token(const std::string& value, const Client& client) const;
  bool revoke_access_token(const std::string& value, const Client& client) const;
  Services& s_;
};

}  // namespace stagepass::oauth
