// The HTTP layer on its own: header guard, limits, deadlines and 500 pages (a real server on
// loopback, a raw socket as the client) and the trusted-proxy address rules.
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <future>
#include <optional>
#include <stdexcept>
#include <thread>

#include "http/router.hpp"
#include "http/server.hpp"
#include "http/trusted_proxies.hpp"

namespace stagepass::http {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// ---- header guard ----

TEST(HeaderGuard, RefusesCrLfNulInValuesAndNonTokenNames) {
  EXPECT_TRUE(valid_header_value("/account?x=1; Path=/; HttpOnly"));
  EXPECT_TRUE(valid_header_value(""));
  EXPECT_TRUE(valid_header_value("tab\tis allowed"));
  EXPECT_FALSE(valid_header_value("/x\r\nSet-Cookie: a=b"));
  EXPECT_FALSE(valid_header_value("/x\nSet-Cookie: a=b"));
  EXPECT_FALSE(valid_header_value("/x\r"));
  EXPECT_FALSE(valid_header_value(std::string_view("a\0b", 3)));
  EXPECT_TRUE(valid_header_name("Set-Cookie"));
  EXPECT_TRUE(valid_header_name("X-Custom_1.2~"));
  EXPECT_FALSE(valid_header_name(""));
  EXPECT_FALSE(valid_header_name("Bad Name"));
  EXPECT_FALSE(valid_header_name("X-A\r\nSet-Cookie"));
  EXPECT_FALSE(valid_header_name("X:Y"));
  EXPECT_FALSE(valid_header_name(std::string_view("X\0", 2)));
}

// ---- a real server on loopback ----

class ServerTest : public ::testing::Test {
 protected:
  void start(Handler h, ServerOptions o = {}) {
    server_ = std::make_unique<Server>(ioc_, std::move(h), std::move(o));
    server_->listen({asio::ip::make_address("127.0.0.1"), 0});
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    if (server_) server_->stop([this] { ioc_.stop(); });
    if (thread_.joinable()) thread_.join();
  }
  // A server answering "ok" with these deadlines.
  void start_with_deadlines(std::chrono::seconds read, std::chrono::seconds idle);
  tcp::socket kept_alive_after_one_request(std::chrono::seconds read = 1s,
                                           std::chrono::seconds idle = 30s);
  tcp::socket connect() {
    tcp::socket s(client_ioc_);
    s.connect(server_->local_endpoint());
    return s;
  }
  static void send(tcp::socket& s, std::string_view text) {
    asio::write(s, asio::buffer(text.data(), text.size()));
  }
  // Everything until the server closes the connection.
  static std::string read_all(tcp::socket& s) {
    std::string out;
    boost::system::error_code ec;
    asio::read(s, asio::dynamic_buffer(out), ec);
    return out;
  }
  // Everything until the server closes the connection, or nullopt when it is still open after
  // `bound` (then the client gives up).
  std::optional<std::string> read_until_closed(tcp::socket& s, std::chrono::seconds bound) {
    std::string out;
    bool closed = false;
    asio::async_read(s, asio::dynamic_buffer(out),
                     [&](boost::system::error_code, size_t) { closed = true; });
    client_ioc_.restart();
    client_ioc_.run_for(bound);
    if (closed) return out;
    s.cancel();
    client_ioc_.restart();
    client_ioc_.run();
    return std::nullopt;
  }
  // One response with a Content-Length body, the connection left open.
  static std::string read_response(tcp::socket& s) {
    std::string out;
    asio::read_until(s, asio::dynamic_buffer(out), "\r\n\r\n");
    auto head_end = out.find("\r\n\r\n") + 4;
    auto cl = out.find("Content-Length: ");
    size_t length = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
    if (out.size() < head_end + length) {
      asio::read(s, asio::dynamic_buffer(out),
                 asio::transfer_exactly(head_end + length - out.size()));
    }
    return out;
  }

