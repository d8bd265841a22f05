// Server-rendered pages: Mustache templates embedded at build time (src/web/templates/),
// HTML-escaped by default ({{name}}); only the layout's {{{content}}} is raw, and it holds
// an already-rendered template.
#pragma once

#include <kainjow/mustache.hpp>
#include <string>
#include <string_view>

namespace stagepass::web {

using Data = kainjow::mustache::data;

// The embedded file named `name` ("login.html"), empty when there is none.
std::string_view template_source(std::string_view name);
// Renders `page` with `data`, then wraps it in layout.html.
std::string render_page(std::string_view page, const std::string& title, Data data);

}  // namespace stagepass::web
