// Small helpers shared by the signed-in account pages.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "domain/models.hpp"
#include "web/templates.hpp"

namespace stagepass::web {

// "28 Nov 2026, 16:54 UTC" for people, and the ISO 8601 form for <time datetime>.
std::pair<std::string, std::string> format_time(int64_t t);
// The scopes in the consent page's words, in the consent page's order.
kainjow::mustache::list scope_list(const ScopeSet& scope);
// The layout's "signed in as" block.
Data user_nav(const User& u);

}  // namespace stagepass::web
