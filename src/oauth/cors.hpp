// CorsPolicy: which browser origins may call the form endpoints (/api/token, /api/revoke,
// /api/introspect): exactly the origins some app registered (--web-origin), so single-page apps
// can run PKCE in the browser, echoed back one at a time, never with credentials
// (docs/operations.md, "CORS"). The composition root feeds it the registered origins.
// Thread safety: set_origins() may run on any thread while the I/O threads read.
#pragma once

#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "http/message.hpp"

namespace stagepass::oauth {

class CorsPolicy {
 public:
  using Origins = std::set<std::string, std::less<>>;
  // Replaces the registered origins (serialized origins: "https://app.example").
  void set_origins(Origins origins);
  bool allows(std::string_view origin) const;

  // On every answer: Vary: Origin (the answer depends on it), and
  // Access-Control-Allow-Origin: <the request's Origin> only when that origin is registered.
  void add_headers(const http::Request& req, http::Response& r) const;
  // The answer to a preflight (OPTIONS): 204, the headers above, POST with Authorization and
  // Content-Type, cached for a day.
  http::Response preflight(const http::Request& req) const;

 private:
  mutable std::mutex mu_;
  Origins origins_;
};

}  // namespace stagepass::oauth
