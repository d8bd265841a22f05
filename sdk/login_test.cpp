// Client::login through the real loopback listener (RFC 8252 §7.3), with a real token
// endpoint on loopback and the browser played over HTTP. A request that is not the answer to
// this sign-in — another state, another Host (DNS rebinding), another path — is answered
// with a harmless page and the listener keeps waiting for the real one.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "stagepass/client.hpp"
#include "test_http_server.hpp"

namespace stagepass::sdk {
namespace {

using testing::TestHttpServer;
using namespace std::chrono_literals;

// The token endpoint: records the codes it is asked to exchange.
struct AuthServer {
  TestHttpServer http{[](const TestHttpServer::Request& r) {
    if (!r.target.starts_with("/token")) return TestHttpServer::Response{404, "{}"};
    return TestHttpServer::Response{
        200, R"({"access_token":"at","token_type":"Bearer","expires_in":60,"scope":"a"})"};
  }};

  // The `code` of every authorization_code request the token endpoint received.
  std::vector<std::string> codes() const {
    std::vector<std::string> out;
    for (const auto& r : http.requests()) {
      auto at = r.body.find("code=");
      if (r.target != "/token" || at == std::string::npos) continue;
      out.push_back(r.body.substr(at + 5, r.body.find('&', at) - at - 5));
    }
    return out;
  }
};

std::string query_param(const std::string& url, const std::string& name) {
  auto at = url.find("&" + name + "=");
  if (at == std::string::npos) at = url.find("?" + name + "=");
  if (at == std::string::npos) return {};
  at += name.size() + 2;
  auto value = url.substr(at, url.find('&', at) - at);
  return detail::percent_decode(value).value_or("");
}

// What the browser got back from the app's loopback redirect.
struct Visit {
  int status = 0;
  std::string body;
};

Visit visit(const std::string& url, std::vector<std::pair<std::string, std::string>> headers = {}) {
  detail::HttpRequest r{"GET", url, std::move(headers), {}, 3000ms};
  auto response = detail::send(r);
  if (!response) return {0, response.error().describe()};
  return {response->status, response->body};
}

// Logs in; `browse(authorization_url, redirect_uri)` plays the browser on another thread.
Result<TokenSet> login_with(AuthServer& as,
                            std::function<void(const std::string&, const std::string&)> browse,
                            std::chrono::seconds timeout = 10s) {
  ClientConfig cfg;
  cfg.issuer = as.http.url();
  cfg.client_id = "app";
  cfg.endpoints = Endpoints{as.http.url() + "/authorize", as.http.url() + "/token", ""};
  auto client = Client::create(cfg, std::make_shared<MemoryTokenStore>());
  if (!client) return client.error();
  std::string redirect_uri;
  std::thread browser;
  LoginOptions options;
  options.timeout = timeout;
  options.on_listening = [&](const std::string& uri) { redirect_uri = uri; };
  options.open_url = [&](const std::string& url) {
    browser = std::thread([&, url] { browse(url, redirect_uri); });
  };
  auto result = (*client)->login(options);
  if (browser.joinable()) browser.join();
  return result;
}

TEST(Login, AWrongStateIsAnsweredHarmlesslyAndTheRightAnswerStillSignsIn) {
  AuthServer as;
  Visit forged, forged_error, genuine;
  auto tokens = login_with(as, [&](const std::string& url, const std::string& redirect) {
    forged = visit(redirect + "?code=injected&state=not-the-state");
    forged_error = visit(redirect + "?error=access_denied&state=");
    genuine = visit(redirect + "?code=good&state=" + query_param(url, "state"));
  });
  ASSERT_TRUE(tokens.ok()) << tokens.error().describe();
  EXPECT_EQ(forged.status, 400) << forged.body;
  EXPECT_EQ(forged_error.status, 400) << forged_error.body;
  EXPECT_EQ(genuine.status, 200) << genuine.body;
  EXPECT_NE(genuine.body.find("Signed in"), std::string::npos);
  EXPECT_EQ(as.codes(), std::vector<std::string>{"good"});
}

TEST(Login, AnotherHostHeaderCannotInjectACode) {
  // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 reaches the
  // listener with `Host: evil.example:PORT`. Even knowing the state, it must not end the login.
  AuthServer as;
  Visit rebound, no_port, genuine;
  auto tokens = login_with(as, [&](const std::string& url, const std::string& redirect) {
    const std::string state = query_param(url, "state");
    const std::string authority = redirect.substr(7, redirect.find('/', 7) - 7);  // after http://
    const std::string port = authority.substr(authority.find(':') + 1);
    rebound = visit(redirect + "?code=injected&state=" + state, {{"Host", "evil.example:" + port}});
    no_port = visit(redirect + "?code=injected&state=" + state, {{"Host", "127.0.0.1"}});
    genuine = visit(redirect + "?code=good&state=" + state);
  });
  ASSERT_TRUE(tokens.ok()) << tokens.error().describe();
  EXPECT_GE(rebound.status, 400);
  EXPECT_GE(no_port.status, 400);
  EXPECT_EQ(genuine.status, 200);
  EXPECT_EQ(as.codes(), std::vector<std::string>{"good"});
}

TEST(Login, OnlyWrongAnswersBeforeTheTimeoutEndInATimeout) {
  AuthServer as;
  auto tokens = login_with(
      as,
      [&](const std::string&, const std::string& redirect) {
        visit(redirect + "?code=injected&state=guess");
        visit(redirect + "/../favicon.ico");
      },
      2s);
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().kind, ErrorKind::timeout) << tokens.error().describe();
  EXPECT_TRUE(as.codes().empty());
}

TEST(Login, TheRightStateFromAnotherIssuerEndsTheLogin) {
  // RFC 9207 §2.4: with the right state but another `iss`, the response is rejected.
  AuthServer as;
  Visit mixed_up;
  auto tokens = login_with(as, [&](const std::string& url, const std::string& redirect) {
    mixed_up = visit(redirect +
                     "?code=c&iss=https%3A%2F%2Fevil.example&state=" + query_param(url, "state"));
  });
  ASSERT_FALSE(tokens.ok());
  EXPECT_NE(tokens.error().message.find("another issuer"), std::string::npos);
  EXPECT_EQ(mixed_up.status, 400);
  EXPECT_TRUE(as.codes().empty());
}

}  // namespace
}  // namespace stagepass::sdk
