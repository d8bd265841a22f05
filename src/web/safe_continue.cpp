#include "web/safe_continue.hpp"

#include <string_view>

namespace stagepass::web {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// RFC 3986 §3.3-3.5: pchar / "/" / "?" / "#", with pct-encoded checked by the caller.
bool is_path_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~!$&'()*+,;=:@/?#").find(c) != std::string_view::npos;
}

bool is_safe_path(std::string_view p) {
  if (p.empty() || p.size() > kMaxContinueLength || p[0] != '/') return false;
  // "//evil" and "/\evil" are network-path references to another host in browsers.
  if (p.size() > 1 && (p[1] == '/' || p[1] == '\\')) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '%') {
      if (i + 2 >= p.size() || !is_hex(p[i + 1]) || !is_hex(p[i + 2])) return false;
      i += 2;
    } else if (!is_path_char(p[i])) {
      return false;  // CR, LF, TAB, NUL, space, '\', '"', '<', DEL, bytes >= 0x80, ...
    }
  }
  return true;
}

}  // namespace

std::string safe_continue(const std::optional<std::string>& target) {
  if (!target || !is_safe_path(*target)) return "/";
  return *target;
}

}  // namespace stagepass::web
