#include "oauth/grants/client_credentials.hpp"

namespace stagepass::oauth {

Result<TokenResponse, OAuthError> ClientCredentialsGrant::handle(
    const Form& form, const AuthenticatedClient& client) const {
  ScopeSet scope;
  if (auto requested = form.get("scope")) {
    scope = ScopeSet::parse(*requested);
    if (auto unknown = scope.first_unknown()) {
      return fail(OAuthError::invalid_scope("unknown scope: " + quote_input(*unknown)));
    }
    if (!scope.subset_of(client.client.allowed_scopes)) {
      return fail(OAuthError::invalid_scope("scope not allowed for this client"));
    }
  }
  auto token = issuer_.access_token(client, client.client.id, scope, "");
  if (!token) return fail(token.error());
  return TokenResponse{std::move(*token), s_.settings.access_token_ttl, scope.str(), std::nullopt};
}

}  // namespace stagepass::oauth
