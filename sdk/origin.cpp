#include "origin.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <utility>

namespace stagepass::sdk::detail {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// One part of a parsed URL, or nullopt when it is absent.
std::optional<std::string> part(CURLU* u, CURLUPart which, unsigned flags = 0) {
  char* raw = nullptr;
  if (curl_url_get(u, which, &raw, flags) != CURLUE_OK || raw == nullptr) return std::nullopt;
  std::string out(raw);
  curl_free(raw);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

std::string printable_url(std::string_view url, size_t max) {
  // The authority as libcurl reads it ends at the first '/', '?' or '#'; everything before
  // its last '@' is a user name or password under any reading (a browser's included).
  const size_t scheme_end = url.find("://");
  const size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  const size_t end = std::min(url.find_first_of("/?#", start), url.size());
  const size_t at = url.substr(start, end - start).rfind('@');
  if (at == std::string_view::npos) return printable(url, max);
  std::string redacted(url.substr(0, start));
  redacted.append("***").append(url.substr(start + at));
  return printable(redacted, max);
}

Result<Url> parse_url(std::string_view text, std::string_view what) {
  // (append, not "\"" + ...: g++ 12 warns wrongly about that with -Wrestrict)
  const std::string shown = std::string(1, '"').append(printable_url(text, 200)).append(1, '"');
  auto invalid = [&](std::string_view why) {
    return Error{ErrorKind::usage, std::string(what) + " " + shown + " " + std::string(why)};
  };
  // libcurl would stop at a NUL byte and check only what comes before it.
  if (text.find('\0') != std::string_view::npos) return invalid("contains a NUL byte");
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u) return Error{ErrorKind::usage, "could not parse a URL (libcurl)"};
  const std::string copy(text);
  // No scheme guessing: "evil.example/x" is not a URL here.
  if (curl_url_set(u.get(), CURLUPART_URL, copy.c_str(), 0) != CURLUE_OK) {
    return invalid("is not an absolute URL");
  }
  Url url;
  url.scheme = lower(part(u.get(), CURLUPART_SCHEME).value_or(""));
  if (url.scheme != "https" && url.scheme != "http") return invalid("is not an http(s) URL");
  url.host = lower(part(u.get(), CURLUPART_HOST).value_or(""));
  if (url.host.empty()) return invalid("has no host");
  url.port = part(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT).value_or("");
  url.path = part(u.get(), CURLUPART_PATH).value_or("/");
  url.has_userinfo =
      part(u.get(), CURLUPART_USER).has_value() || part(u.get(), CURLUPART_PASSWORD).has_value();
  url.has_query = part(u.get(), CURLUPART_QUERY).has_value();
  url.has_fragment = part(u.get(), CURLUPART_FRAGMENT).has_value();
  auto href = part(u.get(), CURLUPART_URL);
  if (!href) return invalid("cannot be read back (libcurl)");
  url.href = std::move(*href);
  return url;
}

bool libcurl_resolves_localhost(unsigned version_num) {
  // curl 7.78.0 (curl PR #7039): "localhost" gives 127.0.0.1 and ::1 without any resolver.
  return version_num >= 0x074e00;
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") {
    static const bool fixed =
        libcurl_resolves_localhost(curl_version_info(CURLVERSION_NOW)->version_num);
    return fixed;
  }
  std::string literal(host);
  if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
    in6_addr v6{};
    return inet_pton(AF_INET6, literal.substr(1, literal.size() - 2).c_str(), &v6) == 1 &&
           IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4{};
  return inet_pton(AF_INET, literal.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

Result<Url> parse_secure_url(std::string_view text, std::string_view what) {
  auto url = parse_url(text, what);
  if (!url) return url.error();
  if (url->scheme == "http" && !is_loopback_host(url->host)) {
    return Error{ErrorKind::usage,
                 std::string(what) + " \"" + printable_url(text, 200) +
                     "\" must use https (plain http only to 127.0.0.1, [::1] or localhost" +
                     (url->host == "localhost" ? ", which this libcurl resolves through DNS" : "") +
                     ")"};
  }
  return url;
}

namespace {

// The code point of the well-formed UTF-8 sequence at the start of `s` (RFC 3629 §4: no
// overlong forms, no surrogates, nothing above U+10FFFF) and its length, or length 0.
std::pair<char32_t, size_t> decode_utf8(std::string_view s) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  size_t len;
  char32_t cp;
  unsigned char lo = 0x80, hi = 0xbf;  // the allowed range of the second byte
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, cp = b0 & 0x1f;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, cp = b0 & 0x0f;
    if (b0 == 0xe0) lo = 0xa0;
    if (b0 == 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, cp = b0 & 0x07;
    if (b0 == 0xf0) lo = 0x90;
    if (b0 == 0xf4) hi = 0x8f;
  } else {
    // A continuation byte (0x80..0xBF: a raw C1 control among them), 0xC0, 0xC1 or 0xF5..
    return {0, 0};
  }
  if (s.size() < len || byte(1) < lo || byte(1) > hi) return {0, 0};
  for (size_t i = 1; i < len; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return {0, 0};
    cp = (cp << 6) | (byte(i) & 0x3f);
  }
  return {cp, len};
}

// Characters that reorder what follows on the line (Unicode bidi embeddings, overrides and
// isolates, and the implicit marks): a terminal would show the text in another order.
bool is_bidi_control(char32_t c) {
  return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) || c == 0x200e ||
         c == 0x200f || c == 0x061c;
}

}  // namespace

std::string printable(std::string_view text, size_t max) {
  static constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(std::min(text.size(), max));
  size_t i = 0;
  while (i < text.size()) {
    auto [cp, len] = decode_utf8(text.substr(i));
    std::string_view piece;
    if (len == 0) {
      piece = kReplacement;  // not UTF-8: one byte becomes U+FFFD
      len = 1;
    } else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029) {
      piece = " ";  // C0, DEL, C1 (CSI among them), line and paragraph separators
    } else if (is_bidi_control(cp)) {
      piece = kReplacement;
    } else {
      piece = text.substr(i, len);
    }
    if (out.size() + piece.size() > max) break;
    out += piece;
    i += len;
  }
  if (i < text.size()) out += "...";
  return out;
}

}  // namespace stagepass::sdk::detail
