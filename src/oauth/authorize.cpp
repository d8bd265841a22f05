#include "oauth/authorize.hpp"

#include "oauth/pkce.hpp"
#include "oauth/redirect_uri.hpp"
#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

std::string AuthorizeFlow::redirect_with(
    const std::string& redirect_uri, const std::string& state,
    std::vector<std::pair<std::string, std::string>> params) const {
  if (!state.empty()) params.emplace_back("state", state);
  // RFC 9207 §2: the iss parameter identifies the issuer to the client.
  params.emplace_back("iss", s_.settings.issuer);
  return redirect_uri + (redirect_uri.find('?') == std::string::npos ? "?" : "&") +
         form_encode(params);
}

AuthorizeOutcome AuthorizeFlow::validate(const Form& params) const {
  // Steps 1-2 decide whether the redirect URI can be trusted at all.
  for (const char* name : {"client_id", "redirect_uri"}) {
    size_t n = 0;
    for (const auto& [k, v] : params.pairs()) n += k == name;
    if (n > 1) return ErrorPage{std::string(name) + " is repeated"};
  }
  auto client_id = params.get("client_id");
  if (!client_id) return ErrorPage{"The request names no application (client_id is missing)."};
  auto client = s_.clients.find_client(*client_id);
  if (!client) {
    if (client.error().code == ErrorCode::kNotFound)
      return ErrorPage{"The application is unknown."};
    return ErrorPage{"The service is temporarily unavailable. Try again later.", 503};
  }
  auto redirect_uri = params.get("redirect_uri");
  if (!redirect_uri) return ErrorPage{"The request has no redirect_uri."};
  if (!redirect_uri_matches(client->redirect_uris, *redirect_uri)) {
    return ErrorPage{"The redirect URI is not registered for this application."};
  }

  // From here on errors go back to the (now trusted) redirect URI.
  std::string state = params.get("state").value_or("");
  auto error = [&](std::string code, std::string description) -> AuthorizeOutcome {
    return ErrorRedirect{redirect_with(
        *redirect_uri, state,
        {{"error", std::move(code)}, {"error_description", safe_description(description)}})};
  };
  // issue15:abuse. A suspended app gets no new consent or code (RFC 6749 §4.1.2.1:
  // unauthorized_client, "The client is not authorized to request an authorization code").
  if (client->suspended_at > 0) return error("unauthorized_client", "this app is suspended");
  if (auto dup = params.duplicate())
    return error("invalid_request", "parameter repeated: " + quote_input(*dup));
  auto response_type = params.get("response_type");
  if (!response_type) return error("invalid_request", "response_type is required");
  if (*response_type != "code") {
    // The implicit grant (response_type=token) is not offered (RFC 9700 §2.1.2).
    return error("unsupported_response_type", "only response_type=code is supported");
  }
  ScopeSet scope = ScopeSet::parse(params.get("scope").value_or(""));
  if (auto unknown = scope.first_unknown())
    return error("invalid_scope", "unknown scope: " + quote_input(*unknown));
  if (!scope.subset_of(client->allowed_scopes)) {
    return error("invalid_scope", "scope not allowed for this application");
  }
  auto challenge = params.get("code_challenge");
  auto method = params.get("code_challenge_method");
  if (method && *method != "S256") {
    return error("invalid_request", "code_challenge_method must be S256");
  }
  if (challenge && !method) {
    // RFC 7636 §4.3 defaults to "plain", which is not supported.
    return error("invalid_request", "code_challenge_method must be S256");
  }
  if (method && !challenge) return error("invalid_request", "code_challenge is required");
  if (challenge && !pkce_challenge_well_formed(*challenge)) {
    return error("invalid_request", "code_challenge is malformed");
  }
  if (client->is_public && !challenge) {
    // RFC 9700 §2.1.1: public clients MUST use PKCE.
    return error("invalid_request", "PKCE (code_challenge) is required for this application");
  }
  return AuthorizeRequest{std::move(*client),     std::move(*redirect_uri),
                          std::move(state),       std::move(scope),
                          challenge.value_or(""), params.get("show_dialog").value_or("") == "true"};
}

bool AuthorizeFlow::consent_covers(const AuthorizeRequest& req, const std::string& user_id) const {
  if (req.client.is_public && !redirect_uri_identifies_client(req.redirect_uri)) return false;
  auto grant = s_.grants.find_active_grant(user_id, req.client.id);
  return grant.ok() && req.scope.subset_of(grant->scope);
}

std::string AuthorizeFlow::approve(const AuthorizeRequest& req, const std::string& user_id) const {
  const int64_t now = s_.clock.now();
  auto grant = s_.grants.record_consent(user_id, req.client.id, req.scope, s_.random.id22(), now);
  std::string code = new_opaque_token(s_.random, s_.clock, kCodePrefix);
  if (grant) {
    AuthorizationCode record{
        code_key(code),   grant->id, req.client.id,      user_id,
        req.redirect_uri, req.scope, req.code_challenge, now + s_.settings.code_ttl,
        std::nullopt};
    if (s_.codes.save_code(record))
      return redirect_with(req.redirect_uri, req.state, {{"code", code}});
  }
  return redirect_with(req.redirect_uri, req.state,
                       {{"error", "server_error"},
                        {"error_description", "the service could not complete the request"}});
}

std::string AuthorizeFlow::deny(const AuthorizeRequest& req) const {
  return redirect_with(
      req.redirect_uri, req.state,
      {{"error", "access_denied"}, {"error_description", "the user denied the request"}});
}

}  // namespace stagepass::oauth
