#include "web/cookies.hpp"

namespace stagepass::web {

std::optional<std::string> read_cookie(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    size_t semi = header.find(';');
    std::string_view part = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view{} : header.substr(semi + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
  }
  return std::nullopt;
}

std::string set_cookie(std::string_view name, std::string_view value, long max_age, bool secure) {
  std::string c = std::string(name) + "=" + std::string(value) +
                  "; Path=/; Max-Age=" + std::to_string(max_age) + "; HttpOnly; SameSite=Lax";
  if (secure) c += "; Secure";
  return c;
}

std::string clear_cookie(std::string_view name, bool secure) {
  return set_cookie(name, "", 0, secure);
}

std::string_view session_cookie_name(bool secure) {
  return secure ? "__Host-sp_session" : "sp_session";
}

std::string_view csrf_cookie_name(bool secure) { return secure ? "__Host-sp_csrf" : "sp_csrf"; }

bool secure_cookies_for(std::string_view issuer) { return issuer.starts_with("https://"); }

}  // namespace stagepass::web
