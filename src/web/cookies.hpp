// Cookie helpers (RFC 6265): reading one cookie from a Cookie header, and building
// Set-Cookie values with the attributes Stagepass always uses (HttpOnly, SameSite=Lax,
// Path=/, Secure when served over TLS).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stagepass::web {

std::optional<std::string> read_cookie(std::string_view cookie_header, std::string_view name);
std::string set_cookie(std::string_view name, std::string_view value, long max_age_seconds,
                       bool secure);
std::string clear_cookie(std::string_view name, bool secure);

}  // namespace stagepass::web
