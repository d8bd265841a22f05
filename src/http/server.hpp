// Server: an HTTP/1.1 listener on Boost.Beast with C++20 coroutines, one coroutine per
// connection, keep-alive, explicit limits, and graceful shutdown.
//
// Limits are answered with proper status codes: 431 (header too large), 413 (body too
// large), 400 (malformed), 503 (too many connections); slow or idle peers are disconnected.
// Thread safety: run the io_context on any number of threads; each connection lives on its
// own strand. start() and stop() may be called from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>

#include "http/router.hpp"

namespace stagepass::http {

struct Limits {
  size_t header_bytes = 16 * 1024;                 // request line + headers
  size_t body_bytes = 64 * 1024;                   // request body
  std::chrono::seconds read_timeout{10};           // a whole request, once it has started
  std::chrono::seconds idle_timeout{60};           // keep-alive connection with no request
  size_t max_connections = 10000;                  // beyond: 503 and close
  std::chrono::milliseconds shutdown_grace{5000};  // in-flight requests may finish
};

// One line per request for the access log; must not block for long.
struct AccessRecord {
  std::string_view method;
  std::string_view path;  // without the query string (it may carry secrets)
  int status;
  double latency_ms;
  std::string_view client_id;
  std::string_view remote_ip;
};
using AccessLogger = std::function<void(const AccessRecord&)>;

class Server {
 public:
  Server(boost::asio::io_context& ioc, Limits limits, Handler handler, AccessLogger log);
  ~Server();
  // Binds and starts accepting. Throws on bind failure (startup only).
  void listen(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Stops accepting, lets in-flight requests finish within the grace period, closes idle
  // connections, then calls `done` (on an io thread).
  void stop(std::function<void()> done);

  size_t active_connections() const { return connections_.load(); }

 private:
  struct Conn;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> session(std::shared_ptr<Conn> conn);

  boost::asio::io_context& ioc_;
  Limits limits_;
  Handler handler_;
  AccessLogger log_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<size_t> connections_{0};
  std::atomic<bool> stopping_{false};
  std::mutex conns_mu_;
  std::list<std::weak_ptr<Conn>> conns_;
};

}  // namespace stagepass::http
