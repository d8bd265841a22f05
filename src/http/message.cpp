#include "http/message.hpp"

namespace stagepass::http {

std::string_view Request::path() const {
  auto t = target();
  return t.substr(0, t.find('?'));
}

std::string_view Request::query() const {
  auto t = target();
  auto q = t.find('?');
  return q == std::string_view::npos ? std::string_view{} : t.substr(q + 1);
}

std::string_view Request::header(std::string_view name) const {
  auto it = msg.find(name);
  return it == msg.end() ? std::string_view{} : std::string_view(it->value());
}

size_t Request::header_count(std::string_view name) const { return msg.count(name); }

Response Response::json(int status, std::string body) {
  Response r{status, {{"Content-Type", "application/json"}}, std::move(body), {}};
  return r;
}

Response Response::text(int status, std::string body) {
  return {status, {{"Content-Type", "text/plain; charset=utf-8"}}, std::move(body), {}};
}

Response Response::html(int status, std::string body) {
  return {status, {{"Content-Type", "text/html; charset=utf-8"}}, std::move(body), {}};
}

Response Response::redirect(std::string location, int status) {
  return {status, {{"Location", std::move(location)}}, {}, {}};
}

}  // namespace stagepass::http
