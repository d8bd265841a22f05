// Redirect URI rules: what may be registered, and when a requested URI matches.
//
//  - https with any host but "localhost"; http only for the loopback IP literals 127.0.0.1
//    and [::1] (RFC 8252 §7.3, §8.3); private-use schemes with a dot ("com.example.app:/cb",
//    RFC 8252 §7.1). No fragment (RFC 6749 §3.1.2). "localhost" is refused (Spotify, 2025).
//  - A host is ASCII letters, digits, dots and hyphens (an IDN in its xn-- form) or a
//    bracketed IPv6 address: no full-width, other Unicode or percent-encoded spelling, which
//    a browser may map to loopback ("１２７．０．０．１", "ｌｏｃａｌｈｏｓｔ").
//  - Matching is exact string comparison, except that the port of a loopback IP literal
//    may differ (RFC 8252 §7.3: native apps pick an ephemeral port at run time).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stagepass::oauth {

// nullopt when acceptable; otherwise why not.
std::optional<std::string> redirect_uri_problem(std::string_view uri);
bool redirect_uri_matches(const std::vector<std::string>& registered, std::string_view requested);
// True for an https URI whose host is a plain (see above) name or address other than loopback:
// one that only its owner can receive at (RFC 8252 §8.6: a loopback or private-use scheme redirect
// can be claimed by any app on the device, so it does not identify the client).
bool redirect_uri_identifies_client(std::string_view uri);

}  // namespace stagepass::oauth
