#include "client_impl.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <optional>

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

namespace {

// "scheme:" at the start: an absolute URL, not a path (RFC 3986 §3.1).
bool has_scheme(std::string_view s) {
  auto colon = s.find(':');
  if (colon == 0 || colon == std::string_view::npos ||
      !std::isalpha(static_cast<unsigned char>(s[0]))) {
    return false;
  }
  return std::all_of(s.begin(), s.begin() + colon, [](unsigned char c) {
    return std::isalnum(c) || c == '+' || c == '-' || c == '.';
  });
}

// Why a relative API path may not be appended to the base, or nullopt when it may.
std::optional<std::string> unsafe_path(std::string_view path) {
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7f) return "it contains a space or a control character";
    if (c == '\\') return "it contains a backslash";
  }
  if (path.starts_with("//")) return "it starts with //, which names another host";
  std::string_view segments = path.substr(0, path.find_first_of("?#"));
  if (segments.find('@') != std::string_view::npos) return "its path contains @ (write %40)";
  while (!segments.empty()) {
    auto slash = segments.find('/');
    std::string seg = detail::percent_decode(segments.substr(0, slash)).value_or("?");
    if (seg == "." || seg == "..") return "it contains a . or .. segment";
    segments = slash == std::string_view::npos ? "" : segments.substr(slash + 1);
  }
  return std::nullopt;
}

}  // namespace

// RFC 6750 §5.3: the token is sent only where it was meant to go — the API base's origin,
// nothing else (issue 13: "must not send the bearer token to a host other than the API
// base"). The issuer's origin is that origin only when api_base is left at its default
// ({issuer}/v1) or names the issuer's host. Absolute URLs (a `next` link in a paged answer)
// must be on it; relative paths must stay under the base, and the URL they make is checked
// again as libcurl reads it.
Result<std::string> Client::Impl::api_url(const std::string& path) const {
  auto refuse = [&](const std::string& why) {
    return Error{ErrorKind::usage, "will not send the access token to \"" +
                                       detail::printable_url(path, 200) + "\": " + why};
  };
  if (has_scheme(path)) {
    auto url = detail::parse_url(path, "the URL");
    if (!url) return refuse("it is not an http(s) URL");
    if (url->has_userinfo) return refuse("it carries a user name");
    if (!url->same_origin(api_base)) {
      return refuse("it is on another origin than the API (" + api_base.origin() + ")");
    }
    return std::move(url->href);
  }
  if (auto why = unsafe_path(path)) return refuse(*why);
  std::string full;
  if (path.starts_with("/v1/") || path == "/v1") {
    // "/v1/me" names the API's own path: under the issuer when the API is on the issuer's
    // origin (the default api_base), else under the API base with a final "/v1" removed.
    if (api_base.same_origin(issuer)) {
      full = cfg.issuer + path;
    } else {
      std::string_view root = cfg.api_base;
      if (root.ends_with("/v1")) root.remove_suffix(3);
      full = std::string(root) + path;
    }
  } else {
    full = cfg.api_base + (path.starts_with("/") ? path : "/" + path);
  }
  auto url = detail::parse_url(full, "the URL");
  // Defence in depth: what the checks above let through cannot change the authority of a
  // base that has none of userinfo, query or fragment, so this refuses nothing today.
  if (!url || url->has_userinfo || !url->same_origin(api_base)) {
    return refuse("it leaves the API base");
  }
  return std::move(url->href);
}

}  // namespace stagepass::sdk
