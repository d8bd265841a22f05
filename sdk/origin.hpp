// Where the SDK agrees to send tokens and secrets. Internal.
//
// URLs are read by libcurl's own URL parser (curl_url), the same one that later sends the
// request, so what is checked here is what goes on the wire. An origin is scheme, host and
// port (RFC 6454 §4). The transport rule: https, or plain http only to this machine —
// 127.0.0.0/8, [::1] or `localhost`. libcurl 7.78 and later resolve exactly `localhost` to
// loopback themselves, never through DNS or /etc/hosts (checked at run time: with an older
// libcurl, `localhost` counts as any other name; `localhost.` always does). RFC 6750 §5.3:
// "Clients MUST always use TLS (https) or equivalent transport security when making
// requests with bearer tokens."
//
// Thread safety: free functions without shared state.
#pragma once

#include <string>
#include <string_view>

#include "stagepass/result.hpp"

namespace stagepass::sdk::detail {

struct Url {
  std::string href;    // the URL as libcurl will request it
  std::string scheme;  // "http" or "https"
  std::string host;    // lower case; an IPv6 literal keeps its brackets
  std::string port;    // the explicit port, else the scheme's default
  std::string path;    // "/" at least
  bool has_userinfo = false;
  bool has_query = false;
  bool has_fragment = false;

  std::string origin() const { return scheme + "://" + host + ":" + port; }
  bool same_origin(const Url& other) const { return origin() == other.origin(); }
};

// An absolute http or https URL, or an error of kind `usage` naming `what` ("the issuer").
Result<Url> parse_url(std::string_view text, std::string_view what);
// True for 127.0.0.0/8, ::1 and `localhost` when libcurl resolves it itself (see above).
bool is_loopback_host(std::string_view host);
// True when libcurl of this CURLVERSION_NOW version_num resolves `localhost` itself.
bool libcurl_resolves_localhost(unsigned version_num);
// parse_url, then the transport rule: https, or http to a loopback host.
Result<Url> parse_secure_url(std::string_view text, std::string_view what);

// `text` made safe to show on one terminal line: control characters (C0, DEL, the C1 range
// U+0080..U+009F, which includes CSI, and U+2028/U+2029) become spaces; bytes that are not
// well-formed UTF-8 (a raw 0x9B among them) and bidirectional controls (U+202A..U+202E,
// U+2066..U+2069, U+200E, U+200F, U+061C) become U+FFFD. At most `max` bytes are kept, cut
// at a character boundary, then "..." says that something was cut.
// For anything a server or a browser sent that ends up in an Error's message or on screen.
std::string printable(std::string_view text, size_t max = 300);
// printable() of a URL (or what was meant as one) with its user name and password, if any,
// replaced by "***": for messages that name a refused URL.
std::string printable_url(std::string_view url, size_t max = 300);

}  // namespace stagepass::sdk::detail
