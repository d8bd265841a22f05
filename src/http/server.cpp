#include "http/server.hpp"

#include <openssl/ssl.h>

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cctype>
#include <cerrno>
#include <string>
#include <type_traits>
#include <vector>

namespace stagepass::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
template <class Stream>
constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

struct Server::ConnBase {
  virtual ~ConnBase() = default;
  virtual beast::tcp_stream& tcp() = 0;
  std::atomic<bool> busy{false};  // a request is being handled
};

template <class Stream>
struct Server::Conn final : Server::ConnBase {
  explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  // TLS: the context the connection was accepted with, kept alive as long as the stream, so
  // a reload (a new context) never disturbs an open connection.
  Conn(tcp::socket s, std::shared_ptr<asio::ssl::context> c)
      : ctx(std::move(c)), stream(std::move(s), *ctx) {}
  beast::tcp_stream& tcp() override { return beast::get_lowest_layer(stream); }

  std::shared_ptr<asio::ssl::context> ctx;  // declared first: outlives `stream`
  Stream stream;
};

// A connection counts against max_connections for exactly as long as its coroutine lives,
// whichever way it ends (failed handshake, timeout, exception, or the frame destroyed with
// the io_context after the Server: the counter is shared, never a Server member).
class Server::ConnectionSlot {
 public:
  explicit ConnectionSlot(std::shared_ptr<std::atomic<size_t>> n)
      : n_(std::move(n)), count_(++*n_) {}
  ~ConnectionSlot() {
    if (n_) --*n_;
  }
  ConnectionSlot(ConnectionSlot&& o) noexcept : n_(std::move(o.n_)), count_(o.count_) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  size_t count_at_start() const { return count_; }

 private:
  std::shared_ptr<std::atomic<size_t>> n_;
  size_t count_;
};

