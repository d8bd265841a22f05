#include "oauth/token_issuer.hpp"

#include <algorithm>
#include <boost/json.hpp>

#include "tokens/access_token.hpp"
#include "tokens/opaque_token.hpp"

namespace stagepass::oauth {

http::Response TokenResponse::to_response() const {
  boost::json::object body{
      {"access_token", access_token}, {"token_type", "Bearer"}, {"expires_in", expires_in}};
  if (!scope.empty() || refresh_token) body["scope"] = scope;
  if (refresh_token) body["refresh_token"] = *refresh_token;
  auto r = http::Response::json(200, boost::json::serialize(body));
  add_no_store(r);
  return r;
}

Result<std::string, OAuthError> TokenIssuer::access_token(const AuthenticatedClient& client,
                                                          const std::string& sub,
                                                          const ScopeSet& scope,
                                                          const std::string& grant_id,
                                                          std::optional<bool> allowlisted) const {
  // iat before the reconfirmation (header: the order is what closes the race). A client read
  // from memory after its read_since was fixed was read in that order already: it is checked
  // as read.
  const int64_t issued = client.read_since.value_or(s_.clock.now());
  const int64_t now = std::max(issued, client.client.tokens_cut_at + 1);
  auto still = client.read_since ? still_stands(client.client, client, issued)
                                 : reconfirm_client(s_, client);
  if (!still) return fail(still.error());
  AccessClaims c{s_.settings.issuer,
                 sub,
                 s_.settings.audience,
                 client.client.id,
                 scope.str(),
                 now,
                 issued + s_.settings.access_token_ttl,  // its lifetime from its issue
                 s_.random.id22(),
                 grant_id,
                 client.client.rate_limit,
                 allowlisted,
                 {},
                 issued};
  return mint_access_token(*s_.keys.get(), c);
}

NewRefreshToken TokenIssuer::new_refresh_token() const {
  NewRefreshToken t;
  t.value = new_family_refresh_token(s_.random, new_refresh_family(s_.random, s_.clock), 0);
  t.hash = refresh_token_key(t.value);
  return t;
}

NewRefreshToken TokenIssuer::next_refresh_token(std::string_view presented) const {
  NewRefreshToken t;
  // At the last generation the successor's counter wraps; a store with a row per chain
  // (SQLite) refuses that rotation (the chain ends) before it looks at the successor; one
  // with a row per token (PostgreSQL) just stores it under its own key.
  const auto f = refresh_token_family(presented);
  t.value = f ? new_family_refresh_token(s_.random, f->family, f->generation + 1)
              : new_opaque_token(s_.random, s_.clock, kRefreshTokenPrefix);
  t.hash = refresh_token_key(t.value);
  return t;
}

}  // namespace stagepass::oauth
