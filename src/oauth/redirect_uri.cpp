#include "oauth/redirect_uri.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

namespace stagepass::oauth {
namespace {

struct Parts {
  std::string scheme;
  std::string host;  // IPv6 literals keep their brackets
  std::string port;
  std::string rest;  // path, query
  bool has_authority = false;
  bool has_port = false;  // the authority names a port (":" after the host, even if empty)
};

std::optional<Parts> split(std::string_view uri) {
  Parts p;
  size_t colon = uri.find(':');
  if (colon == 0 || colon == std::string_view::npos) return std::nullopt;
  p.scheme = std::string(uri.substr(0, colon));
  for (char c : p.scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return std::nullopt;
    }
  }
  std::string_view after = uri.substr(colon + 1);
  if (after.starts_with("//")) {
    p.has_authority = true;
    after.remove_prefix(2);
    size_t end = after.find_first_of("/?#");
    std::string_view auth = after.substr(0, end);
    after = end == std::string_view::npos ? std::string_view{} : after.substr(end);
    if (auth.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
    if (auth.starts_with("[")) {
      size_t close = auth.find(']');
      if (close == std::string_view::npos) return std::nullopt;
      p.host = std::string(auth.substr(0, close + 1));
      auth.remove_prefix(close + 1);
      if (!auth.empty() && auth[0] != ':') return std::nullopt;
      p.has_port = !auth.empty();
      if (p.has_port) p.port = std::string(auth.substr(1));
    } else {
      size_t pc = auth.find(':');
      p.host = std::string(auth.substr(0, pc));
      p.has_port = pc != std::string_view::npos;
      if (p.has_port) p.port = std::string(auth.substr(pc + 1));
    }
    if (!std::all_of(p.port.begin(), p.port.end(), [](char c) { return std::isdigit(c); })) {
      return std::nullopt;
    }
  }
  p.rest = std::string(after);
  return p;
}

bool is_loopback_literal(const std::string& host) { return host == "127.0.0.1" || host == "[::1]"; }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// True when `host` is spelled the one way every parser reads alike: ASCII letters, digits, dots
// and hyphens (an internationalized name in its xn-- form), or a bracketed IPv6 address. A
// browser maps other spellings before it resolves them (UTS #46 folds "１２７．０．０．１" to
// 127.0.0.1 and "ｌｏｃａｌｈｏｓｔ" to localhost; WHATWG URL percent-decodes hosts), so such a
// host may be this device in disguise: it is refused at registration and never identifies a
// client.
bool is_plain_host(const std::string& host) {
  if (host.starts_with("[")) {
    if (!host.ends_with("]")) return false;
    in6_addr v6{};  // no zone id: a browser refuses one, and "%25" would need decoding
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1;
  }
  // Explicit ranges: std::isalnum follows the locale, and a byte >= 0x80 must never pass.
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-';
  });
}

// True when `host` (a plain host, lower case) reaches this device whatever its spelling: a
// localhost name (with or without the root's trailing dot), any address of 127.0.0.0/8 or
// 0.0.0.0/8 in a form the system resolver (inet_aton: 2130706433, 0x7f000001, 0177.0.0.1,
// 127.1) or a browser's URL parser (trailing dot) accepts, ::1, ::, and IPv4-mapped or
// -compatible forms of those.
bool is_loopback_host(std::string host) {
  if (host.starts_with("[") && host.ends_with("]")) {
    std::string literal = host.substr(1, host.size() - 2);
    in6_addr v6{};
    if (inet_pton(AF_INET6, literal.c_str(), &v6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6) || IN6_IS_ADDR_UNSPECIFIED(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6) || IN6_IS_ADDR_V4COMPAT(&v6)) {
      return v6.s6_addr[12] == 127 || v6.s6_addr[12] == 0;
    }
    return false;
  }
  while (host.ends_with(".")) host.pop_back();  // "localhost." is the same name, rooted
  if (host == "localhost" || host.ends_with(".localhost")) return true;  // RFC 6761 §6.3
  in_addr v4{};
  if (host.empty() || inet_aton(host.c_str(), &v4) == 0) return false;
  const uint32_t first_octet = ntohl(v4.s_addr) >> 24;
  return first_octet == 127 || first_octet == 0;
}

}  // namespace

std::optional<std::string> redirect_uri_problem(std::string_view uri) {
  if (uri.size() > 2000) return "redirect URI is too long";
  auto p = split(uri);
  if (!p) return "redirect URI is not an absolute URI";
  if (uri.find('#') != std::string_view::npos) return "redirect URI must not have a fragment";
  for (char c : uri) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == '"' || c == '<' || c == '>' || c == '\\') {
      return "redirect URI has characters that must be percent-encoded";
    }
  }
  std::string scheme = lower(p->scheme), host = lower(p->host);
  if (p->has_authority && !host.empty() && !is_plain_host(host)) {
    return "redirect URI host must be ASCII letters, digits, dots and hyphens (an "
           "internationalized name in its xn-- form) or a bracketed IPv6 address";
  }
  if (host == "localhost" || host.ends_with(".localhost")) {
    return "localhost is not allowed; use the loopback literal 127.0.0.1 or [::1]";
  }
  if (scheme == "https") {
    if (!p->has_authority || host.empty()) return "https redirect URI needs a host";
    return std::nullopt;
  }
  if (scheme == "http") {
    if (!is_loopback_literal(host)) return "http is allowed only for 127.0.0.1 and [::1]";
    return std::nullopt;
  }
  if (scheme.find('.') != std::string::npos) return std::nullopt;  // private-use scheme
  return "redirect URI scheme must be https, loopback http, or a reverse-domain private scheme";
}

bool redirect_uri_matches(const std::vector<std::string>& registered, std::string_view requested) {
  for (const auto& r : registered) {
    if (r == requested) return true;  // RFC 6749 §3.1.2.3: simple string comparison
  }
  auto req = split(requested);
  if (!req || req->scheme != "http" || !is_loopback_literal(req->host)) return false;
  for (const auto& r : registered) {
    auto reg = split(r);
    // RFC 8252 §7.3: "The authorization server MUST allow any port to be specified at the time
    // of the request for loopback IP redirect URIs". Spotify's rule (2025), which the issue
    // adopts: only a loopback URI registered WITHOUT a port matches any port; one registered
    // with a port was matched exactly above (http://127.0.0.1:8080/cb never matches :9999).
    if (reg && !reg->has_port && reg->scheme == "http" && reg->host == req->host &&
        reg->rest == req->rest) {
      return true;
    }
  }
  return false;
}

bool redirect_uri_identifies_client(std::string_view uri) {
  auto p = split(uri);
  if (!p || lower(p->scheme) != "https" || !p->has_authority) return false;
  // Fail closed: a host in any other spelling may be loopback once a browser maps it.
  const std::string host = lower(p->host);
  return is_plain_host(host) && !is_loopback_host(host);
}

}  // namespace stagepass::oauth
