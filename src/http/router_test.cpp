// The router: exact routes by method, prefixes, 404, 405 with Allow, HEAD, 500 pages.
#include "http/router.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

namespace stagepass::http {
namespace {

namespace asio = boost::asio;

// Answers with the handler's name, so a test sees which one ran.
Handler named(std::string name) {
  return [name](Request&) -> asio::awaitable<Response> { co_return Response::text(200, name); };
}

Response route(const Router& router, std::string_view method, std::string_view target) {
  Request req;
  req.msg.method_string(method);
  req.msg.target(target);
  asio::io_context ioc;
  auto answer = asio::co_spawn(ioc, router.route(req), asio::use_future);
  ioc.run();
  return answer.get();
}

std::string_view header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return {};
}

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add("GET", "/a", named("get a"));
    router_.add("POST", "/a", named("post a"));
    router_.add("POST", "/form", named("post form"));
    router_.add_prefix("/v1/", named("v1"));
    router_.add_prefix("/v1/me/", named("never: /v1/ came first"));
    router_.add("GET", "/v1/exact", named("exact v1"));
  }
  Router router_;
};

TEST_F(RouterTest, ExactRoutesByMethodIgnoringTheQuery) {
  EXPECT_EQ(route(router_, "GET", "/a").body, "get a");
  EXPECT_EQ(route(router_, "POST", "/a?x=1").body, "post a");
  EXPECT_EQ(route(router_, "GET", "/a?").body, "get a");
}

TEST_F(RouterTest, AnotherMethodOnAKnownPathIs405WithAllow) {
  auto r = route(router_, "DELETE", "/a");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, POST");
  auto form = route(router_, "GET", "/form");
  EXPECT_EQ(form.status, 405);
  EXPECT_EQ(header(form, "Allow"), "POST");
}

TEST_F(RouterTest, HeadRunsTheGetHandlerAndOnlyThat) {
  EXPECT_EQ(route(router_, "HEAD", "/a").body, "get a");
  EXPECT_EQ(route(router_, "HEAD", "/form").status, 405) << "no GET to stand in for";
}

TEST_F(RouterTest, PrefixesTakeWhatNoExactRouteMatchesInTheOrderAdded) {
  EXPECT_EQ(route(router_, "GET", "/v1/exact").body, "exact v1");
  EXPECT_EQ(route(router_, "DELETE", "/v1/exact").status, 405) << "an exact path stays exact";
  EXPECT_EQ(route(router_, "GET", "/v1/me/player?x=1").body, "v1");
  EXPECT_EQ(route(router_, "PUT", "/v1/anything").body, "v1");
}

TEST_F(RouterTest, UnknownPathsAre404) {
  for (auto target : {"/", "/b", "/a/", "/v1", "/A", "/form/x"}) {
    auto r = route(router_, "GET", target);
    EXPECT_EQ(r.status, 404) << target;
    EXPECT_EQ(r.body, "Not Found\n") << target;
  }
}

TEST(RouterErrorPages, TheFirstPageWhosePrefixMatchesTheRequestsPath) {
  Router router;
  router.add_error_page("/api/", [] { return Response::json(500, "api"); });
  router.add_error_page("/", [] { return Response::json(500, "any"); });
  router.add_error_page("/api/token", [] { return Response::json(500, "never"); });
  Request req;
  auto page = [&](std::string_view target) {
    req.msg.target(target);
    auto r = router.server_error(req);
    return r ? r->body : "none";
  };
  EXPECT_EQ(page("/api/token?x=/"), "api");
  EXPECT_EQ(page("/account"), "any");
  EXPECT_EQ(page("*"), "none");
  EXPECT_FALSE(Router().server_error(req)) << "no page: the server's own 500";
}

}  // namespace
}  // namespace stagepass::http
