#include "web/templates.hpp"

#include <stdexcept>

namespace stagepass::web {

std::string render_page(std::string_view page, const std::string& title, Data data) {
  kainjow::mustache::mustache body{std::string(template_source(page))};
  kainjow::mustache::mustache layout{std::string(template_source("layout.html"))};
  if (!body.is_valid() || !layout.is_valid()) {
    throw std::logic_error("invalid template " + std::string(page) + ": " + body.error_message());
  }
  data.set("title", title);
  std::string content = body.render(data);
  data.set("content", content);
  return layout.render(data);
}

}  // namespace stagepass::web
