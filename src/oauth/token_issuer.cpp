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

std::string TokenIssuer::access_token(const std::string& sub, const std::string& client_id,
                                      const ScopeSet& scope, const std::string& grant_id,
                                      int64_t rate_limit, std::optional<bool> allowlisted,
                                      int64_t cut_at) const {
  const int64_t now = std::max(s_.clock.now(), cut_at + 1);
  AccessClaims c{s_.settings.issuer,
                 sub,
                 s_.settings.audience,
                 client_id,
                 scope.str(),
                 now,
                 now + s_.settings.access_token_ttl,
                 s_.random.id22(),
                 grant_id,
                 rate_limit,
                 allowlisted};
  return mint_access_token(*s_.keys.get(), c);
}

NewRefreshToken TokenIssuer::new_refresh_token() const {
  NewRefreshToken t;
  t.value = new_opaque_token(s_.random, s_.clock, kRefreshTokenPrefix);
  t.hash = refresh_token_key(t.value);
  return t;
}

}  // namespace stagepass::oauth
