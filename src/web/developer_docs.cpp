// GET /developer/docs: the developer documentation, public (signed in or not). Its facts come
// from the running server, so they cannot drift from what it does: the URLs from the issuer,
// token lifetimes and limits from the configuration (rate limit, daily quota, allowlist size,
// JWKS max-age), the secret rotation grace from SecretRotation, the token refusal reasons
// as api/gateway.cpp words them, the scope table from known_scopes() (the table the consent
// page words its list with).
#include "domain/scope.hpp"
#include "oauth/secret_rotation.hpp"
#include "web/page_helpers.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

// "3600 seconds (1 hour)": the exact figure, then the largest whole unit, if any.
std::string duration_words(int64_t seconds) {
  struct Unit {
    int64_t size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}};
  std::string out = std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
  for (const auto& u : kUnits) {
    if (seconds >= u.size && seconds % u.size == 0) {
      const int64_t n = seconds / u.size;
      return out + " (" + std::to_string(n) + " " + u.name + (n == 1 ? ")" : "s)");
    }
  }
  return out;
}

}  // namespace

Site::Awaitable Site::developer_docs(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  const oauth::OAuthSettings& o = s_.settings;
  Data d;
  if (v.user) d.set("user", user_nav(*v.user));
  d.set("wide", true);
  d.set("issuer", o.issuer);
  d.set("api_base", o.issuer + "/v1");
  d.set("access_token_ttl", std::to_string(o.access_token_ttl));
  d.set("access_token_ttl_words", duration_words(o.access_token_ttl));
  d.set("refresh_token_ttl_words", duration_words(o.refresh_token_ttl));
  d.set("refresh_idle_ttl_words", duration_words(o.refresh_idle_ttl));
  d.set("refresh_grace_words", duration_words(o.refresh_grace));
  d.set("code_ttl_words", duration_words(o.code_ttl));
  d.set("rate_limit", std::to_string(settings_.api_rate_limit));
  d.set("max_apps", std::to_string(settings_.max_apps_per_user));
  if (settings_.api_daily_quota > 0)
    d.set("daily_quota", std::to_string(settings_.api_daily_quota));
  d.set("allowlist_limit", std::to_string(settings_.dev_allowlist_limit));
  d.set("jwks_max_age", std::to_string(settings_.jwks_max_age));
  d.set("default_grace_words", duration_words(oauth::SecretRotation::kDefaultGraceSeconds));
  d.set("max_grace_words", duration_words(oauth::SecretRotation::kMaxGraceSeconds));
  kainjow::mustache::list scopes;
  for (const auto& info : known_scopes()) {
    Data s;
    s.set("name", std::string(info.name));
    s.set("description", std::string(info.description));
    scopes.push_back(s);
  }
  d.set("scopes", scopes);
  co_return page(200, "developer_docs.html", "Developer documentation", std::move(d), req);
}

}  // namespace stagepass::web
