#include "oauth/metadata.hpp"

#include <boost/json.hpp>

#include "domain/scope.hpp"

namespace stagepass::oauth {

std::string metadata_json(const OAuthSettings& s, const std::vector<std::string>& grants) {
  namespace json = boost::json;
  json::array scopes, grant_types;
  for (const auto& sc : known_scopes()) scopes.emplace_back(sc.name);
  for (const auto& g : grants) grant_types.emplace_back(g);
  json::object m{
      {"issuer", s.issuer},
      {"authorization_endpoint", s.issuer + "/authorize"},
      {"token_endpoint", s.issuer + "/api/token"},
      {"jwks_uri", s.issuer + "/.well-known/jwks.json"},
      {"response_types_supported", json::array{"code"}},
      {"response_modes_supported", json::array{"query"}},
      {"grant_types_supported", std::move(grant_types)},
      {"code_challenge_methods_supported", json::array{"S256"}},
      {"token_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post", "none"}},
      {"scopes_supported", std::move(scopes)},
      {"authorization_response_iss_parameter_supported", true},
      {"revocation_endpoint", s.issuer + "/api/revoke"},
      {"revocation_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post", "none"}},
      {"introspection_endpoint", s.issuer + "/api/introspect"},
      {"introspection_endpoint_auth_methods_supported",
       json::array{"client_secret_basic", "client_secret_post"}},
      {"service_documentation", s.issuer + "/"},
  };
  return json::serialize(m);
}

}  // namespace stagepass::oauth
