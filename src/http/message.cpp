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

namespace {
// RFC 9110 §5.6.2 tchar: "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" /
// "_" / "`" / "|" / "~" / DIGIT / ALPHA
constexpr bool is_tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 &&
          std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos);
}
}  // namespace

bool valid_header_name(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name)
    if (!is_tchar(c)) return false;
  return true;
}

bool valid_header_value(std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

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
