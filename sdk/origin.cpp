#include "origin.hpp"

#include <arpa/inet.h>
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

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

Result<Url> parse_url(std::string_view text, std::string_view what) {
  // (append, not "\"" + ...: g++ 12 warns wrongly about that with -Wrestrict)
  const std::string shown = std::string(1, '"').append(printable(text, 200)).append(1, '"');
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

bool is_loopback_host(std::string_view host) {
  if (host == "localhost") return true;
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
                 std::string(what) + " \"" + printable(text, 200) +
                     "\" must use https (plain http only to 127.0.0.1, [::1] or localhost)"};
  }
  return url;
}

std::string printable(std::string_view text, size_t max) {
  std::string out;
  out.reserve(std::min(text.size(), max));
  size_t i = 0;
  for (; i < text.size() && out.size() < max; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    if (c < 0x20 || c == 0x7f) {
      out += ' ';
    } else if (c == 0xc2 && next >= 0x80 && next <= 0x9f) {
      out += ' ';  // U+0080..U+009F, the C1 controls
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (i < text.size()) {
    // Cut back to a character boundary, then say that something was cut.
    while (!out.empty() && (static_cast<unsigned char>(out.back()) & 0xc0) == 0x80) out.pop_back();
    if (!out.empty() && static_cast<unsigned char>(out.back()) >= 0xc0) out.pop_back();
    out += "...";
  }
  return out;
}

}  // namespace stagepass::sdk::detail
