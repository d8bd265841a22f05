#include "app/error_pages.hpp"

#include "api/api.hpp"
#include "oauth/error.hpp"

namespace stagepass {

void add_error_pages(http::Router& router) {
  router.add_error_page("/api/", [] {
    return oauth::OAuthError::server_error("The server could not answer this request")
        .to_response();
  });
  router.add_error_page("/v1/", [] { return api::error(500, "Server error"); });
}

}  // namespace stagepass
