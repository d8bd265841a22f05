#include "api/gateway.hpp"

#include "http/offload.hpp"

namespace stagepass::api {
namespace {

constexpr const char* kRealm = "Bearer realm=\"stagepass\"";

// RFC 6750 §3: the challenge; `description` (a constant of this file: RFC 6750's characters,
// %x20-21 / %x23-5B / %x5D-7E) only with an error code.
http::Response unauthorized(std::string message, const char* error_code,
                            std::string_view description = {}) {
  auto r = error(401, std::move(message));
  std::string challenge = kRealm;
  if (error_code) challenge += std::string(", error=\"") + error_code + "\"";
  if (error_code && !description.empty()) {
    challenge += ", error_description=\"";
    challenge += description;
    challenge += '"';
  }
  r.header("WWW-Authenticate", challenge);
  return r;
}

std::string message_for(ErrorCode code) {
  if (code == ErrorCode::kExpired) return "The access token expired";
  if (code == ErrorCode::kRevoked) return "The access token has been revoked";
  return "Invalid access token";
}

}  // namespace

std::string_view token_refusal_reason(ErrorCode code) {
  switch (code) {
    case ErrorCode::kExpired:
      return "expired";
    case ErrorCode::kRevoked:
      return "revoked";
    case ErrorCode::kWrongAudience:
      return "wrong audience";
    case ErrorCode::kWrongIssuer:
      return "wrong issuer";
    case ErrorCode::kNotYetValid:
      return "not yet valid";
    case ErrorCode::kUnknownKey:
      return "unknown key";
    case ErrorCode::kSignature:
      return "bad signature";
    default:  // kMalformed, kClaims (no sub or jti, a bad "rl"); the verifier returns no other
      return "malformed";
  }
}

Gateway::Gateway(const ApiRoutes& routes, TokenVerifier& verifier, RateLimiter& limiter,
                 Metrics& metrics, boost::asio::thread_pool& pool, const Clock& clock,
                 GatewaySettings settings, UsageHook on_use, RequestObserver observe)
    : routes_(routes),
      verifier_(verifier),
      limiter_(limiter),
      metrics_(metrics),
      pool_(pool),
      clock_(clock),
      settings_(std::move(settings)),
      on_use_(std::move(on_use)),
      observe_(std::move(observe)) {
  metrics_.describe("stagepass_api_requests_total", "counter", "Web API responses by status");
  metrics_.describe("stagepass_api_rate_limited_total", "counter",
                    "Web API requests refused with 429, by app");
  metrics_.describe("stagepass_api_not_allowlisted_total", "counter",
                    "Web API requests refused with 403 USER_NOT_ALLOWLISTED, by app");
  metrics_.describe("stagepass_api_quota_exceeded_total", "counter",
                    "Web API requests refused with 429 QUOTA_EXCEEDED (daily quota), by app");
  for (int status : {200, 201, 204, 400, 401, 403, 404, 405, 429, 500, 502, 503}) {
    by_status_[status - 100] = &metrics_.counter("stagepass_api_requests_total{status=\"" +
                                                 std::to_string(status) + "\"}");
  }
}

// Bearer tokens are not ambient credentials, so any origin may call the API from a browser;
// credentials (cookies) are never allowed.
http::Response Gateway::finish(http::Response r) const {
  r.header("Access-Control-Allow-Origin", "*");
  r.header("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate");
  auto* counter = r.status >= 100 && r.status < 600 ? by_status_[r.status - 100] : nullptr;
  if (counter) {
    counter->fetch_add(1, std::memory_order_relaxed);
  } else {
    metrics_.inc("stagepass_api_requests_total{status=\"" + std::to_string(r.status) + "\"}");
  }
  return r;
}

http::Response Gateway::preflight(const http::Request&, const ApiRoutes::Match& m) const {
  http::Response r{204, {}, {}, {}};
  r.header("Access-Control-Allow-Methods", m.allow);
  r.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
  r.header("Access-Control-Max-Age", "86400");
  return r;
}

std::optional<http::Response> Gateway::authenticate(const http::Request& req, const Form& query,
                                                    Principal& out) {
  // RFC 6750 §2.3 allows tokens in the URI but they leak into logs and history: refused.
  if (query.has("access_token")) {
    auto r = error(400, "Access tokens are accepted only in the Authorization header");
    r.header("WWW-Authenticate", std::string(kRealm) + ", error=\"invalid_request\"");
    return r;
  }
  if (req.header_count("Authorization") > 1) {
    auto r = error(400, "Only one Authorization header is allowed");
    r.header("WWW-Authenticate", std::string(kRealm) + ", error=\"invalid_request\"");
    return r;
  }
  std::string_view auth = req.header("Authorization");
  if (auth.empty()) return unauthorized("No token provided", nullptr);
  // RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (scheme is case-insensitive).
  if (auth.size() < 8 || !iequals(auth.substr(0, 7), "Bearer ")) {
    return unauthorized("Only valid bearer authentication supported", "invalid_request");
  }
  auto token = auth.substr(7);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  auto claims = verifier_.verify(token);
  if (!claims) {
    const ErrorCode code = claims.error().code;
    return unauthorized(message_for(code), "invalid_token", token_refusal_reason(code));
  }
  const AccessClaims& c = **claims;
  out = Principal{c.sub, c.client_id, ScopeSet::parse(c.scope), c.gid, c.jti, c.rate_limit};
  out.allowlisted = c.allowlisted.value_or(true);  // no "al": not an app in development mode
  return std::nullopt;
}

boost::asio::awaitable<http::Response> Gateway::handle(http::Request& req) {
  auto m = routes_.match(req.method(), req.path());
  if (req.method() == "OPTIONS") {
    if (!m) co_return finish(error(404, "Service not found"));
    co_return finish(preflight(req, *m));
  }
  if (!m) co_return finish(error(404, "Service not found"));
  if (!m->route) {
    auto r = error(405, "Method not allowed");
    r.header("Allow", m->allow);
    co_return finish(std::move(r));
  }
  Principal who;
  auto query = Form::parse(req.query());
  if (!query) co_return finish(error(400, "Malformed query string"));
  if (auto refused = authenticate(req, *query, who)) co_return finish(std::move(*refused));
  const int64_t now_ms = clock_.now_ms();
  // From here the app is known: every answer is observed (usage, abuse signals).
  auto answer = [&](http::Response r) {
    r.log_client_id = who.client_id;
    if (observe_) observe_(who, req, r.status, now_ms);
    return finish(std::move(r));
  };
  if (auto refused = allowlisted(who)) co_return answer(std::move(*refused));
  const Requirement& need = m->route->requirement;
  if (need.user && !who.is_user()) {
    co_return answer(
        unauthorized("Valid user authentication required", "invalid_token", "user token required"));
  }
  for (const auto& scope : need.scopes) {
    if (!who.scope.contains(scope)) co_return answer(insufficient_scope(scope));
  }
  if (auto refused = admit(who, now_ms / 1000)) co_return answer(std::move(*refused));
  ApiRequest api{req, who, std::move(m->path), std::move(*query), settings_.base_url, now_ms};
  const ApiRoutes::Route& route = *m->route;
  std::optional<http::Response> r;
  if (route.fast) r = route.fast(api);
  if (!r) {
    auto work = [&] { return run(route, api); };
    r = co_await http::offload(pool_, work);
  }
  // The work is done: the rest of its cost goes to the app (admit() charged the first unit).
  if (api.cost > 1) limiter_.charge(who.client_id, api.cost - 1, now_ms / 1000);
  if (on_use_ && who.is_user() && r->status < 400) on_use_(who);
  co_return answer(std::move(*r));
}

std::optional<http::Response> Gateway::allowlisted(const Principal& who) {
  if (who.allowlisted) return std::nullopt;
  // The token is valid (so no WWW-Authenticate challenge: another token of the same person
  // would be refused alike); the app may not serve this person. Refused before the rate limit,
  // so such calls do not spend the app's budget.
  metrics_.inc("stagepass_api_not_allowlisted_total{client_id=\"" + who.client_id + "\"}");
  auto r =
      error(403, "The user is not on the allowlist of this app (the app is in development mode)",
            "USER_NOT_ALLOWLISTED");
  r.log_client_id = who.client_id;
  return r;
}

int64_t share_of(int64_t limit, int64_t nodes) {
  if (limit <= 0 || nodes <= 1) return limit;
  return (limit + nodes - 1) / nodes;
}

std::optional<http::Response> Gateway::admit(const Principal& who, int64_t now) {
  const int64_t limit = who.rate_limit > 0 ? who.rate_limit : settings_.default_rate_limit;
  const RateLimiter::Limits limits{share_of(limit, settings_.api_nodes),
                                   share_of(settings_.daily_quota, settings_.api_nodes)};
  const auto admission = limiter_.admit(who.client_id, limits, now);
  if (admission) return std::nullopt;
  metrics_.inc("stagepass_api_rate_limited_total{client_id=\"" + who.client_id + "\"}");
  const bool quota = admission.refused == RateLimiter::Refusal::kQuotaExceeded;
  if (quota) {
    metrics_.inc("stagepass_api_quota_exceeded_total{client_id=\"" + who.client_id + "\"}");
  }
  // RFC 6585 §4 / RFC 9110 §10.2.3: 429 with Retry-After in seconds.
  auto r = quota ? error(429, "API daily quota exceeded", "QUOTA_EXCEEDED")
                 : error(429, "API rate limit exceeded", "RATE_LIMITED");
  r.header("Retry-After", std::to_string(admission.retry_after));
  return r;
}

http::Response Gateway::run(const ApiRoutes::Route& route, ApiRequest& api) {
  try {
    return route.handler(api);
  } catch (const std::exception&) {
    return error(500, "Server error");
  }
}

}  // namespace stagepass::api
