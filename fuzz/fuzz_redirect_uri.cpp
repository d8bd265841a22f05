// Harness: redirect URI registration rules and matching (oauth/redirect_uri).
//
// Input: "<registered URI>\n<requested URI>" (without a newline the input is both).
// Invariants:
//  - an acceptable URI is at most 2000 bytes, has no fragment, no byte <= 0x20 and none of
//    "<>\ and is https with a host, http on a loopback IP literal, or a private-use scheme
//    with a dot; never a localhost name (RFC 8252 §7.1, §7.3, §8.3, RFC 6749 §3.1.2);
//  - every URI matches itself (RFC 6749 §3.1.2.3 simple string comparison);
//  - a requested URI that matches an acceptable registered one without being identical is
//    the same loopback http URI with another port (RFC 8252 §7.3), so it carries nothing
//    the registered one does not (no CR/LF into the Location header, no other host or path).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "oauth/redirect_uri.hpp"

using namespace stagepass;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The host of "//host[:port]/..." (IPv6 literals keep their brackets); empty without "//".
std::string_view host_of(std::string_view after_scheme) {
  if (!after_scheme.starts_with("//")) return {};
  std::string_view auth = after_scheme.substr(2, after_scheme.find_first_of("/?#", 2) - 2);
  if (auth.starts_with("[")) return auth.substr(0, auth.find(']') + 1);
  return auth.substr(0, auth.find(':'));
}

// "http://host:port/rest" -> "http://host/rest"; nullopt when `uri` is not http with a
// digits-only port (or none).
std::optional<std::string> without_port(std::string_view uri) {
  if (!uri.starts_with("http://")) return std::nullopt;
  std::string_view rest = uri.substr(7);
  size_t end = rest.find_first_of("/?#");
  std::string_view auth = rest.substr(0, end);
  std::string_view tail = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  size_t host_end = auth.starts_with("[") ? auth.find(']') : auth.find(':');
  if (auth.starts_with("[")) {
    if (host_end == std::string_view::npos) return std::nullopt;
    ++host_end;
  }
  std::string_view host = auth.substr(0, host_end);
  std::string_view port = host_end >= auth.size() ? std::string_view{} : auth.substr(host_end);
  if (!port.empty()) {
    if (port[0] != ':') return std::nullopt;
    for (char c : port.substr(1)) {
      if (c < '0' || c > '9') return std::nullopt;
    }
  }
  return "http://" + std::string(host) + std::string(tail);
}

void check_acceptable(std::string_view uri) {
  if (oauth::redirect_uri_problem(uri)) return;
  FUZZ_CHECK(uri.size() <= 2000, uri);
  for (unsigned char c : uri) {
    FUZZ_CHECK(c > 0x20 && c != '"' && c != '<' && c != '>' && c != '\\' && c != '#', uri);
  }
  size_t colon = uri.find(':');
  FUZZ_CHECK(colon != std::string_view::npos && colon > 0, uri);
  std::string scheme = lower(uri.substr(0, colon));
  std::string host = lower(host_of(uri.substr(colon + 1)));
  FUZZ_CHECK(host != "localhost" && !host.ends_with(".localhost"), uri);
  if (scheme == "https") {
    FUZZ_CHECK(uri.substr(colon).starts_with("://") && !host.empty(), uri);
  } else if (scheme == "http") {
    FUZZ_CHECK(host == "127.0.0.1" || host == "[::1]", uri);
  } else {
    FUZZ_CHECK(scheme.find('.') != std::string::npos, uri);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view registered = in.substr(0, nl);
  std::string_view requested = nl == std::string_view::npos ? in : in.substr(nl + 1);

  check_acceptable(registered);
  check_acceptable(requested);
  const std::vector<std::string> reg{std::string(registered)};
  FUZZ_CHECK(oauth::redirect_uri_matches(reg, registered), registered);

  bool matched = oauth::redirect_uri_matches(reg, requested);
  if (!matched || requested == registered || oauth::redirect_uri_problem(registered)) return 0;
  auto a = without_port(registered), b = without_port(requested);
  FUZZ_CHECK(a && b && *a == *b, in);
  FUZZ_CHECK(a->starts_with("http://127.0.0.1") || a->starts_with("http://[::1]"), in);
  for (unsigned char c : requested) FUZZ_CHECK(c > 0x20, in);
  return 0;
}
