#include "app/jwks_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <charconv>
#include <chrono>
#include <exception>

namespace stagepass {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

struct IssuerUrl {
  bool https = false;
  std::string host;       // without brackets
  std::string port;       // "443" / "80" when absent
  std::string authority;  // as written, for the Host header
  std::string base_path;  // "" or "/path"
};

std::optional<IssuerUrl> parse_issuer(const std::string& issuer) {
  IssuerUrl u;
  u.https = issuer.starts_with("https://");
  if (!u.https && !issuer.starts_with("http://")) return std::nullopt;
  std::string rest = issuer.substr(u.https ? 8 : 7);
  u.authority = rest.substr(0, rest.find_first_of("/?#"));
  u.base_path = rest.substr(u.authority.size());
  if (u.authority.empty() || u.authority.find('@') != std::string::npos) return std::nullopt;
  u.port = u.https ? "443" : "80";
  std::string hostport = u.authority;
  if (hostport.front() == '[') {
    auto close = hostport.find(']');
    if (close == std::string::npos) return std::nullopt;
    u.host = hostport.substr(1, close - 1);
    if (close + 1 < hostport.size()) {
      if (hostport[close + 1] != ':') return std::nullopt;
      u.port = hostport.substr(close + 2);
    }
  } else if (auto colon = hostport.rfind(':'); colon != std::string::npos) {
    u.host = hostport.substr(0, colon);
    u.port = hostport.substr(colon + 1);
  } else {
    u.host = hostport;
  }
  if (u.host.empty() || u.port.empty() ||
      u.port.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return u;
}

bool is_loopback_host(const std::string& host) {
  if (host == "localhost") return true;
  boost::system::error_code ec;
  auto a = asio::ip::make_address(host, ec);
  if (ec) return false;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).is_loopback();
  }
  return a.is_loopback();
}

template <class Stream>
asio::awaitable<bhttp::response<bhttp::string_body>> get(Stream& stream, const IssuerUrl& u,
                                                         size_t max_bytes) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, u.base_path + "/.well-known/jwks.json",
                                        11};
  req.set(bhttp::field::host, u.authority);
  req.set(bhttp::field::user_agent, "stagepass-api");
  co_await bhttp::async_write(stream, req, asio::use_awaitable);
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  co_await bhttp::async_read(stream, buffer, parser, asio::use_awaitable);
  co_return parser.release();
}

// One GET of the JWKS document, over TLS when the issuer is https. Throws on failure.
asio::awaitable<bhttp::response<bhttp::string_body>> fetch(const IssuerUrl& u,
                                                           std::chrono::seconds deadline,
                                                           size_t max_bytes) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(ex);
  auto endpoints = co_await resolver.async_resolve(u.host, u.port, asio::use_awaitable);
  if (!u.https) {
    beast::tcp_stream stream(ex);
    stream.expires_after(deadline);
    co_await stream.async_connect(endpoints, asio::use_awaitable);
    co_return co_await get(stream, u, max_bytes);
  }
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_default_verify_paths();  // honours SSL_CERT_FILE / SSL_CERT_DIR
  ctx.set_verify_mode(asio::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ex, ctx);
  SSL* ssl = stream.native_handle();
  boost::system::error_code ec;
  asio::ip::make_address(u.host, ec);
  const bool is_ip = !ec;
  // The issuer's name is checked by OpenSSL during verification: a DNS name against the
  // certificate's dNSName entries only, never its subject CN (RFC 6125 §6.4.4; a certificate
  // naming only IP:127.0.0.1 and CN=localhost is not valid for https://localhost, which
  // asio's host_name_verification accepted), an address against its iPAddress entries.
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
  if (is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), u.host.c_str()) != 1
            : SSL_set1_host(ssl, u.host.c_str()) != 1) {
    throw std::runtime_error("cannot check the issuer's certificate against " + u.host);
  }
  // RFC 6066 §3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
  if (!is_ip) SSL_set_tlsext_host_name(ssl, u.host.c_str());
  auto& tcp = beast::get_lowest_layer(stream);
  tcp.expires_after(deadline);
  co_await tcp.async_connect(endpoints, asio::use_awaitable);
  auto [hec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                               asio::as_tuple(asio::use_awaitable));
  if (hec) {
    // The handshake error says only "certificate verify failed"; the operator needs why.
    long why = SSL_get_verify_result(ssl);
    std::string what = hec.message();
    if (why != X509_V_OK) what += std::string(" (") + X509_verify_cert_error_string(why) + ")";
    throw std::runtime_error(what);
  }
  co_return co_await get(stream, u, max_bytes);
}

}  // namespace

std::optional<std::string> jwks_issuer_problem(const std::string& issuer) {
  auto u = parse_issuer(issuer);
  if (!u) return "cannot fetch the JWKS: STAGEPASS_ISSUER is not an http(s) URL: " + issuer;
  if (!u->https && !is_loopback_host(u->host)) {
    return "the api role fetches the issuer's keys only over https unless the issuer is a "
           "loopback address; got STAGEPASS_ISSUER=" +
           issuer;
  }
  return std::nullopt;
}

int64_t cache_control_max_age(std::string_view value) {
  // Directives are comma-separated and case-insensitive (RFC 9111 §5.2).
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view d = value.substr(start, end - start);
    while (!d.empty() && (d.front() == ' ' || d.front() == '\t')) d.remove_prefix(1);
    while (!d.empty() && (d.back() == ' ' || d.back() == '\t')) d.remove_suffix(1);
    constexpr std::string_view kName = "max-age=";
    if (d.size() > kName.size() && beast::iequals(d.substr(0, kName.size()), kName)) {
      d.remove_prefix(kName.size());
      if (d.size() >= 2 && d.front() == '"' && d.back() == '"') d = d.substr(1, d.size() - 2);
      int64_t n = -1;
      auto [p, ec] = std::from_chars(d.data(), d.data() + d.size(), n);
      return ec == std::errc() && p == d.data() + d.size() && n >= 0 ? n : -1;
    }
    start = end + 1;
  }
  return -1;
}

std::shared_ptr<const Keyring> fetch_jwks(const std::string& issuer, std::chrono::seconds deadline,
                                          size_t max_bytes, std::string& error, int64_t* max_age) {
  if (auto problem = jwks_issuer_problem(issuer)) {
    error = *problem;
    return nullptr;
  }
  const IssuerUrl u = *parse_issuer(issuer);
  asio::io_context ioc;
  std::optional<bhttp::response<bhttp::string_body>> res;
  std::exception_ptr failure;
  asio::co_spawn(ioc, fetch(u, deadline, max_bytes), [&](std::exception_ptr e, auto r) {
    failure = e;
    if (!e) res.emplace(std::move(r));
  });
  ioc.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      error = std::string("cannot fetch JWKS: ") + e.what();
    }
    return nullptr;
  }
  if (res->result_int() != 200) {
    error = "JWKS answered HTTP " + std::to_string(res->result_int());
    return nullptr;
  }
  auto keys = Keyring::from_jwks(res->body());
  if (!keys) error = "JWKS holds no usable Ed25519 key";
  if (max_age) *max_age = cache_control_max_age((*res)[bhttp::field::cache_control]);
  return keys;
}

}  // namespace stagepass
