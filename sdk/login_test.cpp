// Client::login through the real loopback listener (RFC 8252 §7.3), with a real token
// endpoint on loopback and the browser played over HTTP. A request that is not the answer to
// this sign-in — another state, another Host (DNS rebinding), another path — is answered
// with a harmless page and the listener keeps waiting for the real one.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <future>
#include <memory>
#include <string>
#include <thread>

#include "http_client.hpp"
#include "loopback.hpp"
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

// The bound is generous: under make test-asan (-O0) a listener busy with a 32 MiB page took
// over 3 s to turn to the next request. It only keeps a broken listener from hanging the test.
Visit visit(const std::string& url, std::vector<std::pair<std::string, std::string>> headers = {}) {
  detail::HttpRequest r{"GET", url, std::move(headers), {}, 15000ms};
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

// The port of a loopback redirect URI, "http://127.0.0.1:PORT/callback".
std::string port_of(const std::string& redirect) {
  const std::string authority = redirect.substr(7, redirect.find('/', 7) - 7);  // after http://
  return authority.substr(authority.find(':') + 1);
}

// A request with the right state but `host` in the Host header, then the genuine answer.
void expect_host_refused(const std::string& host_without_port, bool with_port) {
  AuthServer as;
  Visit misdirected, genuine;
  auto tokens = login_with(as, [&](const std::string& url, const std::string& redirect) {
    const std::string state = query_param(url, "state");
    const std::string host =
        with_port ? host_without_port + ":" + port_of(redirect) : host_without_port;
    misdirected = visit(redirect + "?code=injected&state=" + state, {{"Host", host}});
    genuine = visit(redirect + "?code=good&state=" + state);
  });
  ASSERT_TRUE(tokens.ok()) << tokens.error().describe();
  EXPECT_EQ(misdirected.status, 421) << misdirected.body;
  EXPECT_EQ(genuine.status, 200);
  EXPECT_EQ(as.codes(), std::vector<std::string>{"good"});
}

TEST(Login, AnotherHostHeaderCannotInjectACode) {
  // DNS rebinding: a page on evil.example whose name now resolves to 127.0.0.1 reaches the
  // listener with `Host: evil.example:PORT`. Even knowing the state, it must not end the login.
  expect_host_refused("evil.example", true);
}

TEST(Login, AHostHeaderWithoutThePortCannotInjectACode) {
  // `Host: 127.0.0.1` names port 80, not the listener's: a page rebound to 127.0.0.1:80 that
  // reaches this port through a forwarder says so. Only 127.0.0.1:PORT is the redirect URI.
  expect_host_refused("127.0.0.1", false);
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

// Plays the browser after `holders` connections to the listener were opened, each sending
// `first_bytes` (maybe nothing) and then waiting; returns what the browser got.
Visit answer_behind_held_slots(AuthServer& as, Result<TokenSet>& tokens, int holders,
                               const std::string& first_bytes) {
  Visit genuine;
  tokens = login_with(as, [&](const std::string& url, const std::string& redirect) {
    namespace asio = boost::asio;
    asio::io_context ioc;
    const asio::ip::tcp::endpoint listener(
        asio::ip::make_address_v4("127.0.0.1"),
        static_cast<unsigned short>(std::stoi(port_of(redirect))));
    std::vector<asio::ip::tcp::socket> held;
    for (int i = 0; i < holders; ++i) {
      held.emplace_back(ioc).connect(listener);
      if (!first_bytes.empty()) asio::write(held.back(), asio::buffer(first_bytes));
    }
    genuine = visit(redirect + "?code=good&state=" + query_param(url, "state"));
  });
  return genuine;
}

TEST(Login, IdleConnectionsDoNotKeepTheBrowserOut) {
  // A local process that fills the listener's 16 connection slots with sockets that say
  // nothing must not keep the browser's answer out: the oldest silent one makes room for it.
  AuthServer as;
  Result<TokenSet> tokens = Error{};
  Visit genuine = answer_behind_held_slots(as, tokens, 16, "");
  ASSERT_TRUE(tokens.ok()) << tokens.error().describe();
  EXPECT_EQ(genuine.status, 200) << genuine.body;
  EXPECT_EQ(as.codes(), std::vector<std::string>{"good"});
}

TEST(Login, SlowRequestsDoNotKeepTheBrowserOut) {
  // The same with sockets that send the start of a request and then nothing more.
  AuthServer as;
  Result<TokenSet> tokens = Error{};
  Visit genuine = answer_behind_held_slots(as, tokens, 16, "GET /callback?state=");
  ASSERT_TRUE(tokens.ok()) << tokens.error().describe();
  EXPECT_EQ(genuine.status, 200) << genuine.body;
  EXPECT_EQ(as.codes(), std::vector<std::string>{"good"});
}

// Regression test for "only the connection that delivered the answer ends the wait": a stray
// request answered after the sign-in's answer must not end wait() while the browser is still
// receiving its page (the page is made large so that its write is still going on then).
TEST(LoopbackListener, AStrayRequestAfterTheAnswerDoesNotCutTheBrowsersPageShort) {
  namespace asio = boost::asio;
  auto listener = detail::LoopbackListener::open("/callback");
  ASSERT_TRUE(listener.ok()) << listener.error().describe();
  const std::string redirect = (*listener)->redirect_uri();
  const std::string port = port_of(redirect);
  const std::string state = "0123456789abcdefghijkl";
  const std::string page(32 << 20, 'x');  // more than the socket buffers hold
  std::promise<void> answered;
  Result<detail::Params> waited = Error{};
  std::thread waiter([&] {
    waited = (*listener)->wait(30s, state, [&](const detail::Params&) {
      answered.set_value();
      return detail::CallbackPage{200, page};
    });
  });

  // The browser asks for the page and does not read it yet.
  asio::io_context ioc;
  asio::ip::tcp::socket browser(ioc);
  browser.connect(
      {asio::ip::make_address_v4("127.0.0.1"), static_cast<unsigned short>(std::stoi(port))});
  const std::string request =
      "GET /callback?code=c&state=" + state + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n";
  asio::write(browser, asio::buffer(request));
  auto got_answer = answered.get_future();
  ASSERT_EQ(got_answer.wait_for(10s), std::future_status::ready);

  // Another tab comes back with a stale state and gets its own page.
  Visit stray = visit(redirect + "?code=other&state=stale");
  EXPECT_EQ(stray.status, 400) << stray.body;

  // The browser now reads its page: all of it, then the end of the connection. A receive
  // timeout turns a page cut short (the listener stopped serving it) into a failure.
  timeval bound{10, 0};
  ::setsockopt(browser.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  std::string received;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(browser.native_handle(), buf, sizeof buf);
    if (n <= 0) break;
    received.append(buf, static_cast<size_t>(n));
  }
  waiter.join();
  EXPECT_TRUE(received.starts_with("HTTP/1.1 200")) << received.substr(0, 100);
  EXPECT_NE(received.find("x</p></body></html>"), std::string::npos)
      << "the browser got " << received.size() << " bytes of a " << page.size() << "-byte page";
  ASSERT_TRUE(waited.ok()) << waited.error().describe();
  EXPECT_EQ(waited->at("code"), "c");
}

}  // namespace
}  // namespace stagepass::sdk
