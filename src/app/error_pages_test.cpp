// The 500 pages as the clients of each API parse them.
#include "app/error_pages.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace stagepass {
namespace {

std::optional<http::Response> page_for(std::string_view target) {
  http::Router router;
  add_error_pages(router);
  http::Request req;
  req.msg.target(target);
  return router.server_error(req);
}

std::string_view header(const http::Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

// RFC 6749 §5.2: the error response is JSON with "error" (here "server_error") and an
// optional "error_description"; §5.1: "Cache-Control" "no-store".
TEST(ErrorPages, ApiAnswersAnOAuthServerError) {
  auto r = page_for("/api/token?x=1");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(header(*r, "Content-Type"), "application/json");
  EXPECT_EQ(header(*r, "Cache-Control"), "no-store");
  auto body = boost::json::parse(r->body).as_object();
  EXPECT_EQ(body.at("error"), "server_error");
  EXPECT_TRUE(body.at("error_description").is_string());
}

TEST(ErrorPages, WebApiAnswersSpotifysErrorObject) {
  auto r = page_for("/v1/me");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(header(*r, "Content-Type"), "application/json");
  auto error = boost::json::parse(r->body).at("error").as_object();
  EXPECT_EQ(error.at("status"), 500);
  EXPECT_TRUE(error.at("message").is_string());
}

TEST(ErrorPages, PagesOutsideTheApisKeepTheServersText500) {
  for (auto target : {"/account", "/authorize", "/api", "/v1", "/apiary/x"}) {
    EXPECT_FALSE(page_for(target)) << target;
  }
}

}  // namespace
}  // namespace stagepass
