// Gateway: everything the Web API does before and after an endpoint handler (the
// resource-server half of the token architecture), as a pipeline of named steps:
//   CORS preflight -> route -> no token in the query (RFC 6750 §2.3 refused) -> bearer token
//   from the Authorization header (§2.1) -> verify (cache, signature, claims, revocation) ->
//   route requirement (user token, scopes) -> per-app rate limit (rolling 30 s) -> the
//   route's fast handler on the I/O thread if it has one and the app's limit is known in
//   memory, else the handler on the worker pool -> usage hook ("last used", user tokens
//   only) -> CORS headers.
// Errors use Spotify's object plus RFC 6750 WWW-Authenticate headers.
// Thread safety: handle() may run concurrently on every I/O thread.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "api/api.hpp"
#include "core/clock.hpp"
#include "monitor/metrics.hpp"
#include "monitor/rate_limiter.hpp"
#include "tokens/token_verifier.hpp"

namespace stagepass::api {

struct GatewaySettings {
  std::string base_url;               // "<issuer>/v1"
  int64_t default_rate_limit = 3000;  // requests per app per 30 s, unless the app has its own
};

// Where an app's rate limit comes from (0: use the default). `cached` must not block and
// answers nullopt when it would have to; `load` may block (it runs on the worker pool).
// Both empty: every app gets the default.
struct RateLimitLookup {
  std::function<std::optional<int64_t>(const std::string& client_id)> cached;
  std::function<int64_t(const std::string& client_id)> load;
};
// Called on the I/O thread after a user token's call succeeded (the handler answered 2xx/3xx),
// e.g. to aggregate "last used". Must be cheap and must not block; never called for
// client-credentials tokens.
using UsageHook = std::function<void(const Principal&)>;

class Gateway {
 public:
  Gateway(const ApiRoutes& routes, TokenVerifier& verifier, RateLimiter& limiter, Metrics& metrics,
          boost::asio::thread_pool& pool, const Clock& clock, GatewaySettings settings,
          RateLimitLookup rate_limit, UsageHook on_use = {});
  boost::asio::awaitable<http::Response> handle(http::Request& req);

 private:
  http::Response preflight(const http::Request& req, const ApiRoutes::Match& m) const;
  std::optional<http::Response> authenticate(const http::Request& req, const Form& query,
                                             Principal& out);
  // The rate-limit step: a 429 when the app is over its limit, else nullopt.
  std::optional<http::Response> admit(const Principal& who, int64_t limit);
  // The blocking path: look the limit up if needed, admit, run the handler.
  http::Response run(const ApiRoutes::Route& route, ApiRequest& api, bool admitted);
  http::Response finish(http::Response r) const;

  const ApiRoutes& routes_;
  TokenVerifier& verifier_;
  RateLimiter& limiter_;
  Metrics& metrics_;
  boost::asio::thread_pool& pool_;
  const Clock& clock_;
  GatewaySettings settings_;
  RateLimitLookup rate_limit_;
  UsageHook on_use_;
  // stagepass_api_requests_total by status, resolved once (index: status - 100).
  std::array<std::atomic<uint64_t>*, 500> by_status_{};
};

}  // namespace stagepass::api
