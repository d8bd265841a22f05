#include "oauth/client_auth.hpp"

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "tokens/access_token.hpp"

namespace stagepass::oauth {
namespace {

struct Presented {
  std::string id;
  std::optional<std::string> secret;
  bool basic = false;
};

Result<Presented, OAuthError> presented_credentials(std::string_view authorization,
                                                    const Form& form) {
  if (!authorization.empty()) {
    if (!authorization.starts_with("Basic ") && !authorization.starts_with("basic ")) {
      return fail(OAuthError::invalid_client("unsupported Authorization scheme", false));
    }
    if (form.has("client_secret")) {
      // RFC 6749 §2.3: the client MUST NOT use more than one authentication method.
      return fail(OAuthError::invalid_request("more than one client authentication method"));
    }
    auto decoded = base64_decode(authorization.substr(6));
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
      return fail(OAuthError::invalid_client("malformed Basic credentials", true));
    }
    // RFC 6749 §2.3.1: id and secret are encoded with application/x-www-form-urlencoded.
    auto id = percent_decode(std::string_view(*decoded).substr(0, colon), true);
    auto secret = percent_decode(std::string_view(*decoded).substr(colon + 1), true);
    if (!id || !secret || id->empty()) {
      return fail(OAuthError::invalid_client("malformed Basic credentials", true));
    }
    auto body_id = form.get("client_id");
    if (body_id && *body_id != *id) {
      return fail(OAuthError::invalid_request("client_id does not match the Basic credentials"));
    }
    return Presented{std::move(*id), std::move(*secret), true};
  }
  auto id = form.get("client_id");
  if (!id) return fail(OAuthError::invalid_client("client authentication required", false));
  return Presented{std::move(*id), form.get("client_secret"), false};
}

}  // namespace

std::string client_secret_hash(std::string_view secret) { return token_hash(secret); }

Result<AuthenticatedClient, OAuthError> authenticate_client(Services& s,
                                                            std::string_view authorization,
                                                            const Form& form) {
  auto presented = presented_credentials(authorization, form);
  if (!presented) return fail(presented.error());
  const bool basic = presented->basic;
  auto client = s.clients.find_client(presented->id);
  if (!client) {
    if (client.error().code != ErrorCode::kNotFound)
      return fail(OAuthError::server_error("store unavailable"));
    return fail(OAuthError::invalid_client("client authentication failed", basic));
  }
  if (client->is_public) {
    if (presented->secret) {
      return fail(OAuthError::invalid_client("public clients do not have a secret", basic));
    }
    return AuthenticatedClient{std::move(*client)};
  }
  if (!presented->secret ||
      !crypto::constant_time_equal(client_secret_hash(*presented->secret), client->secret_hash)) {
    return fail(OAuthError::invalid_client("client authentication failed", basic));
  }
  return AuthenticatedClient{std::move(*client)};
}

}  // namespace stagepass::oauth
