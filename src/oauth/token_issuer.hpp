// TokenIssuer: turns a decision ("this client may have these scopes for this user under this
// grant") into the token response: a signed access token and, for user grants, a new refresh
// token (value and storage key; the grant's store write stores it, with the record's lifetimes
// from code_redemption.hpp / refresh_rotation.hpp). access_token() reads the store once
// (reconfirm_client): call it from the worker thread the grant runs on - except for a client
// authenticated from memory (AuthenticatedClient::read_since), when it reads nothing.
#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/error.hpp"
#include "oauth/services.hpp"

namespace stagepass::oauth {

struct TokenResponse {
  std::string access_token;
  int64_t expires_in = 0;
  std::string scope;
  std::optional<std::string> refresh_token;

  // {"access_token","token_type":"Bearer","expires_in","scope","refresh_token"}, no-store.
  http::Response to_response() const;
};

// A fresh refresh token: the value for the client and its storage key (nothing stored yet).
struct NewRefreshToken {
  std::string value;
  std::string hash;
};

class TokenIssuer {
 public:
  explicit TokenIssuer(Services& s) : s_(s) {}

  // An access token for `client` (the request's authenticated client). The app's own Web API
  // limit (Client::rate_limit; 0: the resource server's default) travels in the token as "rl"
  // so the Web API needs no accounts database. `allowlisted`: the claim "al"
  // (allowlist_claim(), oauth/app_access.hpp); nullopt: none.
  // issue15-fix:rotation. The token's iat is fixed first, then the client is reconfirmed
  // (reconfirm_client: the secret it authenticated with is still live, the app not
  // suspended), then the token is signed: a hard cut or a suspension committed after the
  // reconfirmation has a time >= iat and covers the token; one committed before it refuses
  // the request (its error, nothing signed). Call it after the grant's store write.
  // issue17:cc-inline. A client authenticated from memory was read once already, after its
  // read_since was fixed: that is the token's iat, and the client is checked as read
  // (still_stands), so the same order holds without a second read.
  // Client::tokens_cut_at (issue15:secrets): the client's last hard cut as the request read
  // it; every node refuses its tokens with iat <= cut_at. A token minted after the cut (the
  // request read the cut with the client) gets iat = max(now, cut_at + 1), so it is not
  // refused with the revoked ones, even in the cut's own second (issue15-fix:rotation-b:
  // SecretRotation no longer waits for that second to pass); such a token carries "nbf" =
  // its issue time, so verifiers without leeway accept it at once.
  Result<std::string, OAuthError> access_token(
      const AuthenticatedClient& client, const std::string& sub, const ScopeSet& scope,
      const std::string& grant_id, std::optional<bool> allowlisted = std::nullopt) const;
  // The first refresh token of a new chain (the code exchange): a new family
  // (tokens/opaque_token.hpp, issue17:family).
  NewRefreshToken new_refresh_token() const;
  // The successor of `presented` (the refresh grant): of its family, one generation on, when
  // it has one (a grace retry's successor so takes the generation of the one it supersedes);
  // a token of the per-token shape otherwise, so a chain begun before families keeps the rows
  // it was stored in to its end.
  NewRefreshToken next_refresh_token(std::string_view presented) const;

 private:
  Services& s_;
};

}  // namespace stagepass::oauth
