// Cookie helpers (RFC 6265): reading one cookie from a Cookie header, and building
// Set-Cookie values with the attributes Stagepass always uses (HttpOnly, SameSite=Lax,
// Path=/, Secure when served over TLS), and the names of the site's two cookies.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stagepass::web {

std::optional<std::string> read_cookie(std::string_view cookie_header, std::string_view name);
std::string set_cookie(std::string_view name, std::string_view value, long max_age_seconds,
                       bool secure);
std::string clear_cookie(std::string_view name, bool secure);

// The session and CSRF cookie names. When the issuer is https (`secure`), the __Host- prefix
// (RFC 6265bis §4.1.3.2): the browser keeps such a cookie only if it is Secure, has Path=/
// and no Domain, so a sibling subdomain or a plain-http page cannot plant or overwrite it.
// On http (loopback development) the prefix is not allowed, and the plain names are used.
std::string_view session_cookie_name(bool secure);
std::string_view csrf_cookie_name(bool secure);

// Whether the site's cookies are Secure and __Host- prefixed (`secure` above): exactly when
// the issuer, the site's own origin, is https. A browser drops a Secure cookie set over plain
// http, so an http issuer (loopback development) gets the plain names and no Secure.
bool secure_cookies_for(std::string_view issuer);

}  // namespace stagepass::web
