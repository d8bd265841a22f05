// Router: exact-path dispatch by method. Unknown paths get the fallback (404 by default);
// a known path with another method gets 405 with an Allow header; HEAD runs the GET handler
// (the server sends no body).
// Thread safety: routes are added before the server starts; route() is then read-only.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <functional>
#include <map>
#include <string>

#include "http/message.hpp"

namespace stagepass::http {

using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

class Router {
 public:
  void add(std::string method, std::string path, Handler h);
  // Handles every path under `prefix` (e.g. "/v1/") not matched exactly.
  void add_prefix(std::string prefix, Handler h);
  boost::asio::awaitable<Response> route(Request& req) const;

 private:
  std::map<std::string, std::map<std::string, Handler>, std::less<>> routes_;  // path->method
  std::vector<std::pair<std::string, Handler>> prefixes_;
};

}  // namespace stagepass::http
