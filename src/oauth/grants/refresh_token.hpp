// grant_type=refresh_token (RFC 6749 §6) with rotation and reuse detection
// (RFC 9700 §4.14.2): every use spends the token and returns a new one.
#pragma once

#include "oauth/grant_handler.hpp"

namespace stagepass::oauth {

class RefreshTokenGrant final : public IssuingGrant {
 public:
  explicit RefreshTokenGrant(Services& s) : IssuingGrant(s) {}
  std::string_view grant_type() const override { return "refresh_token"; }
  bool allows_public_clients() const override { return true; }
  bool waits_for_commit() const override { return true; }
  Result<TokenResponse, OAuthError> handle(const Form& form,
                                           const AuthenticatedClient& client) const override;
};

}  // namespace stagepass::oauth
