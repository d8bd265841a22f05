#include "oauth/introspection_endpoint.hpp"

#include <boost/json.hpp>

#include "crypto/crypto.hpp"
#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {
namespace json = boost::json;

IntrospectionEndpoint::IntrospectionEndpoint(Services& s, const RevocationSet& revoked)
    : s_(s), revoked_(revoked), cache_key_secret_(s.random.bytes(16)), verified_(100000) {}

namespace {

// RFC 7662 §4: a client may learn about the tokens issued to it; only a resource server the
// operator trusts learns about everyone's.
bool may_see(const Client& asking, const std::string& token_client_id) {
  return asking.introspect_any || token_client_id == asking.id;
}

}  // namespace

std::string IntrospectionEndpoint::username(const std::string& user_id,
                                            const ScopeSet& grant_scope) const {
  if (!grant_scope.contains("user-read-email")) return {};
  auto user = s_.users.find_user(user_id);
  return user ? user->email : std::string();
}

IntrospectionEndpoint::Claims IntrospectionEndpoint::access_token_claims(
    const std::string& value, const Client& asking) const {
  // Same checks as the Web API: signature, iss, aud (ours only), expiry, revocation. A
  // resource server asks about the same token again and again: the signature and claims
  // checks are remembered (keyed digest, as in TokenVerifier); expiry and revocation are not.
  const int64_t now = s_.clock.now();
  const VerifiedTokenCache::Key key = crypto::keyed_digest128(cache_key_secret_, value);
  // issue15-fix:rotation: a hit holds only while the key that verified it still does in the
  // keyring in force; a swapped keyring first drops what its keys no longer verify.
  const std::shared_ptr<const Keyring> keys = s_.keys.get();
  if (seen_keys_.exchange(keys.get()) != keys.get()) verified_.drop_unverifiable(*keys, now);
  std::shared_ptr<const AccessClaims> c = verified_.find(key, *keys, now);
  if (!c) {
    auto v = verify_access_token(*keys, value, {s_.settings.issuer, s_.settings.audience, now, 0});
    if (!v) return Claims(std::nullopt);
    c = std::make_shared<const AccessClaims>(std::move(*v));
    verified_.insert(key, c, *keys, now);
  }
  if (now > c->exp || !may_see(asking, c->client_id)) return Claims(std::nullopt);
  if (revoked_.covers(c->gid, c->client_id, c->jti, c->iat)) {
    return Claims(std::nullopt);
  }
  // The revocation set lags the store by at most a poll; ask the store for the grant too.
  std::optional<Grant> grant;
  if (!c->gid.empty()) {
    auto g = s_.grants.find_grant(c->gid);
    if (!g && g.error().code != ErrorCode::kNotFound) return fail(std::move(g.error()));
    if (!g || g->revoked_at) return Claims(std::nullopt);
    grant = std::move(*g);
  }
  json::object o{{"active", true}, {"scope", c->scope}, {"client_id", c->client_id},
                 {"sub", c->sub},  {"exp", c->exp},     {"iat", c->iat},
                 {"iss", c->iss},  {"aud", c->aud},     {"token_type", "Bearer"},
                 {"jti", c->jti}};
  if (grant) {
    if (auto name = username(c->sub, grant->scope); !name.empty()) o["username"] = name;
    o["gid"] = c->gid;
  }
  return Claims(std::move(o));
}

IntrospectionEndpoint::Claims IntrospectionEndpoint::refresh_token_claims(
    const std::string& value, const Client& asking) const {
  auto t = s_.refresh_tokens.find_refresh_token(refresh_token_key(value));
  if (!t && t.error().code != ErrorCode::kNotFound) return fail(std::move(t.error()));
  const int64_t now = s_.clock.now();
  if (!t || t->revoked || t->rotated_at || now >= t->expires_at || now >= t->idle_expires_at ||
      !may_see(asking, t->client_id)) {
    return Claims(std::nullopt);
  }
  auto grant = s_.grants.find_grant(t->grant_id);
  if (!grant && grant.error().code != ErrorCode::kNotFound) return fail(std::move(grant.error()));
  if (!grant || grant->revoked_at) return Claims(std::nullopt);
  json::object o{{"active", true},
                 {"scope", t->scope.str()},
                 {"client_id", t->client_id},
                 {"sub", t->user_id},
                 {"exp", std::min(t->expires_at, t->idle_expires_at)},
                 {"iat", t->created_at},
                 {"iss", s_.settings.issuer},
                 {"token_type", "refresh_token"},
                 {"gid", t->grant_id}};
  if (auto name = username(t->user_id, grant->scope); !name.empty()) o["username"] = name;
  return Claims(std::move(o));
}

http::Response IntrospectionEndpoint::answer(FormCall& call,
                                             const AuthenticatedClient& authenticated) const {
  const Client& client = authenticated.client;
  if (client.is_public) {
    return OAuthError::invalid_client("introspection requires a confidential client", false)
        .to_response();
  }
  auto token = call.form.get("token");
  if (!token) return OAuthError::invalid_request("token is required").to_response();

  auto claims = token->starts_with("spr_") ? refresh_token_claims(*token, client)
                                           : access_token_claims(*token, client);
  if (!claims) return OAuthError::unavailable().to_response();
  return http::Response::json(
      200, json::serialize(*claims ? **claims : json::object{{"active", false}}));
}

}  // namespace stagepass::oauth
