// For the oauth unit tests: one authorization server as the node builds it - a real SQLite
// store on a temporary file, the real keyring, grants, endpoints and form pipeline - with a
// manual clock, and helpers that post forms through the pipeline exactly as the HTTP server
// does (a coroutine on an io_context, the blocking steps on a store and a commit pool).
// Not thread-safe: one per test.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <boost/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "monitor/metrics.hpp"
#include "oauth/authorize.hpp"
#include "oauth/form_pipeline.hpp"
#include "oauth/grant_revoker.hpp"
#include "oauth/introspection_endpoint.hpp"
#include "oauth/revocation_endpoint.hpp"
#include "oauth/token_endpoint.hpp"
#include "store/sqlite/temp_store_test_support.hpp"
#include "tokens/revocation_set.hpp"
#include "tokens/signing_keys.hpp"

namespace stagepass::oauth::testing {

// The registered apps.
inline const std::string kConfId = "conf-app";            // confidential, may use every grant
inline const std::string kConfSecret = "s3cr:et+ %/&=x";  // needs form-encoding in Basic
inline const std::string kOtherId = "other-app";          // another confidential app
inline const std::string kOtherSecret = "other-secret";
inline const std::string kPublicId = "public-app";               // public: PKCE, no secret
inline const std::string kResourceServerId = "resource-server";  // introspects any app's tokens
inline const std::string kResourceServerSecret = "rs-secret";
inline const std::string kRedirect = "https://app.example/cb";
inline const std::string kPublicRedirect = "http://127.0.0.1:8888/cb";
inline const std::string kWebOrigin = "https://spa.example";  // registered by the public app
inline const std::string kUserId = "user-1";
inline const std::string kUserEmail = "ada@example.com";
// RFC 7636 Appendix B.
inline const std::string kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
inline const std::string kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

// The settings the tests reason about (OAuthSettings).
inline constexpr int64_t kStart = 1'700'000'000;
inline constexpr int64_t kCodeTtl = 60;
inline constexpr int64_t kRefreshTtl = 1000;  // absolute, from the code exchange
inline constexpr int64_t kRefreshIdleTtl = 300;
inline constexpr int64_t kRefreshGrace = 10;

using Headers = std::vector<std::pair<std::string, std::string>>;

// A POST with `headers` (in order; a name may repeat) and `body`. Content-Type is
// application/x-www-form-urlencoded unless `headers` names one.
http::Request form_post(std::string body, const Headers& headers = {});
// "Authorization: Basic" as a correct client sends it (RFC 6749 §2.3.1: each part form-encoded).
Headers basic(std::string_view id, std::string_view secret);
// The body of a JSON answer.
boost::json::object json_of(const http::Response& r);
// The value of a header, empty when absent.
std::string header_of(const http::Response& r, std::string_view name);
// The "error" and "error_description" of an RFC 6749 §5.2 answer ("" when absent).
using WireError = std::pair<std::string, std::string>;
WireError error_of(const http::Response& r);

class AuthorizationServer {
 public:
  AuthorizationServer();

  // Posts through the pipeline as the server does; returns the answer.
  http::Response post(const FormEndpoint& endpoint, std::string body, const Headers& headers = {});
  http::Response token(std::string body, const Headers& headers = {}) {
    return post(tokens, std::move(body), headers);
  }

  // The person consents to `scope` for `client_id` and gets a code (with `challenge` when not
  // empty) for `redirect_uri`, through AuthorizeFlow as the consent page does. Its value.
  std::string code_for(const std::string& client_id, const std::string& scope,
                       const std::string& redirect_uri, const std::string& challenge = "");
  // The confidential app's code for `scope` exchanged: the token answer (200 expected).
  boost::json::object conf_tokens(const std::string& scope = "streaming user-read-email");
  // Whether the person's grant was revoked (the person has no active grant left).
  bool grant_revoked();

  ManualClock clock{kStart};
  SystemRandom random;
  sqlite::TempSqliteStore store{"sp-oauth-"};
  Metrics metrics;
  std::vector<AuditEvent> events;  // recorded by the revoker
  int announced = 0;               // revocations announced to this node
  GrantRevoker revoker;
  SigningKeys keys;
  Services services;
  RevocationSet revoked{3600, 1000};
  TokenEndpoint tokens;
  RevocationEndpoint revocation{services};
  IntrospectionEndpoint introspection{services, revoked};
  AuthorizeFlow authorize{services};
  CorsPolicy cors;
  boost::asio::thread_pool store_pool{1};
  boost::asio::thread_pool commit_pool{1};
  FormPipeline pipeline{services, cors, {store_pool, commit_pool}};
};

}  // namespace stagepass::oauth::testing