  asio::io_context ioc_{1};
  asio::io_context client_ioc_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// Issue 13 §1: a handler that copies attacker text into a header (here a Location with
// CR LF) must not produce a split response: the server answers 500 and reports the header.
TEST_F(ServerTest, AResponseHeaderWithCrLfBecomes500AndIsReported) {
  std::promise<std::string> reported;
  std::atomic<int> reports{0};
  ServerOptions o;
  o.events = [&](const ServerEvent& e) {
    if (reports++ == 0) {
      reported.set_value(std::string(e.msg) + "|" + std::string(e.path) + "|" +
                         std::string(e.detail));
    }
  };
  start(
      [](Request& req) -> asio::awaitable<Response> {
        std::string next =
            req.path() == "/nul" ? std::string("/a\0b", 4) : "/x\r\nSet-Cookie: evil=1";
        co_return Response::redirect(next).header("Cache-Control", "no-store");
      },
      std::move(o));
  auto s = connect();
  send(s, "GET /login HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto res = read_all(s);
  EXPECT_TRUE(res.starts_with("HTTP/1.1 500 ")) << res;
  EXPECT_EQ(res.find("evil"), std::string::npos) << res;
  EXPECT_EQ(res.find("Location"), std::string::npos) << res;
  EXPECT_NE(res.find("Internal Server Error"), std::string::npos) << res;
  auto f = reported.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto line = f.get();
  EXPECT_NE(line.find("|/login|Location"), std::string::npos) << line;
  EXPECT_EQ(line.find("evil"), std::string::npos) << "the value is never logged: " << line;

  auto s2 = connect();
  send(s2, "GET /nul HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(read_all(s2).starts_with("HTTP/1.1 500 "));
  EXPECT_EQ(reports.load(), 2);
}

TEST_F(ServerTest, ValidHeadersPassUnchanged) {
  start([](Request&) -> asio::awaitable<Response> {
    co_return Response::redirect("/next?a=1").header("Set-Cookie", "sid=abc; Path=/; HttpOnly");
  });
  auto s = connect();
  send(s, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto res = read_all(s);
  EXPECT_TRUE(res.starts_with("HTTP/1.1 303 ")) << res;
  EXPECT_NE(res.find("Location: /next?a=1\r\n"), std::string::npos) << res;
  EXPECT_NE(res.find("Set-Cookie: sid=abc; Path=/; HttpOnly\r\n"), std::string::npos) << res;
  EXPECT_EQ(res.find("Strict-Transport-Security"), std::string::npos) << "plain http: no HSTS";
}

void ServerTest::start_with_deadlines(std::chrono::seconds read, std::chrono::seconds idle) {
  ServerOptions o;
  o.limits.read_timeout = read;
  o.limits.idle_timeout = idle;
  start([](Request&) -> asio::awaitable<Response> { co_return Response::text(200, "ok\n"); },
        std::move(o));
}

// A server with these deadlines (by default a 1 s read deadline and a 30 s idle timeout), and a
// connection to it that already had one request answered.
tcp::socket ServerTest::kept_alive_after_one_request(std::chrono::seconds read,
                                                     std::chrono::seconds idle) {
  start_with_deadlines(read, idle);
  auto s = connect();
  send(s, "GET /1 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(read_response(s).starts_with("HTTP/1.1 200 "));
  return s;
}

// Issue 13 §1: after the first request of a kept-alive connection, the next one may take
// idle_timeout to start, but once started it must arrive within read_timeout.
TEST_F(ServerTest, KeepAliveRequestMustCompleteWithinReadTimeoutOnceStarted) {
  auto s = kept_alive_after_one_request();
  send(s, "GET /2 HTTP/1.1\r\nHost: t\r\n");  // never finished: a slowloris
  EXPECT_EQ(read_until_closed(s, 10s), "") << "cut by read_timeout, not by the 30 s idle timeout";
}

// The same deadline for the first request of a connection, which starts when the connection
// opens: a client that sends part of it, or nothing, is cut at read_timeout.
TEST_F(ServerTest, FirstRequestMustCompleteWithinReadTimeout) {
  start_with_deadlines(1s, 30s);
  auto partial = connect();
  auto silent = connect();
  send(partial, "GET / HTTP/1.1\r\nHost: t\r\n");
  EXPECT_EQ(read_until_closed(partial, 10s), "") << "cut by read_timeout";
  EXPECT_EQ(read_until_closed(silent, 10s), "") << "a silent connection is not idle kept-alive";
}

TEST_F(ServerTest, IdleKeptAliveConnectionIsClosedAfterIdleTimeout) {
  auto s = kept_alive_after_one_request(30s, 1s);
  EXPECT_EQ(read_until_closed(s, 10s), "") << "closed by the 1 s idle timeout, with no answer";
}

TEST_F(ServerTest, KeepAliveConnectionMayIdleLongerThanReadTimeout) {
  auto s = kept_alive_after_one_request();
  std::this_thread::sleep_for(2s);  // idle, longer than read_timeout
  send(s, "GET /2 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_TRUE(read_response(s).starts_with("HTTP/1.1 200 "));
  // Pipelined: both answered, in order.
  send(s,
       "GET /3 HTTP/1.1\r\nHost: t\r\n\r\nGET /4 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto both = read_all(s);
  EXPECT_EQ(both.find("HTTP/1.1 200 "), 0u) << both;
  EXPECT_NE(both.find("HTTP/1.1 200 ", 10), std::string::npos) << both;
}

// The limits, each answered with its status (and the handler never runs), then closed.
TEST_F(ServerTest, RefusesWhatItCannotServeWithItsStatus) {
  std::atomic<int> served{0};
  ServerOptions o;
  o.limits.header_bytes = 1024;
  o.limits.body_bytes = 16;
  start(
      [&](Request& req) -> asio::awaitable<Response> {
        ++served;
        co_return Response::text(200, req.body());
      },
      std::move(o));
  const std::string close = "Host: t\r\nConnection: close\r\n";
  struct Case {
    std::string request;
    std::string_view status_line;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n" + close + "X-Pad: " + std::string(2000, 'a') + "\r\n\r\n",
       "HTTP/1.1 431 "},
      {"POST / HTTP/1.1\r\n" + close + "Content-Length: 17\r\n\r\n" + std::string(17, 'b'),
       "HTTP/1.1 413 "},
      {"POST / HTTP/1.1\r\n" + close + "Transfer-Encoding: chunked\r\n\r\n11\r\n" +
           std::string(17, 'b') + "\r\n0\r\n\r\n",
       "HTTP/1.1 413 "},
      {"GET / HTTP/1.1\r\nHost t\r\n\r\n", "HTTP/1.1 400 "},  // a field line without ':'
      {"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
       "HTTP/1.1 400 "},
      // RFC 9112 §6.3: a Transfer-Encoding not ending in chunked has no reliable length
      // (400); another coding is not implemented (501).
      {"POST / HTTP/1.1\r\n" + close + "Transfer-Encoding: gzip\r\n\r\nabc", "HTTP/1.1 400 "},
      {"POST / HTTP/1.1\r\n" + close + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
       "HTTP/1.1 501 "},
  };
  for (const auto& c : cases) {
    auto s = connect();
    send(s, c.request);
    auto res = read_until_closed(s, 10s);
    ASSERT_TRUE(res) << "still open: " << c.request.substr(0, 60);
    EXPECT_TRUE(res->starts_with(c.status_line)) << c.request.substr(0, 60) << "\n" << *res;
    EXPECT_NE(res->find("Connection: close\r\n"), std::string::npos) << *res;
  }
  EXPECT_EQ(served.load(), 0);
  // Control: within the limits, chunked included, the same server answers.
  auto s = connect();
  send(s, "POST / HTTP/1.1\r\n" + close + "Transfer-Encoding: chunked\r\n\r\n10\r\n" +
              std::string(16, 'b') + "\r\n0\r\n\r\n");
  auto res = read_all(s);
  EXPECT_TRUE(res.starts_with("HTTP/1.1 200 ")) << res;
  EXPECT_TRUE(res.ends_with("\r\n\r\n" + std::string(16, 'b'))) << res;
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitGet503WhileTheOthersAreServed) {
  ServerOptions o;
  o.limits.max_connections = 1;
  start([](Request&) -> asio::awaitable<Response> { co_return Response::text(200, "ok\n"); },
        std::move(o));
  auto first = connect();
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server_->active_connections() < 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  auto second = connect();
  auto refused = read_until_closed(second, 10s);
  ASSERT_TRUE(refused);
  EXPECT_TRUE(refused->starts_with("HTTP/1.1 503 ")) << *refused;
  send(first, "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_TRUE(read_all(first).starts_with("HTTP/1.1 200 "));
}

TEST_F(ServerTest, HeadGetsTheGetAnswersHeadersWithoutItsBody) {
  Router router;
  router.add("GET", "/r", [](Request&) -> asio::awaitable<Response> {
    co_return Response::text(200, "twelve bytes");
  });
  start([&router](Request& r) { return router.route(r); });
  auto s = connect();
  send(s, "HEAD /r HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  auto res = read_all(s);
  EXPECT_TRUE(res.starts_with("HTTP/1.1 200 ")) << res;
  EXPECT_NE(res.find("Content-Length: 12\r\n"), std::string::npos) << res;
  EXPECT_TRUE(res.ends_with("\r\n\r\n")) << "no body: " << res;
}

// A handler that throws, or builds a response the header guard refuses, gets the 500 page of
// its path's prefix (an API answers in its own error format); elsewhere, and when a page
// itself is not a usable 500, the text 500.
TEST_F(ServerTest, AFailedHandlerGetsThe500PageOfItsPrefix) {
  Router router;
  Handler fail = [](Request& req) -> asio::awaitable<Response> {
    if (req.path().ends_with("/throw")) throw std::runtime_error("bug");
    co_return Response::text(200, "ok\n").header("X-Split", "a\r\nSet-Cookie: evil=1");
  };
  router.add_prefix("/", fail);
  router.add_error_page("/json/", [] {
    return Response::json(500, R"({"error":"server_error"})").header("Cache-Control", "no-store");
  });
  router.add_error_page("/not500/", [] { return Response::json(200, "{}"); });
  router.add_error_page("/badheader/", [] { return Response::json(500, "{}").header("X", "\n"); });
  ServerOptions o;
  o.server_error = [&router](const Request& r) { return router.server_error(r); };
  start([&router](Request& r) { return router.route(r); }, std::move(o));
  auto get = [&](std::string_view path) {
    auto s = connect();
    send(s, "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
    return read_all(s);
  };
  for (auto path : {"/json/throw", "/json/split"}) {
    auto res = get(path);
    EXPECT_TRUE(res.starts_with("HTTP/1.1 500 ")) << res;
    EXPECT_NE(res.find("Content-Type: application/json\r\n"), std::string::npos) << res;
    EXPECT_NE(res.find("Cache-Control: no-store\r\n"), std::string::npos) << res;
    EXPECT_TRUE(res.ends_with(R"({"error":"server_error"})")) << res;
  }
  for (auto path : {"/text/throw", "/text/split", "/not500/throw", "/badheader/throw"}) {
    auto res = get(path);
    EXPECT_TRUE(res.starts_with("HTTP/1.1 500 ")) << path << "\n" << res;
    EXPECT_TRUE(res.ends_with("Internal Server Error\n")) << path << "\n" << res;
    EXPECT_EQ(res.find("evil"), std::string::npos) << res;
  }
}

TEST_F(ServerTest, ForwardedAddressReachesHandlersOnlyFromTrustedPeers) {
  ServerOptions o;
  o.proxies = *TrustedProxies::parse("127.0.0.1");
  start(
      [](Request& req) -> asio::awaitable<Response> {
        co_return Response::text(200, req.remote_ip);
      },
      std::move(o));
  auto s = connect();
  send(s,
       "GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 198.51.100.7\r\nConnection: close\r\n\r\n");
  auto res = read_all(s);
  EXPECT_TRUE(res.ends_with("\r\n\r\n198.51.100.7")) << res;
}

// Issue 13 (review): `stagepass serve` destroys its Servers (Listeners) before the
// io_context, which then destroys the coroutine frames of connections still open. Those
// frames must not touch the destroyed Server (the connection counter was a Server member:
// a heap-use-after-free that the ASan build reports; scripts/test-asan.sh runs this test).
TEST(ServerLifetime, DestroyedBeforeItsIoContextWithConnectionsOpen) {
  auto ioc = std::make_unique<asio::io_context>(1);
  auto server = std::make_unique<Server>(
      *ioc, [](Request&) -> asio::awaitable<Response> { co_return Response::text(200, "ok\n"); },
      ServerOptions{});
  server->listen({asio::ip::make_address("127.0.0.1"), 0});
  std::thread io([&] { ioc->run(); });
  asio::io_context client_ioc;
  std::vector<tcp::socket> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back(client_ioc);
    clients.back().connect(server->local_endpoint());
  }
  // One kept alive after a request, two that never sent one.
  std::string req = "GET / HTTP/1.1\r\nHost: t\r\n\r\n";
  asio::write(clients[0], asio::buffer(req));
  std::string res;
  asio::read_until(clients[0], asio::dynamic_buffer(res), "ok\n");
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server->active_connections() < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  ASSERT_EQ(server->active_connections(), 3u);
  ioc->stop();  // as after a shutdown grace period that open connections outlived
  io.join();
  server.reset();
  ioc.reset();  // destroys the connections' coroutine frames
  for (auto& c : clients) {
    std::array<char, 16> buf;
    boost::system::error_code ec;
    c.read_some(asio::buffer(buf), ec);
    EXPECT_TRUE(ec) << "the connection was closed";
  }
}

// ---- trusted proxies ----

beast_http::fields headers(std::initializer_list<std::pair<std::string, std::string>> list) {
  beast_http::fields f;
  for (const auto& [k, v] : list) f.insert(k, v);
  return f;
}

asio::ip::address ip(const char* s) { return asio::ip::make_address(s); }

TEST(TrustedProxies, ParsesCidrsAndSingleAddressesOfBothFamilies) {
  auto t = TrustedProxies::parse(" 10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1, fd00::/8 ");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(t->contains(ip("10.255.0.1")));
  EXPECT_FALSE(t->contains(ip("11.0.0.1")));
  EXPECT_TRUE(t->contains(ip("192.168.1.7")));
  EXPECT_FALSE(t->contains(ip("192.168.1.8")));
  EXPECT_TRUE(t->contains(ip("2001:db8:1::5")));
  EXPECT_FALSE(t->contains(ip("2001:db9::5")));
  EXPECT_TRUE(t->contains(ip("::1")));
  EXPECT_FALSE(t->contains(ip("::2")));
  EXPECT_TRUE(t->contains(ip("fdab::1")));
  EXPECT_TRUE(t->contains(ip("::ffff:10.1.2.3"))) << "a dual-stack peer matches its IPv4 range";
  EXPECT_FALSE(t->contains(ip("127.0.0.1")));

  auto odd = TrustedProxies::parse("10.1.2.3/8,0.0.0.0/0");  // host bits are ignored
  ASSERT_TRUE(odd);
  EXPECT_TRUE(odd->contains(ip("10.9.9.9")));
  EXPECT_TRUE(odd->contains(ip("203.0.113.1")));
  EXPECT_FALSE(odd->contains(ip("2001:db8::1"))) << "0.0.0.0/0 is IPv4 only";

  EXPECT_TRUE(TrustedProxies::parse("")->empty());
  EXPECT_TRUE(TrustedProxies::parse(" , ")->empty());
  for (const char* bad : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "example.com",
                          "10.0.0", "10.0.0.0/8/8", "[::1]", "10.0.0.0/-1"}) {
    auto r = TrustedProxies::parse(std::string("127.0.0.1,") + bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find(bad), std::string::npos) << r.error().message;
  }
}

TEST(TrustedProxies, WithoutTheSettingHeadersAreIgnored) {
  TrustedProxies none;
  auto h = headers({{"X-Forwarded-For", "198.51.100.7"}, {"Forwarded", "for=198.51.100.8"}});
  EXPECT_EQ(none.client_address(ip("127.0.0.1"), "127.0.0.1", h), "127.0.0.1");
}

TEST(TrustedProxies, HeadersFromAnUntrustedPeerAreIgnored) {
  auto t = *TrustedProxies::parse("10.0.0.0/8");
  auto h = headers({{"X-Forwarded-For", "198.51.100.7"}});
  EXPECT_EQ(t.client_address(ip("203.0.113.9"), "203.0.113.9", h), "203.0.113.9");
}

TEST(TrustedProxies, TakesTheRightMostHopThatIsNotATrustedProxy) {
  auto t = *TrustedProxies::parse("10.0.0.0/8");
  auto peer = ip("10.0.0.2");
  // The client wrote "1.1.1.1" itself; the proxy appended the address it saw.
  EXPECT_EQ(
      t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "1.1.1.1, 198.51.100.7"}})),
      "198.51.100.7");
  // Two proxies: the right-most hop is the first proxy, trusted, so skipped.
  EXPECT_EQ(t.client_address(peer, "10.0.0.2",
                             headers({{"X-Forwarded-For", "1.1.1.1,198.51.100.7 , 10.0.0.9"}})),
            "198.51.100.7");
  // Several field lines are one list, in order.
  EXPECT_EQ(t.client_address(peer, "10.0.0.2",
                             headers({{"X-Forwarded-For", "1.1.1.1"},
                                      {"X-Forwarded-For", "198.51.100.7, 10.0.0.9"}})),
            "198.51.100.7");
  // Every hop trusted: the left-most is the origin.
  EXPECT_EQ(
      t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "10.0.0.5, 10.0.0.9"}})),
      "10.0.0.5");
  // Ports and IPv6 as proxies write them.
  EXPECT_EQ(t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "198.51.100.7:4711"}})),
            "198.51.100.7");
  EXPECT_EQ(t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "2001:db8::7"}})),
            "2001:db8::7");
  EXPECT_EQ(
      t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "[2001:db8::7]:4711"}})),
      "2001:db8::7");
  EXPECT_EQ(
      t.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "::ffff:198.51.100.7"}})),
      "198.51.100.7");
}

