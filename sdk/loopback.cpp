#include "loopback.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "http_client.hpp"

namespace stagepass::sdk::detail {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

struct LoopbackListener::Impl {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::string path;
  unsigned short port = 0;
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

}  // namespace

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
  return std::unique_ptr<LoopbackListener>(new LoopbackListener(std::move(impl)));
}

std::string LoopbackListener::redirect_uri() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port) + impl_->path;
}

Result<Params> LoopbackListener::wait(std::chrono::seconds timeout,
                                      const std::function<CallbackPage(const Params&)>& page) {
  std::optional<Params> result;
  auto serve = [&]() -> asio::awaitable<void> {
    auto token = asio::as_tuple(asio::use_awaitable);
    while (!result) {
      auto [aec, socket] = co_await impl_->acceptor.async_accept(token);
      if (aec) co_return;
      beast::tcp_stream stream(std::move(socket));
      stream.expires_after(std::chrono::seconds(10));
      beast::flat_buffer buffer;
      http::request_parser<http::empty_body> parser;
      parser.header_limit(16 * 1024);
      auto [rec, n] = co_await http::async_read(stream, buffer, parser, token);
      if (rec) continue;
      const auto& req = parser.get();
      std::string_view target = req.target();
      auto q = target.find('?');
      std::string_view path = target.substr(0, q);
      http::response<http::string_body> res;
      if (req.method() != http::verb::get || path != impl_->path) {
        res = page_response(404, "Not found.");
      } else {
        Params params = parse_query(q == std::string_view::npos ? "" : target.substr(q + 1));
        CallbackPage answer = page(params);
        res = page_response(answer.status, answer.message);
        result = std::move(params);
      }
      co_await http::async_write(stream, res, token);
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  };
  asio::co_spawn(impl_->ioc, serve, asio::detached);
  impl_->ioc.restart();
  impl_->ioc.run_for(timeout);
  impl_->ioc.stop();
  if (!result) {
    return Error{ErrorKind::timeout, "nobody came back to " + redirect_uri() + " within " +
                                         std::to_string(timeout.count()) + " s"};
  }
  return std::move(*result);
}

}  // namespace stagepass::sdk::detail
