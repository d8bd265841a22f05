#include "loopback.hpp"

#include <sodium.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <list>
#include <optional>

#include "http_client.hpp"

namespace stagepass::sdk::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

// Connection slots: at most kMaxConnections are served at once. A connection that has not
// sent its first byte within kFirstByteDeadline is closed, and every connection is closed
// kRequestDeadline after it was accepted. When the slots are full, a new connection takes the
// slot of the oldest one that has not sent a byte yet (else of the oldest one): a browser
// sends its whole request at once, so a local process holding slots with silent sockets
// cannot keep the browser's answer out.
constexpr size_t kMaxConnections = 16;
constexpr std::chrono::seconds kFirstByteDeadline{2};
constexpr std::chrono::seconds kRequestDeadline{10};

// Members that connections use are declared before `ioc`, so they outlive the coroutine
// frames that destroying `ioc` destroys.
struct LoopbackListener::Impl {
  // One accepted connection. Owned by its serve() frame; listed in `open` while it lives.
  struct Connection {
    Connection(tcp::socket socket, std::list<Connection*>& open)
        : stream(std::move(socket)), open(open) {
      open.push_back(this);
    }
    ~Connection() { open.remove(this); }
    beast::tcp_stream stream;
    std::list<Connection*>& open;
    bool heard = false;  // it has sent at least one byte
  };

  std::string path;
  std::string host;  // "127.0.0.1:PORT", the only Host the browser may name
  unsigned short port = 0;
  bool used = false;
  // While wait() runs:
  std::string state;
  const std::function<CallbackPage(const Params&)>* page = nullptr;
  std::optional<Params> result;
  std::list<Connection*> open;  // oldest first
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};

  asio::awaitable<void> accept_loop();
  // Closes the connection whose slot a new one takes (see kMaxConnections).
  void make_room();
  asio::awaitable<void> serve(std::unique_ptr<Connection> conn);
  // The page for one request; sets `result` when it is the answer waited for.
  http::response<http::string_body> answer(const http::request<http::empty_body>& req);
};

namespace {

Params parse_query(std::string_view query) {
  Params out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (name && value && !out.contains(*name)) out.emplace(*name, *value);
  }
  return out;
}

