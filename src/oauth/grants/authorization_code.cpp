#include "oauth/grants/authorization_code.hpp"

#include "oauth/pkce.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

namespace {
// The one answer for a code that is unknown, of a revoked grant, or issued to another client.
constexpr const char* kInvalidCode = "authorization code is invalid";
}  // namespace

Result<TokenResponse, OAuthError> AuthorizationCodeGrant::handle(
    const Form& form, const AuthenticatedClient& client) {
  auto code_value = form.get("code");
  auto redirect_uri = form.get("redirect_uri");
  auto verifier = form.get("code_verifier");
  if (!code_value) return fail(OAuthError::invalid_request("code is required"));
  if (!redirect_uri) return fail(OAuthError::invalid_request("redirect_uri is required"));
  if (verifier && !pkce_verifier_well_formed(*verifier)) {
    return fail(OAuthError::invalid_grant("code_verifier is malformed"));
  }

  const int64_t now = s_.clock.now();
  const NewRefreshToken refresh = issuer_.new_refresh_token();

  // One write (CodeStore::redeem_code): the checks below run first, on the store's writer,
  // and a code is spent only when they pass, so whoever merely saw a code (a referrer, a
  // log, a browser history) can neither use it nor revoke its grant by presenting it with a
  // wrong verifier. They only copy what the response needs.
  std::optional<OAuthError> refused;
  auto decide = [&](const AuthorizationCode& code,
                    const Grant& grant) -> std::optional<RefreshToken> {
    const auto refuse = [&](std::string_view why) {
      refused = OAuthError::invalid_grant(std::string(why));
      return std::nullopt;
    };
    // RFC 6749 §4.1.3: ensure the code was issued to the authenticated client. First, and
    // answered exactly like an unknown code: another client learns nothing about a code it
    // holds (that it exists, expired or was spent).
    if (code.client_id != client.client.id) return refuse(kInvalidCode);
    if (now >= code.expires_at) return refuse("authorization code has expired");
    // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
    if (*redirect_uri != code.redirect_uri) {
      return refuse("redirect_uri does not match the authorization request");
    }
    if (!code.code_challenge.empty()) {
      if (!verifier) return refuse("code_verifier is required");
      if (!pkce_s256_matches(*verifier, code.code_challenge)) {
        return refuse("code_verifier does not match the code_challenge");
      }
    } else if (verifier) {
      // RFC 9700 §4.8.2: a verifier without a challenge is a PKCE downgrade attempt.
      return refuse("code_verifier sent but no code_challenge was");
    }
    return issuer_.refresh_record(refresh.hash, grant, code.scope);
  };
  auto redeemed = s_.codes.redeem_code(code_key(*code_value), now, decide);
  if (!redeemed) return fail(OAuthError::server_error("store unavailable"));
  const AuthorizationCode& code = redeemed->code;
  switch (redeemed->outcome) {
    case RedeemOutcome::kRedeemed:
      break;
    case RedeemOutcome::kNotFound:
      return fail(OAuthError::invalid_grant(kInvalidCode));
    case RedeemOutcome::kRefused:
      return fail(refused.value_or(OAuthError::invalid_grant(kInvalidCode)));
    case RedeemOutcome::kReplayed:
      // Single use: the second use revoked the grant, and with it every token issued from
      // the first use (RFC 6749 §4.1.2).
      s_.revoker.revoked({0, 0, "authorization_code_replay", code.user_id, code.client_id, "", "",
                          "an authorization code was used twice; the app's access was revoked"});
      return fail(OAuthError::invalid_grant("authorization code was already used"));
  }
  return TokenResponse{issuer_.access_token(code.user_id, client.client.id, code.scope,
                                            code.grant_id, client.client.rate_limit),
                       s_.settings.access_token_ttl, code.scope.str(), refresh.value};
}

}  // namespace stagepass::oauth
