#include "stagepass/client.hpp"

#include <curl/curl.h>
#include <sodium.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <ctime>
#include <thread>

#include "client_impl.hpp"
#include "token_response.hpp"

namespace stagepass::sdk {
namespace json = boost::json;
using detail::HttpRequest;
using detail::HttpResponse;

namespace {

bool idempotent(const std::string& method) {
  return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
         method == "OPTIONS";
}

// RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds. Capped at kMaxRetryAfter; an
// unreadable value counts as one second.
std::chrono::seconds retry_after(const HttpResponse& r) {
  const std::string v = r.header("retry-after");
  int64_t seconds = 1;
  if (!v.empty() &&
      std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    seconds = v.size() > 9 ? kMaxRetryAfter.count() : std::stoll(v);
  } else if (std::time_t at = curl_getdate(v.c_str(), nullptr); !v.empty() && at != -1) {
    seconds = std::max<int64_t>(0, static_cast<int64_t>(at) - std::time(nullptr));
  }
  return std::chrono::seconds(std::min<int64_t>(seconds, kMaxRetryAfter.count()));
}

// Discovered endpoints must be where the issuer is: a metadata document that sends the
// client's secret, codes or tokens to another origin (a tampered or mixed-up document, RFC
// 9700 §4.4) is not used. Endpoints elsewhere can still be given in ClientConfig::endpoints.
// No user name either: libcurl reads "http://evil.example\\@127.0.0.1/" as a user at
// 127.0.0.1, a browser as evil.example. No fragment (RFC 6749 §3.1, §3.2): the query the SDK
// appends to the authorization endpoint would end up inside it.
Result<void> check_discovered(const char* field, const std::string& value,
                              const detail::Url& issuer) {
  auto url = detail::parse_secure_url(value, std::string("metadata ") + field);
  if (!url) return Error{ErrorKind::protocol, url.error().message};
  const std::string shown =
      std::string("metadata ") + field + " \"" + detail::printable_url(value, 200) + "\"";
  if (url->has_userinfo) {
    return Error{ErrorKind::protocol,
                 shown + " has a user name (a browser may read it as another host)"};
  }
  if (url->has_fragment) return Error{ErrorKind::protocol, shown + " has a fragment"};
  if (!url->same_origin(issuer)) {
    return Error{ErrorKind::protocol,
                 shown + " is not on the issuer's origin (" + issuer.origin() + ")"};
  }
  return {};
}

// A configured URL the SDK sends secrets or tokens to: https, or http on loopback; no
// user name, query or fragment (RFC 8414 §2 says so of the issuer).
Result<detail::Url> check_configured(const std::string& value, const char* what,
                                     bool query_allowed) {
  auto url = detail::parse_secure_url(value, what);
  if (!url) return url.error();
  if (url->has_userinfo || url->has_fragment || (url->has_query && !query_allowed)) {
    return Error{ErrorKind::usage, std::string(what) + " \"" + detail::printable_url(value, 200) +
                                       "\" may not have a user name" +
                                       (query_allowed ? "" : ", query") + " or fragment"};
  }
  return url;
}

}  // namespace

boost::json::value ApiResponse::json() const {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  return ec ? json::value{} : v;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::create(ClientConfig config,
                                               std::shared_ptr<TokenStore> store) {
  if (sodium_init() < 0) return Error{ErrorKind::usage, "libsodium could not start"};
  while (config.issuer.ends_with("/")) config.issuer.pop_back();
  if (config.issuer.empty()) return Error{ErrorKind::usage, "the issuer URL is required"};
  if (config.client_id.empty()) return Error{ErrorKind::usage, "the client id is required"};
  if (!store) return Error{ErrorKind::usage, "a token store is required"};
  if (config.api_base.empty()) config.api_base = config.issuer + "/v1";
  while (config.api_base.ends_with("/")) config.api_base.pop_back();
  if (config.cache_key.empty()) config.cache_key = config.issuer + " " + config.client_id;
  if (!config.now) config.now = [] { return std::chrono::system_clock::now(); };

  auto impl = std::make_unique<Impl>();
  // RFC 8414 §2: "a URL that uses the "https" scheme and has no query or fragment
  // components" — or plain http to this machine (origin.hpp).
  auto issuer = check_configured(config.issuer, "the issuer", false);
  if (!issuer) return issuer.error();
  auto api_base = check_configured(config.api_base, "the API base", false);
  if (!api_base) return api_base.error();
  impl->issuer = std::move(*issuer);
  impl->api_base = std::move(*api_base);
  impl->store = std::move(store);
  if (config.endpoints) {
    const Endpoints& e = *config.endpoints;
    for (auto [value, what] : {std::pair{&e.authorization_endpoint, "the authorization endpoint"},
                               std::pair{&e.token_endpoint, "the token endpoint"},
                               std::pair{&e.revocation_endpoint, "the revocation endpoint"}}) {
      if (value->empty()) continue;
      // RFC 6749 §3.1: the authorization endpoint's URI may include a query component.
      if (auto ok = check_configured(*value, what, true); !ok) return ok.error();
    }
    impl->endpoints = e;
  } else {
    // RFC 8414 §3: metadata at the well-known URI under the issuer.
    HttpRequest r{"GET",
                  config.issuer + "/.well-known/oauth-authorization-server",
                  {},
                  {},
                  config.request_timeout};
    r.headers.emplace_back("Accept", "application/json");
    auto response = detail::send(r);
    if (!response) return response.error();
    boost::system::error_code ec;
    auto doc = json::parse(response->body, ec);
    if (response->status != 200 || ec || !doc.is_object()) {
      return Error{ErrorKind::protocol,
                   "no authorization server metadata at " + r.url + " (HTTP " +
                       std::to_string(response->status) + ")",
                   response->status};
    }
    const auto& m = doc.get_object();
    auto str = [&](const char* k) {
      auto* v = m.if_contains(k);
      return v && v->is_string() ? std::string(v->get_string()) : std::string{};
    };
    // RFC 8414 §3.3: the issuer in the metadata must be identical to the one asked for.
    if (str("issuer") != config.issuer) {
      return Error{ErrorKind::protocol,
                   "metadata issuer \"" + detail::printable_url(str("issuer"), 200) +
                       "\" is not the configured issuer \"" + config.issuer + "\""};
    }
    impl->endpoints = {str("authorization_endpoint"), str("token_endpoint"),
                       str("revocation_endpoint")};
    auto* iss = m.if_contains("authorization_response_iss_parameter_supported");
    impl->iss_required = iss && iss->is_bool() && iss->get_bool();
    if (impl->endpoints.token_endpoint.empty()) {
      return Error{ErrorKind::protocol, "metadata has no token_endpoint"};
    }
    for (const char* field : {"authorization_endpoint", "token_endpoint", "revocation_endpoint"}) {
      if (str(field).empty()) continue;
      if (auto ok = check_discovered(field, str(field), impl->issuer); !ok) return ok.error();
    }
  }
  impl->cfg = std::move(config);
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<std::optional<TokenSet>> Client::tokens() {
  return impl_->store->load(impl_->cfg.cache_key);
}

Result<std::string> Client::access_token() { return impl_->access_token(); }

Result<ApiResponse> Client::call(const std::string& method, const std::string& path,
                                 const std::optional<std::string>& json_body) {
  auto& d = *impl_;
  // RFC 9110 §9.1: a method is a token. Checked before anything is sent, a refresh included.
  if (!detail::is_http_token(method)) {
    return Error{ErrorKind::usage, "the method " + detail::quoted_method(method) +
                                       " is not an HTTP method (RFC 9110 §9.1)"};
  }
  const bool safe_to_repeat = idempotent(method);
  bool refreshed_after_401 = false;
  int attempt = 0;
  auto backoff = [&] {
    // 200 ms, 400 ms, 800 ms ... with up to 50 % jitter so clients do not march in step.
    auto base = std::chrono::milliseconds(200) * (1 << std::min(attempt, 5));
    std::this_thread::sleep_for(base + std::chrono::milliseconds(randombytes_uniform(
                                           static_cast<uint32_t>(base.count() / 2 + 1))));
  };
  // Checked before anything is sent, a refresh included.
  auto url = d.api_url(path);
  if (!url) return url.error();
  for (;;) {
    auto token = d.access_token();
    if (!token) return token.error();
    HttpRequest r{method, *url, {}, json_body.value_or(""), d.cfg.request_timeout};
    r.headers.emplace_back("Authorization", "Bearer " + *token);
    r.headers.emplace_back("Accept", "application/json");
    if (json_body) r.headers.emplace_back("Content-Type", "application/json");
    auto response = detail::send(r);
    if (!response) {
      if (safe_to_repeat && attempt < d.cfg.max_retries) {
        backoff();
        ++attempt;
        continue;
      }
      return response.error();
    }
    const int status = response->status;
    if (status == 401 && !refreshed_after_401 &&
        response->header("www-authenticate").find("invalid_token") != std::string::npos) {
      // RFC 6750 §3.1: the token expired or was revoked; a refresh may fix it, once.
      refreshed_after_401 = true;
      auto fresh = d.refresh(*token, true);
      if (!fresh) return fresh.error();
      continue;
    }
    if (status == 429) {
      auto wait = retry_after(*response);
      if (attempt < d.cfg.max_retries && wait <= d.cfg.max_retry_wait) {
        std::this_thread::sleep_for(wait);
        ++attempt;
        continue;
      }
      Error e = detail::api_error(*response);
      e.kind = ErrorKind::rate_limited;
      e.retry_after = wait;
      e.message += " (retry after " + std::to_string(wait.count()) + " s)";
      return e;
    }
    if ((status == 502 || status == 503 || status == 504) && safe_to_repeat &&
        attempt < d.cfg.max_retries) {
      backoff();
      ++attempt;
      continue;
    }
    if (status >= 400) return detail::api_error(*response);
    return ApiResponse{status, response->header("content-type"), std::move(response->body)};
  }
}

Result<void> Client::logout() {
  auto& d = *impl_;
  std::lock_guard lk(d.refresh_mu);
  auto guard = d.store->exclusive();
  if (!guard) return guard.error();
  auto t = d.store->load(d.cfg.cache_key);
  Result<void> revoked;
  if (t && *t && !d.endpoints.revocation_endpoint.empty()) {
    // RFC 7009 §2.1: revoking the refresh token ends the grant and its access tokens.
    const auto& tokens = **t;
    bool refresh = !tokens.refresh_token.empty();
    auto response =
        detail::send(d.token_post({{"token", refresh ? tokens.refresh_token : tokens.access_token},
                                   {"token_type_hint", refresh ? "refresh_token" : "access_token"}},
                                  d.endpoints.revocation_endpoint));
    if (!response) {
      revoked = response.error();
    } else if (response->status != 200) {
      // Not 200, so this is always the server's error (RFC 7009 §2.2.1).
      revoked = detail::parse_token_response(*response, d.now()).error();
    }
  }
  if (auto r = d.store->erase(d.cfg.cache_key); !r) return r.error();
  if (!t) return t.error();
  return revoked;
}

const Endpoints& Client::endpoints() const { return impl_->endpoints; }
const std::string& Client::cache_key() const { return impl_->cfg.cache_key; }

}  // namespace stagepass::sdk
