#include "http/server.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <string>
#include <vector>

namespace stagepass::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Server::Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being handled
};

namespace {

beast_http::response<beast_http::string_body> to_beast(Response&& r, unsigned version,
                                                       bool keep_alive) {
  beast_http::response<beast_http::string_body> res{static_cast<beast_http::status>(r.status),
                                                    version};
  res.set(beast_http::field::server, "stagepass");
  for (auto& [k, v] : r.headers) res.insert(k, v);
  res.body() = std::move(r.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

// The status for a read error, or 0 when the connection should just close silently.
int status_for(const beast::error_code& ec) {
  if (ec == beast_http::error::header_limit) return 431;
  if (ec == beast_http::error::body_limit) return 413;
  if (ec.category() == beast_http::make_error_code(beast_http::error::end_of_stream).category() &&
      ec != beast_http::error::end_of_stream && ec != beast_http::error::partial_message) {
    return 400;  // a parse error: bad method, bad header, bad chunk...
  }
  return 0;
}

// RFC 9112 §6.1, §6.3: a request whose Transfer-Encoding does not end in chunked has no
// reliable length ("the server MUST respond with the 400 (Bad Request) status code and then
// close the connection"); a coding other than chunked is not implemented here ("SHOULD
// respond with 501"). Beast reads such a body as empty, so without this check whatever a
// front end took for the body would be served as the next request. 0: the framing is fine.
int transfer_coding_refusal(const beast_http::request<beast_http::string_body>& msg) {
  auto fields = msg.equal_range(beast_http::field::transfer_encoding);
  if (fields.first == fields.second) return 0;
  std::vector<std::string> codings;
  for (auto it = fields.first; it != fields.second; ++it) {
    std::string_view v = it->value();
    while (!v.empty()) {
      size_t comma = v.find(',');
      std::string_view c = v.substr(0, comma);
      v = comma == std::string_view::npos ? std::string_view{} : v.substr(comma + 1);
      while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
      std::string lower(c);
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (!lower.empty()) codings.push_back(std::move(lower));
    }
  }
  if (codings.empty() || codings.back() != "chunked") return 400;
  return codings.size() == 1 ? 0 : 501;
}

// Lingering close after refusing a request: closing with unread input makes the kernel send
// a reset that can destroy the error response before the peer reads it (e.g. a 413 while the
// client is still uploading). Stop sending, then discard input for a bounded time and size.
asio::awaitable<void> linger(beast::tcp_stream& stream) {
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  static constexpr size_t kMaxDiscard = 16 * 1024 * 1024;
  std::array<char, 16384> scratch;
  size_t discarded = 0;
  stream.expires_after(std::chrono::seconds(2));
  while (discarded < kMaxDiscard) {
    auto [rec, n] = co_await stream.async_read_some(asio::buffer(scratch), use_tuple);
    if (rec) break;
    discarded += n;
  }
}

}  // namespace

Server::Server(asio::io_context& ioc, Limits limits, Handler handler, AccessLogger log)
    : ioc_(ioc),
      limits_(limits),
      handler_(std::move(handler)),
      log_(std::move(log)),
      acceptor_(asio::make_strand(ioc)) {}

Server::~Server() = default;

void Server::listen(const tcp::endpoint& ep) {
  acceptor_.open(ep.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(ep);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(acceptor_.get_executor(), accept_loop(), asio::detached);
}

tcp::endpoint Server::local_endpoint() const { return acceptor_.local_endpoint(); }

asio::awaitable<void> Server::accept_loop() {
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    socket.set_option(tcp::no_delay(true));
    auto conn = std::make_shared<Conn>(std::move(socket));
    {
      std::lock_guard lk(conns_mu_);
      if (conns_.size() >= 1024 && conns_.size() % 1024 == 0) {
        conns_.remove_if([](const std::weak_ptr<Conn>& w) { return w.expired(); });
      }
      conns_.push_back(conn);
    }
    asio::co_spawn(conn->stream.get_executor(), session(conn), asio::detached);
  }
}

asio::awaitable<void> Server::session(std::shared_ptr<Conn> conn) {
  ++connections_;
  auto& stream = conn->stream;
  beast::error_code ec;
  std::string remote_ip = stream.socket().remote_endpoint(ec).address().to_string();
  beast::flat_buffer buffer;
  bool first = true;

  if (connections_ > limits_.max_connections) {
    auto res = to_beast(Response::text(503, "Too many connections\n"), 11, false);
    co_await beast_http::async_write(stream, res, use_tuple);
  } else {
    while (!stopping_) {
      beast_http::request_parser<beast_http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(limits_.header_bytes));
      parser.body_limit(limits_.body_bytes);
      stream.expires_after(first ? limits_.read_timeout : limits_.idle_timeout);
      auto [rec, n] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
      if (rec) {
        if (int status = status_for(rec)) {
          auto res = to_beast(Response::text(status, std::string(beast_http::obsolete_reason(
                                                         static_cast<beast_http::status>(status))) +
                                                         "\n"),
                              11, false);
          stream.expires_after(limits_.read_timeout);
          co_await beast_http::async_write(stream, res, use_tuple);
          co_await linger(stream);
        }
        break;
      }
      if (int status = transfer_coding_refusal(parser.get())) {
        auto res = to_beast(Response::text(status, std::string(beast_http::obsolete_reason(
                                                       static_cast<beast_http::status>(status))) +
                                                       "\n"),
                            11, false);
        stream.expires_after(limits_.read_timeout);
        co_await beast_http::async_write(stream, res, use_tuple);
        co_await linger(stream);
        break;
      }
      first = false;
      conn->busy = true;
      auto started = std::chrono::steady_clock::now();
      Request req{parser.release(), remote_ip, false};
      Response r;
      try {
        r = co_await handler_(req);
      } catch (const std::exception&) {
        r = Response::text(500, "Internal Server Error\n");
      }
      bool keep_alive = req.msg.keep_alive() && !stopping_;
      int status = r.status;
      std::string client_id = std::move(r.log_client_id);
      auto res = to_beast(std::move(r), req.msg.version(), keep_alive);
      if (req.msg.method() == beast_http::verb::head) res.body().clear();
      stream.expires_after(limits_.read_timeout);
      auto [wec, wn] = co_await beast_http::async_write(stream, res, use_tuple);
      conn->busy = false;
      if (log_) {
        double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        log_({req.method(), req.path(), status, ms, client_id, remote_ip});
      }
      if (wec || !keep_alive) break;
    }
  }
  stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  stream.close();
  --connections_;
}

void Server::stop(std::function<void()> done) {
  asio::post(acceptor_.get_executor(), [this, done = std::move(done)]() mutable {
    if (stopping_.exchange(true)) return;
    beast::error_code ec;
    acceptor_.close(ec);
    // Idle keep-alive connections are waiting for a request that will not be served: close
    // them now. Busy ones finish their request and then close (keep_alive is off).
    {
      std::lock_guard lk(conns_mu_);
      for (auto& weak : conns_) {
        if (auto c = weak.lock(); c && !c->busy) {
          // The session may have closed the socket meanwhile: never throw here.
          asio::post(c->stream.get_executor(), [c] {
            beast::error_code ignored;
            c->stream.socket().cancel(ignored);
          });
        }
      }
      conns_.clear();
    }
    asio::co_spawn(
        ioc_,
        [this, done = std::move(done)]() -> asio::awaitable<void> {
          auto deadline = std::chrono::steady_clock::now() + limits_.shutdown_grace;
          asio::steady_timer t(co_await asio::this_coro::executor);
          while (connections_ > 0 && std::chrono::steady_clock::now() < deadline) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(use_tuple);
          }
          done();
        },
        asio::detached);
  });
}

}  // namespace stagepass::http