TEST(TrustedProxies, ReadsRfc7239Forwarded) {
  auto t = *TrustedProxies::parse("10.0.0.0/8, 2001:db8:ffff::/48", "Forwarded");
  auto peer = ip("2001:db8:ffff::1");
  EXPECT_EQ(t.client_address(peer, "2001:db8:ffff::1",
                             headers({{"Forwarded",
                                       "for=1.1.1.1, For=\"[2001:db8:cafe::17]:4711\";proto=https;"
                                       "by=10.0.0.1, for=10.0.0.3"}})),
            "2001:db8:cafe::17");
  EXPECT_EQ(
      t.client_address(peer, "2001:db8:ffff::1",
                       headers({{"Forwarded", "proto=https;for=198.51.100.7;host=a.example"}})),
      "198.51.100.7");
}

TEST(TrustedProxies, AnythingUnbelievableFallsBackToThePeer) {
  auto t = *TrustedProxies::parse("127.0.0.0/8");
  auto peer = ip("127.0.0.1");
  auto client = [&](std::initializer_list<std::pair<std::string, std::string>> list) {
    return t.client_address(peer, "127.0.0.1", headers(list));
  };
  EXPECT_EQ(client({}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", ""}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", " , "}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "not-an-ip"}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "198.51.100.7, unknown"}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "198.51.100.7:99999999"}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "198.51.100"}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "[2001:db8::1"}}), "127.0.0.1");
  EXPECT_EQ(client({{"X-Forwarded-For", "fe80::1%eth0"}}), "127.0.0.1");
  auto rfc7239 = *TrustedProxies::parse("127.0.0.0/8", "forwarded");
  auto fwd = [&](std::string value) {
    return rfc7239.client_address(peer, "127.0.0.1", headers({{"Forwarded", value}}));
  };
  EXPECT_EQ(fwd("for=unknown"), "127.0.0.1");
  EXPECT_EQ(fwd("for=_hidden"), "127.0.0.1");
  EXPECT_EQ(fwd("proto=https"), "127.0.0.1");
  EXPECT_EQ(fwd("for=\"198.51.100.7"), "127.0.0.1");
  EXPECT_EQ(fwd("for"), "127.0.0.1");
  // Only hops to the right of the client matter: garbage further left is never read.
  EXPECT_EQ(client({{"X-Forwarded-For", "garbage, 198.51.100.7"}}), "198.51.100.7");
}

