#include "app/jwks_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace stagepass {

std::shared_ptr<const Keyring> fetch_jwks(const std::string& issuer, std::string& error) {
  namespace beast = boost::beast;
  namespace bhttp = beast::http;
  namespace asio = boost::asio;
  if (!issuer.starts_with("http://")) {
    error = "only http:// issuers can be fetched (got " + issuer + ")";
    return nullptr;
  }
  std::string rest = issuer.substr(7);
  std::string authority = rest.substr(0, rest.find('/'));
  std::string base_path = rest.size() > authority.size() ? rest.substr(authority.size()) : "";
  std::string host = authority, port = "80";
  if (auto colon = authority.rfind(':'); colon != std::string::npos && authority.back() != ']') {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  try {
    asio::io_context ioc;
    asio::ip::tcp::resolver resolver(ioc);
    beast::tcp_stream stream(ioc);
    stream.expires_after(std::chrono::seconds(5));
    stream.connect(resolver.resolve(host, port));
    bhttp::request<bhttp::empty_body> req{bhttp::verb::get, base_path + "/.well-known/jwks.json",
                                          11};
    req.set(bhttp::field::host, authority);
    req.set(bhttp::field::user_agent, "stagepass-api");
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(1 << 20);
    bhttp::read(stream, buffer, parser);
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    auto res = parser.release();
    if (res.result_int() != 200) {
      error = "JWKS answered HTTP " + std::to_string(res.result_int());
      return nullptr;
    }
    auto keys = Keyring::from_jwks(res.body());
    if (!keys) error = "JWKS holds no usable Ed25519 key";
    return keys;
  } catch (const std::exception& e) {
    error = std::string("cannot fetch JWKS: ") + e.what();
    return nullptr;
  }
}

}  // namespace stagepass
