#include "client_impl.hpp"

#include <sodium.h>

#include "token_response.hpp"

namespace stagepass::sdk {
using detail::FormFields;
using detail::HttpRequest;

std::string detail::base64(std::string_view bytes, int variant) {
  std::string out(sodium_base64_encoded_len(bytes.size(), variant), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                    bytes.size(), variant);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string detail::join(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

HttpRequest Client::Impl::token_post(FormFields fields, const std::string& url) const {
  HttpRequest r{"POST", url, {}, {}, cfg.request_timeout};
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  r.headers.emplace_back("Accept", "application/json");
  if (cfg.client_secret.empty()) {
    fields.emplace_back("client_id", cfg.client_id);  // RFC 6749 §2.3: public client
  } else {
    // RFC 6749 §2.3.1: form-encode id and secret, then Basic.
    std::string creds =
        detail::percent_encode(cfg.client_id) + ":" + detail::percent_encode(cfg.client_secret);
    r.headers.emplace_back("Authorization",
                           "Basic " + detail::base64(creds, sodium_base64_VARIANT_ORIGINAL));
    sodium_memzero(creds.data(), creds.size());
  }
  r.body = detail::form_encode(fields);
  return r;
}

Result<TokenSet> Client::Impl::token_request(FormFields fields) {
  auto response = detail::send(token_post(std::move(fields), endpoints.token_endpoint));
  if (!response) return response.error();
  return detail::parse_token_response(*response, now());
}

Result<TokenSet> Client::Impl::store_tokens(const TokenSet& t) {
  if (auto r = store->save(cfg.cache_key, t); !r) return r.error();
  return t;
}

Result<TokenSet> Client::Impl::current() {
  auto t = store->load(cfg.cache_key);
  if (!t) return t.error();
  if (!*t) return detail::login_required("not logged in");
  return std::move(**t);
}

Result<TokenSet> Client::Impl::refresh(const std::string& stale, bool force) {
  std::lock_guard lk(refresh_mu);
  auto guard = store->exclusive();
  if (!guard) return guard.error();
  auto latest = current();
  if (!latest) return latest.error();
  if (latest->access_token != stale && (force || !latest->needs_refresh(now(), cfg.refresh_skew))) {
    return latest;  // someone else refreshed while we waited
  }
  if (!latest->refresh_token.empty()) {
    auto fresh =
        token_request({{"grant_type", "refresh_token"}, {"refresh_token", latest->refresh_token}});
    if (!fresh) {
      // RFC 6749 §5.2: the refresh token is invalid, expired or revoked: start over.
      if (fresh.error().code == "invalid_grant") {
        (void)store->erase(cfg.cache_key);
        return detail::login_required("the session ended (" + fresh.error().message +
                                      "); log in again");
      }
      return fresh.error();
    }
    return store_tokens(detail::merge_refreshed(*latest, std::move(*fresh)));
  }
  if (!cfg.client_secret.empty()) {  // an app token: ask for another one
    FormFields fields{{"grant_type", "client_credentials"}};
    if (!latest->scope.empty()) fields.emplace_back("scope", latest->scope);
    auto fresh = token_request(std::move(fields));
    if (!fresh) return fresh.error();
    return store_tokens(*fresh);
  }
  return detail::login_required("the access token expired and there is no refresh token");
}

Result<std::string> Client::Impl::access_token() {
  auto t = current();
  if (!t) return t.error();
  if (!t->needs_refresh(now(), cfg.refresh_skew)) return t->access_token;
  auto fresh = refresh(t->access_token, false);
  if (!fresh) return fresh.error();
  return fresh->access_token;
}

std::string Client::Impl::api_url(const std::string& path) const {
  if (path.starts_with("https://") || path.starts_with("http://")) return path;
  if (path.starts_with("/v1/") || path == "/v1") return cfg.issuer + path;
  return cfg.api_base + (path.starts_with("/") ? path : "/" + path);
}

}  // namespace stagepass::sdk