std::string escape_html(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

http::response<http::string_body> page_response(int status, const std::string& message) {
  http::response<http::string_body> res{static_cast<http::status>(status), 11};
  res.set(http::field::content_type, "text/html; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.set("Content-Security-Policy", "default-src 'none'");
  res.set(http::field::connection, "close");
  res.body() =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>Stagepass</title></head>"
      "<body><p>" +
      escape_html(message) + "</p></body></html>";
  res.prepare_payload();
  return res;
}

// RFC 6749 §10.12: the state binds the answer to this request. Constant time, like any
// comparison with a secret; lengths are not secret (the state is always 22 characters).
bool same_state(const std::string& got, const std::string& want) {
  return !want.empty() && got.size() == want.size() &&
         sodium_memcmp(got.data(), want.data(), want.size()) == 0;
}

}  // namespace

asio::awaitable<void> LoopbackListener::Impl::accept_loop() {
  auto token = asio::as_tuple(asio::use_awaitable);
  while (!result) {
    auto [ec, socket] = co_await acceptor.async_accept(token);
    if (ec) co_return;  // the acceptor was closed
    if (open.size() >= kMaxConnections) make_room();
    asio::co_spawn(ioc, serve(std::make_unique<Connection>(std::move(socket), open)),
                   asio::detached);
  }
}

void LoopbackListener::Impl::make_room() {
  auto victim = std::find_if(open.begin(), open.end(), [](Connection* c) { return !c->heard; });
  if (victim == open.end()) victim = open.begin();
  Connection* c = *victim;
  open.erase(victim);  // its slot is free now; its serve() ends when it sees the close
  beast::error_code ignored;
  c->stream.socket().close(ignored);
}

asio::awaitable<void> LoopbackListener::Impl::serve(std::unique_ptr<Connection> conn) {
  auto token = asio::as_tuple(asio::use_awaitable);
  beast::tcp_stream& stream = conn->stream;
  const auto give_up_at = std::chrono::steady_clock::now() + kRequestDeadline;
  beast::flat_buffer buffer;
  // The first bytes, within kFirstByteDeadline; they stay in `buffer` for the parser.
  stream.expires_after(kFirstByteDeadline);
  auto [fec, first] = co_await stream.async_read_some(buffer.prepare(4096), token);
  if (fec) co_return;
  buffer.commit(first);
  conn->heard = true;
  stream.expires_at(give_up_at);
  http::request_parser<http::empty_body> parser;
  parser.header_limit(16 * 1024);
  auto [rec, n] = co_await http::async_read(stream, buffer, parser, token);
  if (rec) co_return;
  const bool waiting = !result;
  auto res = answer(parser.get());
  const bool answered_here = waiting && result;
  co_await http::async_write(stream, res, token);
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (answered_here) ioc.stop();  // the browser has its page: wait() can return
}

http::response<http::string_body> LoopbackListener::Impl::answer(
    const http::request<http::empty_body>& req) {
  // RFC 8252 §8.3 / DNS rebinding: a page whose name now points at 127.0.0.1 reaches this
  // port with its own name in Host. Only the address the app registered is answered.
  if (req.count(http::field::host) != 1 || req[http::field::host] != host) {
    return page_response(421, "Misdirected request.");
  }
  std::string_view target = req.target();
  auto q = target.find('?');
  if (req.method() != http::verb::get || target.substr(0, q) != path) {
    return page_response(404, "Not found.");
  }
  Params params = parse_query(q == std::string_view::npos ? "" : target.substr(q + 1));
  auto state_it = params.find("state");
  if (result || state_it == params.end() || !same_state(state_it->second, state)) {
    return page_response(400,
                         "This is not the answer the app is waiting for. You can close this "
                         "page; the sign-in that is in progress goes on.");
  }
  CallbackPage shown = (*page)(params);
  result = std::move(params);
  return page_response(shown.status, shown.message);
}

LoopbackListener::LoopbackListener(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoopbackListener::~LoopbackListener() = default;

Result<std::unique_ptr<LoopbackListener>> LoopbackListener::open(std::string path) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(path);
  boost::system::error_code ec;
  // RFC 8252 §8.3: listen on the loopback interface only.
  tcp::endpoint ep(asio::ip::make_address_v4("127.0.0.1"), 0);
  impl->acceptor.open(ep.protocol(), ec);
  if (!ec) impl->acceptor.bind(ep, ec);
  if (!ec) impl->acceptor.listen(16, ec);
  if (ec) return Error{ErrorKind::network, "cannot listen on 127.0.0.1: " + ec.message()};
  impl->port = impl->acceptor.local_endpoint().port();
  impl->host = "127.0.0.1:" + std::to_string(impl->port);
  return std::unique_ptr<LoopbackListener>(new LoopbackListener(std::move(impl)));
}

std::string LoopbackListener::redirect_uri() const { return "http://" + impl_->host + impl_->path; }

Result<Params> LoopbackListener::wait(std::chrono::seconds timeout, const std::string& state,
                                      const std::function<CallbackPage(const Params&)>& page) {
  Impl& s = *impl_;
  if (s.used) return Error{ErrorKind::usage, "a loopback listener waits only once"};
  s.used = true;
  s.state = state;
  s.page = &page;
  asio::co_spawn(s.ioc, s.accept_loop(), asio::detached);
  s.ioc.restart();
  s.ioc.run_for(timeout);
  s.ioc.stop();
  boost::system::error_code ignored;
  s.acceptor.close(ignored);  // nobody else is answered; leftover connections end with us
  s.page = nullptr;
  if (!s.result) {
    return Error{ErrorKind::timeout, "nobody came back to " + redirect_uri() + " within " +
                                         std::to_string(timeout.count()) + " s"};
  }
  return std::move(*s.result);
}

}  // namespace stagepass::sdk::detail
