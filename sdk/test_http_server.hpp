// TestHttpServer: a real HTTP/1.1 server on 127.0.0.1 for the SDK's unit tests (a stand-in
// for an authorization server, a Web API or an attacker's host). It records every request it
// receives — so a test can assert that nothing, or no Authorization header, reached it — and
// answers each with what the test's handler returns.
//
// Thread safety: the handler runs on the server's own thread (what it reads that a test
// changes goes through Shared<T>); requests() may be called from any thread. The destructor
// stops the server and joins its thread.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace stagepass::sdk::testing {

// A value the test's thread sets and a server's handler reads, under a mutex: the handler
// runs on the server's thread, so a plain variable shared with it would be a data race.
template <typename T>
class Shared {
 public:
  void set(T value) {
    std::lock_guard lk(mu_);
    value_ = std::move(value);
  }
  T get() const {
    std::lock_guard lk(mu_);
    return value_;
  }

 private:
  mutable std::mutex mu_;
  T value_{};
};

class TestHttpServer {
 public:
  struct Request {
    std::string method, target, host, authorization, body;
  };
  struct Response {
    using Headers = std::vector<std::pair<std::string, std::string>>;
    Response(int s = 200, std::string b = {}, Headers h = {})
        : status(s), body(std::move(b)), headers(std::move(h)) {}
    int status;
    std::string body;
    Headers headers;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    namespace asio = boost::asio;
    asio::ip::tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
    acceptor_.open(ep.protocol());
    acceptor_.bind(ep);
    acceptor_.listen(64);
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~TestHttpServer() {
    ioc_.stop();
    thread_.join();
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  // "http://127.0.0.1:PORT"
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  unsigned short port() const { return port_; }
  std::vector<Request> requests() const {
    std::lock_guard lk(mu_);
    return seen_;
  }

 private:
  boost::asio::awaitable<void> accept_loop() {
    namespace asio = boost::asio;
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(ioc_, serve(std::move(socket)), asio::detached);
    }
  }

  boost::asio::awaitable<void> serve(boost::asio::ip::tcp::socket socket) {
    namespace asio = boost::asio;
    namespace beast = boost::beast;
    namespace http = beast::http;
    auto token = asio::as_tuple(asio::use_awaitable);
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      stream.expires_after(std::chrono::seconds(10));
      http::request<http::string_body> req;
      auto [rec, n] = co_await http::async_read(stream, buffer, req, token);
      if (rec) co_return;
      Request seen{std::string(req.method_string()), std::string(req.target()),
                   std::string(req[http::field::host]),
                   std::string(req[http::field::authorization]), req.body()};
      {
        std::lock_guard lk(mu_);
        seen_.push_back(seen);
      }
      Response answer = handler_(seen);
      http::response<http::string_body> res{static_cast<http::status>(answer.status),
                                            req.version()};
      res.set(http::field::content_type, "application/json");
      for (const auto& [name, value] : answer.headers) res.set(name, value);
      res.body() = answer.body;
      res.keep_alive(req.keep_alive());
      res.prepare_payload();
      auto [wec, m] = co_await http::async_write(stream, res, token);
      if (wec || !req.keep_alive()) co_return;
    }
  }

  Handler handler_;
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::acceptor acceptor_{ioc_};
  unsigned short port_ = 0;
  mutable std::mutex mu_;
  std::vector<Request> seen_;
  std::thread thread_;
};

}  // namespace stagepass::sdk::testing
