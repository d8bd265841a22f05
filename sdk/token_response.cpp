#include "token_response.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cmath>

#include "origin.hpp"

namespace stagepass::sdk::detail {
namespace json = boost::json;
namespace {

std::string string_field(const json::object& o, std::string_view name) {
  auto* v = o.if_contains(name);
  return v && v->is_string() ? std::string(v->get_string()) : std::string{};
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::optional<json::object> parse_object(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

}  // namespace

Result<TokenSet> parse_token_response(const HttpResponse& response, SystemTime now) {
  auto body = parse_object(response.body);
  if (response.status != 200) {
    // What the server says ends up in a message a terminal shows: one printable line.
    std::string code = body ? printable(string_field(*body, "error"), 100) : "";
    if (code.empty()) {
      return Error{ErrorKind::protocol,
                   "token endpoint answered HTTP " + std::to_string(response.status) +
                       " without an OAuth error",
                   response.status};
    }
    std::string description = printable(string_field(*body, "error_description"));
    return Error{ErrorKind::oauth, description.empty() ? code : code + ": " + description,
                 response.status, code};
  }
  if (!body) return Error{ErrorKind::protocol, "token endpoint answered 200 without JSON", 200};
  TokenSet t;
  t.access_token = string_field(*body, "access_token");
  t.refresh_token = string_field(*body, "refresh_token");
  t.scope = string_field(*body, "scope");
  t.token_type = string_field(*body, "token_type");
  if (t.access_token.empty()) {
    return Error{ErrorKind::protocol, "token response has no access_token", 200};
  }
  // RFC 6749 §7.1: a client must not use a token type it does not understand.
  if (!iequals(t.token_type, "bearer")) {
    return Error{ErrorKind::protocol,
                 "token type \"" + printable(t.token_type, 50) + "\" is not Bearer", 200};
  }
  t.token_type = "Bearer";
  // RFC 6749 §5.1: expires_in, "the lifetime in seconds of the access token". Clamped to
  // [0, kMaxTokenLifetime] before anything converts it, so that no value a server sends
  // (1e10, 1e300, 2^64-1) overflows the expiry into the past or casts out of range.
  constexpr int64_t kMax = kMaxTokenLifetime.count();
  int64_t expires_in = 3600;
  if (auto* e = body->if_contains("expires_in")) {
    if (e->is_int64()) {
      expires_in = std::clamp<int64_t>(e->get_int64(), 0, kMax);
    } else if (e->is_uint64()) {
      expires_in = static_cast<int64_t>(std::min<uint64_t>(e->get_uint64(), kMax));
    } else if (e->is_double() && std::isfinite(e->get_double())) {
      expires_in = static_cast<int64_t>(std::clamp(e->get_double(), 0.0, double{kMax}));
    } else {
      return Error{ErrorKind::protocol, "expires_in is not a number", 200};
    }
  }
  t.issued_at = now;
  t.expires_at = now + std::chrono::seconds(expires_in);
  return t;
}

TokenSet merge_refreshed(const TokenSet& previous, TokenSet fresh) {
  if (fresh.refresh_token.empty()) fresh.refresh_token = previous.refresh_token;
  // RFC 6749 §5.1: scope is OPTIONAL if identical to the scope requested.
  if (fresh.scope.empty()) fresh.scope = previous.scope;
  return fresh;
}

Error api_error(const HttpResponse& response) {
  Error e{ErrorKind::api, "", response.status};
  std::string message;
  if (auto body = parse_object(response.body)) {
    if (auto* err = body->if_contains("error")) {
      if (err->is_object()) {
        message = string_field(err->get_object(), "message");  // Spotify's error object
        // Its machine-readable reason, when there is one (RATE_LIMITED, QUOTA_EXCEEDED, ...).
        e.code = string_field(err->get_object(), "reason");
      } else if (err->is_string()) {
        e.code = std::string(err->get_string());  // an OAuth-shaped error
        message = string_field(*body, "error_description");
        if (message.empty()) message = e.code;
      }
    }
  }
  if (message.empty()) {
    // RFC 6750 §3: the reason may be only in WWW-Authenticate.
    std::string challenge = response.header("www-authenticate");
    auto at = challenge.find("error_description=\"");
    if (at != std::string::npos) {
      at += 19;
      message = challenge.substr(at, challenge.find('"', at) - at);
    }
  }
  if (response.status == 401 && e.code.empty()) {
    std::string challenge = response.header("www-authenticate");
    if (challenge.find("invalid_token") != std::string::npos) e.code = "invalid_token";
  }
  // What the server says ends up in a message a terminal shows: one printable line.
  message = printable(message);
  e.code = printable(e.code, 100);
  e.message = "HTTP " + std::to_string(response.status) + (message.empty() ? "" : ": " + message);
  return e;
}

}  // namespace stagepass::sdk::detail
