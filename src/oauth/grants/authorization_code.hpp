// grant_type=authorization_code (RFC 6749 §4.1.3) with PKCE (RFC 7636 §4.5-4.6).
#pragma once

#include "oauth/grant_handler.hpp"

namespace stagepass::oauth {

class AuthorizationCodeGrant final : public IssuingGrant {
 public:
  explicit AuthorizationCodeGrant(Services& s) : IssuingGrant(s) {}
  std::string_view grant_type() const override { return "authorization_code"; }
  bool allows_public_clients() const override { return true; }
  bool waits_for_commit() const override { return true; }
  Result<TokenResponse, OAuthError> handle(const Form& form,
                                           const AuthenticatedClient& client) const override;
};

}  // namespace stagepass::oauth
