#include "http/router.hpp"

namespace stagepass::http {

void Router::add(std::string method, std::string path, Handler h) {
  routes_[std::move(path)][std::move(method)] = std::move(h);
}

void Router::add_prefix(std::string prefix, Handler h) {
  prefixes_.emplace_back(std::move(prefix), std::move(h));
}

void Router::add_error_page(std::string prefix, std::function<Response()> page) {
  error_pages_.emplace_back(std::move(prefix), std::move(page));
}

boost::asio::awaitable<Response> Router::route(Request& req) const {
  auto path = req.path();
  auto it = routes_.find(path);
  if (it != routes_.end()) {
    auto m = it->second.find(std::string(req.method()));
    if (m == it->second.end() && req.method() == "HEAD") m = it->second.find("GET");
    if (m != it->second.end()) co_return co_await m->second(req);
    std::string allow;
    for (const auto& [name, h] : it->second) allow += (allow.empty() ? "" : ", ") + name;
    co_return Response::text(405, "Method Not Allowed\n").header("Allow", allow);
  }
  for (const auto& [prefix, h] : prefixes_) {
    if (path.starts_with(prefix)) co_return co_await h(req);
  }
  co_return Response::text(404, "Not Found\n");
}

std::optional<Response> Router::server_error(const Request& req) const {
  for (const auto& [prefix, page] : error_pages_) {
    if (req.path().starts_with(prefix)) return page();
  }
  return std::nullopt;
}

}  // namespace stagepass::http