// Issue 13 (review): with both headers present the answer used to fall back to the proxy's
// address, so a client could add the header its proxy does not write and share the proxy's
// throttle bucket. Only the configured header is read; the other changes nothing.
TEST(TrustedProxies, ReadsOnlyTheConfiguredHeader) {
  auto peer = ip("10.0.0.2");
  auto both = headers({{"Forwarded", "for=203.0.113.66"},
                       {"X-Forwarded-For", "1.1.1.1, 198.51.100.7"},
                       {"X-Forwarded-For", "203.0.113.5, 10.0.0.9"}});
  auto xff = *TrustedProxies::parse("10.0.0.0/8");
  EXPECT_EQ(xff.client_address(peer, "10.0.0.2", both), "203.0.113.5");
  EXPECT_EQ(xff.client_address(peer, "10.0.0.2", headers({{"Forwarded", "for=203.0.113.66"}})),
            "10.0.0.2")
      << "Forwarded is ignored when the proxies write X-Forwarded-For";
  auto fwd = *TrustedProxies::parse("10.0.0.0/8", "forwarded");
  EXPECT_EQ(fwd.client_address(peer, "10.0.0.2", both), "203.0.113.66");
  EXPECT_EQ(fwd.client_address(peer, "10.0.0.2",
                               headers({{"Forwarded", "for=198.51.100.1"},
                                        {"Forwarded", "for=198.51.100.2, for=10.0.0.7"}})),
            "198.51.100.2");
  EXPECT_EQ(fwd.client_address(peer, "10.0.0.2", headers({{"X-Forwarded-For", "198.51.100.7"}})),
            "10.0.0.2");
  EXPECT_TRUE(TrustedProxies::parse("", " X-Forwarded-For "));
  auto bad = TrustedProxies::parse("10.0.0.0/8", "x-real-ip");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("x-forwarded-for or forwarded"), std::string::npos);
}

