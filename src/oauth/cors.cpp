#include "oauth/cors.hpp"

namespace stagepass::oauth {

void CorsPolicy::set_origins(Origins origins) {
  std::lock_guard lk(mu_);
  origins_ = std::move(origins);
}

bool CorsPolicy::allows(std::string_view origin) const {
  std::lock_guard lk(mu_);
  return origins_.find(origin) != origins_.end();
}

void CorsPolicy::add_headers(const http::Request& req, http::Response& r) const {
  auto origin = req.header("Origin");
  r.header("Vary", "Origin");
  if (!origin.empty() && allows(origin)) {
    r.header("Access-Control-Allow-Origin", std::string(origin));
  }
}

http::Response CorsPolicy::preflight(const http::Request& req) const {
  http::Response r{204, {}, {}, {}};
  add_headers(req, r);
  r.header("Access-Control-Allow-Methods", "POST");
  r.header("Access-Control-Allow-Headers", "Authorization, Content-Type");
  r.header("Access-Control-Max-Age", "86400");
  return r;
}

}  // namespace stagepass::oauth
