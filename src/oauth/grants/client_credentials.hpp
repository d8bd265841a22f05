// grant_type=client_credentials (RFC 6749 §4.4): a confidential client acting for itself.
// The token's subject is the client; no refresh token (§4.4.3).
#pragma once

#include "oauth/grant_handler.hpp"

namespace stagepass::oauth {

class ClientCredentialsGrant final : public IssuingGrant {
 public:
  explicit ClientCredentialsGrant(Services& s) : IssuingGrant(s) {}
  std::string_view grant_type() const override { return "client_credentials"; }
  bool allows_public_clients() const override { return false; }
  bool waits_for_commit() const override { return false; }
  // Scopes checked against the client, one token signed: nothing else (issue17:cc-inline).
  bool answers_from_memory() const override { return true; }
  Result<TokenResponse, OAuthError> handle(const Form& form,
                                           const AuthenticatedClient& client) const override;
};

}  // namespace stagepass::oauth