namespace {

using Parser = beast_http::request_parser<beast_http::string_body>;

beast_http::response<beast_http::string_body> to_beast(Response&& r, unsigned version,
                                                       bool keep_alive, std::string_view hsts) {
  beast_http::response<beast_http::string_body> res{static_cast<beast_http::status>(r.status),
                                                    version};
  res.set(beast_http::field::server, "stagepass");
  for (auto& [k, v] : r.headers) res.insert(k, v);
  // RFC 6797 §7.1: the STS header field is sent over secure transport only.
  if (!hsts.empty() && res.find(beast_http::field::strict_transport_security) == res.end()) {
    res.set(beast_http::field::strict_transport_security, hsts);
  }
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

// Feeds the parser what `buffer` already holds (a pipelined request, or the bytes that ended
// a keep-alive wait), so a request that arrived whole needs no further read. Leaves `ec` set
// to a parse error only; needing more input is not one.
void parse_buffered(Parser& parser, beast::flat_buffer& buffer, beast::error_code& ec) {
  parser.eager(true);
  while (buffer.size() > 0 && !parser.is_done()) {
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == beast_http::error::need_more) {
      ec = {};
      return;
    }
    if (ec || used == 0) return;
  }
}

// The one read deadline rule, the same for every request of a connection: a request starts
// when the connection is ready for it (the first one as soon as the connection is open and, on
// TLS, its handshake done; a later one at its first byte, which an idle kept-alive connection
// may wait up to idle_timeout for) and must then arrive whole, header and body, within
// read_timeout (a client sending a header line every few seconds is cut: slowloris).
// `kept_alive`: a request was answered on this connection before. Returns the read error,
// none when `parser` holds a whole request.
template <class Stream>
asio::awaitable<beast::error_code> read_request(Stream& stream, beast::flat_buffer& buffer,
                                                Parser& parser, const Limits& limits,
                                                bool kept_alive) {
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
  parser.body_limit(limits.body_bytes);
  auto& tcp = beast::get_lowest_layer(stream);
  if (kept_alive && buffer.size() == 0) {  // idle until the next request starts
    tcp.expires_after(limits.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(
        buffer.prepare(beast::read_size(buffer, 64 * 1024)), use_tuple);
    if (ec) co_return ec;  // closed by the peer, idle for too long, or shutting down
    buffer.commit(n);
  }
  beast::error_code ec;
  parse_buffered(parser, buffer, ec);
  if (!ec && !parser.is_done()) {
    // The request has started and is not whole yet: the rest within read_timeout. (A request
    // already whole in the buffer needs no read, so no deadline: write_response sets its own.)
    tcp.expires_after(limits.read_timeout);
    auto [rec, n] = co_await beast_http::async_read(stream, buffer, parser, use_tuple);
    ec = rec;
  }
  co_return ec;
}

// Writes an answer; a peer that stops reading gets read_timeout, as a slow sender does.
template <class Stream>
asio::awaitable<beast::error_code> write_response(
    Stream& stream, beast_http::response<beast_http::string_body>& res, const Limits& limits) {
  beast::get_lowest_layer(stream).expires_after(limits.read_timeout);
  auto [ec, n] = co_await beast_http::async_write(stream, res, use_tuple);
  co_return ec;
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

template <class Stream>
asio::awaitable<void> close_connection(Stream& stream, bool drain_input) {
  auto& tcp = beast::get_lowest_layer(stream);
  if constexpr (kTls<Stream>) {
    // RFC 8446 §6.1: each party MUST send a "close_notify" alert before closing its write
    // side; "It is not required for the initiator of the close to wait for the responding
    // close_notify alert before closing the read side". Marking the peer's as received makes
    // SSL_shutdown send ours and finish without waiting.
    SSL_set_shutdown(stream.native_handle(), SSL_RECEIVED_SHUTDOWN);
    tcp.expires_after(std::chrono::seconds(1));
    co_await stream.async_shutdown(use_tuple);
  }
  if (drain_input) co_await linger(tcp);
  beast::error_code ec;
  tcp.socket().shutdown(tcp::socket::shutdown_send, ec);
  tcp.close();
}

}  // namespace

Server::Server(asio::io_context& ioc, Handler handler, ServerOptions options)
    : ioc_(ioc),
      handler_(std::move(handler)),
      opt_(std::move(options)),
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

namespace {

// Accept errors that mean "out of a resource", not "this one connection failed": the
// pending connection stays queued, so accepting again at once fails again at once (a busy
// loop). EMFILE, ENFILE, ENOBUFS, ENOMEM.
// Accept errors come from the system category, so the value is the errno: compared as a
// number, with no virtual call into the error category. (The back-off path still makes other
// virtual calls, so UBSan's vptr check, which needs a pipe, stays blind while descriptors are
// exhausted; the test of this path runs in make test only.)
bool resource_exhausted(const beast::error_code& ec) {
  const int e = ec.value();
  return (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) &&
         &ec.category() == &boost::system::system_category();
}

const char* exhausted_reason(const beast::error_code& ec) {
  switch (ec.value()) {
    case EMFILE:
      return "Too many open files";
    case ENFILE:
      return "Too many open files in system";
    case ENOBUFS:
      return "No buffer space available";
    default:
      return "Cannot allocate memory";
  }
}

}  // namespace

asio::awaitable<void> Server::accept_loop() {
  asio::steady_timer backoff(acceptor_.get_executor());
  bool backing_off = false;
  while (!stopping_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::make_strand(ioc_), use_tuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) break;
      if (resource_exhausted(ec)) {
        // Keep serving the connections we have; retry once some have closed. One log line
        // per burst (until an accept succeeds again), not one per retry.
        if (!backing_off && opt_.events) {
          opt_.events({"warn", "accept backing off", "", exhausted_reason(ec)});
        }
        backing_off = true;
        backoff.expires_after(kAcceptBackoff);
        co_await backoff.async_wait(use_tuple);
      }
      continue;  // e.g. ECONNABORTED: that connection is gone, the next one may be fine
    }
    backing_off = false;
    // Counted from accept, before any handshake: a connection over the limit costs no TLS
    // handshake (closed at once) and, on plain http, only a short 503.
    ConnectionSlot slot(connections_);
    const bool over_limit = slot.count_at_start() > limits_.max_connections;
    if (over_limit && opt_.tls) {
      beast::error_code ignored;
      socket.close(ignored);
      continue;
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // the peer may already have reset it
    auto spawn = [&](auto conn) {
      {
        std::lock_guard lk(conns_mu_);
        if (conns_.size() >= 1024 && conns_.size() % 1024 == 0) {
          conns_.remove_if([](const std::weak_ptr<ConnBase>& w) { return w.expired(); });
        }
        conns_.push_back(conn);
      }
      asio::co_spawn(conn->tcp().get_executor(), session(conn, std::move(slot), over_limit),
                     asio::detached);
    };
    if (opt_.tls) {
      spawn(std::make_shared<Conn<TlsStream>>(std::move(socket), opt_.tls->current()));
    } else {
      spawn(std::make_shared<Conn<PlainStream>>(std::move(socket)));
    }
  }
}

template <class Stream>
asio::awaitable<void> Server::session(std::shared_ptr<Conn<Stream>> conn,
                                      [[maybe_unused]] ConnectionSlot slot, bool over_limit) {
  // `slot` is held, not read: the connection counts until this frame ends.
  auto& stream = conn->stream;
  if constexpr (kTls<Stream>) {
    conn->tcp().expires_after(limits_.handshake_timeout);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, use_tuple);
    if (ec) {  // a scanner, a plain-http client, a refused version or suite, a timeout
      conn->tcp().close();
      co_return;
    }
  }
  bool drain_input = false;
  if (over_limit) {
    auto res = to_beast(Response::text(503, "Too many connections\n"), 11, false,
                        kTls<Stream> ? opt_.hsts : "");
    co_await write_response(stream, res, limits_);
  } else {
    drain_input = co_await serve_requests(*conn);
  }
  co_await close_connection(stream, drain_input);
}

