#include "web/page_helpers.hpp"

#include <ctime>

#include "domain/scope.hpp"

namespace stagepass::web {

// "28 Nov 2026, 16:54 UTC" for people, and the ISO 8601 form for <time datetime>.
std::pair<std::string, std::string> format_time(int64_t t) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char human[40];
  char iso[32];
  std::strftime(human, sizeof human, "%d %b %Y, %H:%M UTC", &tm);
  std::strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return {human, iso};
}

// The grant's scopes in the consent page's words, in the consent page's order.
kainjow::mustache::list scope_list(const ScopeSet& scope) {
  kainjow::mustache::list out;
  for (const auto& info : known_scopes()) {
    if (!scope.contains(info.name)) continue;
    Data s;
    s.set("name", std::string(info.name));
    s.set("description", std::string(info.description));
    out.push_back(s);
  }
  return out;
}

Data user_nav(const User& u) {
  Data d;
  d.set("display_name", u.display_name);
  return d;
}

}  // namespace stagepass::web
