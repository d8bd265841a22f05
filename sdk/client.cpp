#include "stagepass/client.hpp"

#include <sodium.h>

#include <boost/json/parse.hpp>
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

std::chrono::seconds retry_after(const HttpResponse& r) {
  std::string v = r.header("retry-after");
  char* end = nullptr;
  long n = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n < 0) return std::chrono::seconds(1);  // HTTP-date: be brief
  return std::chrono::seconds(n);
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
  if (config.cache_key.empty()) config.cache_key = config.issuer + " " + config.client_id;
  if (!config.now) config.now = [] { return std::chrono::system_clock::now(); };

  auto impl = std::make_unique<Impl>();
  impl->store = std::move(store);
  if (config.endpoints) {
    impl->endpoints = *config.endpoints;
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
      return Error{ErrorKind::protocol, "metadata issuer \"" + str("issuer") +
                                            "\" is not the configured issuer \"" + config.issuer +
                                            "\""};
    }
    impl->endpoints = {str("authorization_endpoint"), str("token_endpoint"),
                       str("revocation_endpoint")};
    auto* iss = m.if_contains("authorization_response_iss_parameter_supported");
    impl->iss_required = iss && iss->is_bool() && iss->get_bool();
    if (impl->endpoints.token_endpoint.empty()) {
      return Error{ErrorKind::protocol, "metadata has no token_endpoint"};
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
  const bool safe_to_repeat = idempotent(method);
  bool refreshed_after_401 = false;
  int attempt = 0;
  auto backoff = [&] {
    // 200 ms, 400 ms, 800 ms ... with up to 50 % jitter so clients do not march in step.
    auto base = std::chrono::milliseconds(200) * (1 << std::min(attempt, 5));
    std::this_thread::sleep_for(base + std::chrono::milliseconds(randombytes_uniform(
                                           static_cast<uint32_t>(base.count() / 2 + 1))));
  };
  for (;;) {
    auto token = d.access_token();
    if (!token) return token.error();
    HttpRequest r{method, d.api_url(path), {}, json_body.value_or(""), d.cfg.request_timeout};
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