template <class Stream>
asio::awaitable<bool> Server::serve_requests(Conn<Stream>& conn) {
  auto& stream = conn.stream;
  const std::string_view hsts = kTls<Stream> ? std::string_view(opt_.hsts) : std::string_view();
  beast::error_code ec;
  const auto peer = conn.tcp().socket().remote_endpoint(ec).address();
  const std::string peer_ip = peer.to_string();
  beast::flat_buffer buffer;
  bool kept_alive = false;

  while (!stopping_) {
    Parser parser;
    const beast::error_code rec =
        co_await read_request(stream, buffer, parser, limits_, kept_alive);
    int refusal = rec ? status_for(rec) : transfer_coding_refusal(parser.get());
    if (rec && refusal == 0) co_return false;
    if (refusal != 0) {
      auto reason = beast_http::obsolete_reason(static_cast<beast_http::status>(refusal));
      auto res = to_beast(Response::text(refusal, std::string(reason) + "\n"), 11, false, hsts);
      co_await write_response(stream, res, limits_);
      co_return true;
    }
    conn.busy = true;
    auto started = std::chrono::steady_clock::now();
    Request req{parser.release(), peer_ip};
    if (!opt_.proxies.empty()) req.remote_ip = opt_.proxies.client_address(peer, peer_ip, req.msg);
    Response r;
    try {
      r = co_await handler_(req);
    } catch (const std::exception&) {
      r = failed(req, {});
    }
    r = guard_headers(std::move(r), req);
    const bool keep_alive = req.msg.keep_alive() && !stopping_;
    int status = r.status;
    std::string client_id = std::move(r.log_client_id);
    auto res = to_beast(std::move(r), req.msg.version(), keep_alive, hsts);
    if (req.msg.method() == beast_http::verb::head) res.body().clear();
    const beast::error_code wec = co_await write_response(stream, res, limits_);
    conn.busy = false;
    if (opt_.access_log) {
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count();
      opt_.access_log({req.method(), req.path(), status, ms, client_id, req.remote_ip});
    }
    if (wec || !keep_alive) co_return false;
    kept_alive = true;
  }
  co_return false;
}

namespace {
// The name of the first header the server must not send (see valid_header_name), or null.
const std::string* invalid_header(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (!valid_header_name(name) || !valid_header_value(value)) return &name;
  }
  return nullptr;
}
}  // namespace

Response Server::guard_headers(Response r, const Request& req) const {
  const std::string* refused = invalid_header(r);
  if (!refused) return r;
  if (opt_.events) {
    opt_.events({"error", "refused a response header that could split the response", req.path(),
                 std::string_view(*refused).substr(0, 64)});
  }
  return failed(req, std::move(r.log_client_id));
}

Response Server::failed(const Request& req, std::string log_client_id) const {
  std::optional<Response> page;
  if (opt_.server_error) page = opt_.server_error(req);
  Response r = page && page->status == 500 && !invalid_header(*page)
                   ? std::move(*page)
                   : Response::text(500, "Internal Server Error\n");
  r.log_client_id = std::move(log_client_id);
  return r;
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
          asio::post(c->tcp().get_executor(), [c] {
            beast::error_code ignored;
            c->tcp().socket().cancel(ignored);
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
          while (*connections_ > 0 && std::chrono::steady_clock::now() < deadline) {
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(use_tuple);
          }
          done();
        },
        asio::detached);
  });
}

}  // namespace stagepass::http