TEST(TrustedProxies, ForwardedSyntax) {
  auto v = forwarded_for_values(R"(for="a,b";by=x, ,for=c;proto=https,proto=http,for="q\"x")");
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, (std::vector<std::string>{"a,b", "c", "", "q\"x"}));
  EXPECT_FALSE(forwarded_for_values("for=\"open"));
  EXPECT_FALSE(forwarded_for_values("for=a\"b"));
  EXPECT_FALSE(forwarded_for_values("justatoken"));
  EXPECT_FALSE(forwarded_for_values("for=\"x\"junk"));
  EXPECT_TRUE(forwarded_for_values("")->empty());
}

TEST(TrustedProxies, ParseHop) {
  EXPECT_EQ(parse_hop("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_hop(" 192.0.2.1:80 ")->to_string(), "192.0.2.1");
  EXPECT_EQ(parse_hop("[2001:db8::1]")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_hop("[2001:db8::1]:443")->to_string(), "2001:db8::1");
  EXPECT_EQ(parse_hop("2001:db8::1")->to_string(), "2001:db8::1");
  for (const char* bad : {"", "unknown", "_x", "1.2.3.4:", "1.2.3.4:x", "[::1]x",
                          "[::1]:", "01.2.3.4", "1.2.3.4.5", "[1.2.3.4]", "::g"}) {
    EXPECT_FALSE(parse_hop(bad)) << bad;
  }
}

}  // namespace
}  // namespace stagepass::http
