// Server: an HTTP/1.1 listener on Boost.Beast with C++20 coroutines, one coroutine per
// connection, keep-alive, explicit limits, and graceful shutdown; plain TCP or TLS (the
// session is one template over the stream type, so plain http pays nothing for TLS).
//
// Limits are answered with proper status codes: 431 (header too large), 413 (body too
// large), 400 (malformed), 503 (too many connections); slow or idle peers are disconnected.
// Deadlines: a request must arrive whole within read_timeout of its start (the first when the
// connection is open, a later one at its first byte, which may take idle_timeout to come).
// A handler that throws, or whose response has a header that could split the response (CR,
// LF, NUL; never sent, the event is reported), gets a 500: the ServerErrorPage's, else text.
// TLS answers carry Strict-Transport-Security.
// Thread safety: run the io_context on any number of threads; each connection lives on its
// own strand. listen() and stop() may be called from any thread.
// Lifetime: keeps a reference to the io_context, which must outlive the server; stop() waits
// (up to shutdown_grace) for the connections, which hold the handler, to end.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "http/router.hpp"
#include "http/tls_context.hpp"
#include "http/trusted_proxies.hpp"

namespace stagepass::http {

struct Limits {
  size_t header_bytes = 16 * 1024;             // request line + headers
  size_t body_bytes = 64 * 1024;               // request body
  std::chrono::seconds read_timeout{10};       // a whole request, from its start
  std::chrono::seconds idle_timeout{60};       // keep-alive: until the next request starts
  std::chrono::seconds handshake_timeout{10};  // TLS handshake
  size_t max_connections = 10000;  // beyond: 503 and close (TLS: closed before the handshake)
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

// Something an operator should see (e.g. a refused response header); must not block long.
struct ServerEvent {
  std::string_view level;  // "warn", "error"
  std::string_view msg;
  std::string_view path;    // the request's path, when there is one
  std::string_view detail;  // never a header value or a body
};
using EventLogger = std::function<void(const ServerEvent&)>;

// The answer for a request whose handler failed (threw, or built a response the header guard
// refused), e.g. in the error format of the API the path belongs to. Must not throw. Nullopt,
// or an answer that is not a 500 or has an invalid header: the server's text 500. Called on an
// I/O thread.
using ServerErrorPage = std::function<std::optional<Response>(const Request&)>;

// How long the accept loop waits after running out of descriptors (EMFILE, ENFILE) or
// memory before accepting again.
inline constexpr std::chrono::milliseconds kAcceptBackoff{100};

struct ServerOptions {
  Limits limits;
  AccessLogger access_log;                // may be empty
  EventLogger events;                     // may be empty
  std::shared_ptr<TlsContext> tls;        // set: https; null: plain http
  TrustedProxies proxies;                 // empty: forwarding headers are ignored
  std::string hsts = "max-age=31536000";  // Strict-Transport-Security on TLS answers
  ServerErrorPage server_error;           // empty: "500 Internal Server Error" as text
};

class Server {
 public:
  Server(boost::asio::io_context& ioc, Handler handler, ServerOptions options);
  ~Server();
  // Binds and starts accepting. Throws on bind failure (startup only).
  void listen(const boost::asio::ip::tcp::endpoint& ep);
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  // Stops accepting, lets in-flight requests finish within the grace period, closes idle
  // connections, then calls `done` (on an io thread).
  void stop(std::function<void()> done);

  size_t active_connections() const { return connections_->load(); }

  // Implementation types, public only so the session template in server.cpp can name them.
  struct ConnBase;
  template <class Stream>
  struct Conn;
  class ConnectionSlot;

 private:
  boost::asio::awaitable<void> accept_loop();
  // `over_limit`: answer 503 and close (plain http; a TLS connection over the limit is
  // closed at accept, before its handshake).
  template <class Stream>
  boost::asio::awaitable<void> session(std::shared_ptr<Conn<Stream>> conn, ConnectionSlot slot,
                                       bool over_limit);
  // Reads and answers requests until the connection should close; true when it ends on a
  // refused request whose unread input must be drained (a lingering close).
  template <class Stream>
  boost::asio::awaitable<bool> serve_requests(Conn<Stream>& conn);
  Response guard_headers(Response r, const Request& req) const;
  // The 500 for a request whose handler failed (see ServerErrorPage).
  Response failed(const Request& req, std::string log_client_id) const;

  boost::asio::io_context& ioc_;
  Handler handler_;
  ServerOptions opt_;
  const Limits& limits_ = opt_.limits;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Shared with every connection: `stagepass serve` destroys its Servers before the
  // io_context, which then destroys the frames of connections still open; each frame gives
  // its slot back to this counter, never to a destroyed Server.
  std::shared_ptr<std::atomic<size_t>> connections_ = std::make_shared<std::atomic<size_t>>(0);
  std::atomic<bool> stopping_{false};
  std::mutex conns_mu_;
  std::list<std::weak_ptr<ConnBase>> conns_;
};

}  // namespace stagepass::http
