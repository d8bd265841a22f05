// Gateway: everything the Web API does before and after an endpoint handler (the
// resource-server half of the token architecture), as a pipeline of named steps:
//   CORS preflight -> route -> no token in the query (RFC 6750 §2.3 refused) -> bearer token
//   from the Authorization header (§2.1) -> verify (cache, signature, claims, revocation) ->
//   development mode (the token's "al" claim: a person not on the app's allowlist gets 403
//   USER_NOT_ALLOWLISTED) -> route requirement (user token, scopes) -> per-app limits (a unit
//   left in the rolling 30 s, whose size is the token's "rl" claim, else the default, and in
//   the daily quota; each this node's share when several nodes serve the API) -> the route's fast
//   handler on the I/O thread if it has one and it answers from memory, else the handler on the
//   worker pool -> the rest of the call's cost charged to the app -> usage hook ("last used", user
//   tokens only) -> CORS headers.
// A refused token says why (RFC 6750 §3): WWW-Authenticate: Bearer realm="stagepass",
// error="invalid_token", error_description="<reason>", the reason one of a fixed set (see
// token_refusal_reason); a 429 names RATE_LIMITED or QUOTA_EXCEEDED in Spotify's error object.
// Everything before the handler is in memory: no store read, no callback, no accounts
// database (an api-only node enforces per-app limits and allowlists from the token alone).
// Errors use Spotify's object plus RFC 6750 WWW-Authenticate headers.
// Thread safety: handle() may run concurrently on every I/O thread.
// Lifetime: everything passed by reference must outlive the gateway.
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
  std::string base_url;  // "<issuer>/v1"
  // Cost units per app per rolling 30 s for a token without "rl" (STAGEPASS_RATE_LIMIT).
  int64_t default_rate_limit = 3000;
  // Cost units per app per rolling 24 h (STAGEPASS_API_DAILY_QUOTA); 0: no quota.
  int64_t daily_quota = 0;
  // issue16:cluster. The nodes a round-robin balancer spreads the Web API over
  // (STAGEPASS_API_NODES, >= 1): each enforces its share of every app's limit and quota,
  // share_of() below, so the cluster admits about the app's limit, not this many times it.
  int64_t api_nodes = 1;
};

// One node's share of an app's budget when `nodes` nodes serve it: limit / nodes rounded up,
// at least 1 (a call is never refused by rounding alone); 0 (no quota) stays 0.
int64_t share_of(int64_t limit, int64_t nodes);

// The error_description of a refused token (RFC 6750 §3), from the verifier's code: one of
// "expired", "revoked", "malformed", "wrong audience", "wrong issuer", "not yet valid",
// "unknown key", "bad signature" (docs/operations.md lists them).
std::string_view token_refusal_reason(ErrorCode code);
// Called on the I/O thread after a user token's call succeeded (the handler answered 2xx/3xx),
// e.g. to aggregate "last used". Must be cheap and must not block; never called for
// client-credentials tokens.
using UsageHook = std::function<void(const Principal&)>;
// issue15:abuse. Called on the I/O thread with every answer to a request whose token was
// verified (any status, 429s included): per-app usage and the abuse signals. Must be cheap
// and must not block.
using RequestObserver =
    std::function<void(const Principal&, const http::Request&, int status, int64_t now_ms)>;

class Gateway {
 public:
  Gateway(const ApiRoutes& routes, TokenVerifier& verifier, RateLimiter& limiter, Metrics& metrics,
          boost::asio::thread_pool& pool, const Clock& clock, GatewaySettings settings,
          UsageHook on_use = {}, RequestObserver observe = {});
  boost::asio::awaitable<http::Response> handle(http::Request& req);

 private:
  http::Response preflight(const http::Request& req, const ApiRoutes::Match& m) const;
  std::optional<http::Response> authenticate(const http::Request& req, const Form& query,
                                             Principal& out);
  // The development-mode step (issue15:devmode): a 403 with the reason USER_NOT_ALLOWLISTED
  // when the token says its person is not on the app's allowlist ("al": false), else nullopt.
  // The issuer decided it; nothing is read here.
  std::optional<http::Response> allowlisted(const Principal& who);
  // The limits step: a 429 (RATE_LIMITED or QUOTA_EXCEEDED) when the app has no unit left,
  // else nullopt, the call's first unit charged. Never blocks.
  std::optional<http::Response> admit(const Principal& who, int64_t now);
  // The blocking path (worker pool): the route's handler, a 500 if it throws.
  static http::Response run(const ApiRoutes::Route& route, ApiRequest& api);
  http::Response finish(http::Response r) const;

  const ApiRoutes& routes_;
  TokenVerifier& verifier_;
  RateLimiter& limiter_;
  Metrics& metrics_;
  boost::asio::thread_pool& pool_;
  const Clock& clock_;
  GatewaySettings settings_;
  UsageHook on_use_;
  RequestObserver observe_;
  // stagepass_api_requests_total by status, resolved once (index: status - 100).
  std::array<std::atomic<uint64_t>*, 500> by_status_{};
};

}  // namespace stagepass::api
