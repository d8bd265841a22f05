// Router: exact-path dispatch by method. Unknown paths get the fallback (404 by default);
// a known path with another method gets 405 with an Allow header; HEAD runs the GET handler
// (the server sends no body). A path prefix may have its own handler and its own 500 page,
// so an API answers in its own error format without the router knowing that format.
// Thread safety: routes are added before the server starts; route() is then read-only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "http/message.hpp"

namespace stagepass::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

class Router {
 public:
  void add(std::string method, std::string path, Handler h);
  // Handles every path under `prefix` (e.g. "/v1/") not matched exactly.
  void add_prefix(std::string prefix, Handler h);
  // The 500 a request under `prefix` (e.g. "/api/") gets when its handler fails; must not
  // throw. The first added prefix that matches wins.
  void add_error_page(std::string prefix, std::function<Response()> page);
  boost::asio::awaitable<Response> route(Request& req) const;
  // The 500 for `req` (a ServerErrorPage): its prefix's page; nullopt without one.
  std::optional<Response> server_error(const Request& req) const;

 private:
  std::map<std::string, std::map<std::string, Handler>, std::less<>> routes_;  // path->method
  std::vector<std::pair<std::string, Handler>> prefixes_;
  std::vector<std::pair<std::string, std::function<Response()>>> error_pages_;
};

}  // namespace stagepass::http
