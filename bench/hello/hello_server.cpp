// stagepass-bench-hello: a bare HTTP/1.1 server that answers every request
// `200 text/plain "hello"`. It measures the HTTP ceiling of the machine: it has the
// product server's I/O model (one io_context run by N threads, one C++20 coroutine per
// connection on its own strand, keep-alive, a read timeout and a body limit) and does no
// work per request, so `stagepass rps / hello rps` is the share left after OAuth work.
//
// With --sign it does one thing per request: it signs a JWT-sized message (the claims of a
// stagepass access token, ~260 bytes, a counter making each one new) with Ed25519 (libsodium,
// as stagepass does) and answers the claims and the base64url signature (~350 bytes, about a
// token response). That is the bound of a grant: a server that mints one EdDSA token per
// request and does nothing else.
//
// Usage: stagepass-bench-hello --listen 127.0.0.1:8080 [--threads N] [--sign]
// Prints one line at startup and nothing per request; stops on SIGINT/SIGTERM.
#ifndef BOOST_ASIO_NO_DEPRECATED
#define BOOST_ASIO_NO_DEPRECATED
#endif

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kBodyLimit = 64 * 1024;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// --sign: the key pair made at startup, and a counter that makes every signed message new.
bool g_sign = false;
unsigned char g_secret_key[crypto_sign_SECRETKEYBYTES];
std::atomic<std::uint64_t> g_counter{0};

// An access token's worth of claims and its base64url signature.
std::string signed_body() {
  char claims[400];
  const int n = std::snprintf(
      claims, sizeof claims,
      "eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6IjIwMjYtMTItMDQifQ."
      "{\"iss\":\"http://127.0.0.1:8080\",\"sub\":\"bench-client\",\"aud\":\"stagepass-api\","
      "\"client_id\":\"bench-client\",\"scope\":\"\",\"iat\":1764800000,\"exp\":1764803600,"
      "\"jti\":\"%022llu\",\"rl\":1000000000}",
      static_cast<unsigned long long>(g_counter.fetch_add(1, std::memory_order_relaxed)));
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(claims),
                       static_cast<unsigned long long>(n), g_secret_key);
  char out[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, sig, sizeof sig, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(claims, static_cast<size_t>(n)) + "." + out;
}

// One connection: read a request, answer "hello", repeat while keep-alive holds.
// Any error (EOF, timeout, malformed request, body over the limit) closes the connection.
asio::awaitable<void> serve_connection(beast::tcp_stream stream) {
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    stream.expires_after(kReadTimeout);
    auto [read_ec, read_n] = co_await http::async_read(stream, buffer, parser, kUseTuple);
    if (read_ec) break;

    const auto& request = parser.get();
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::content_type, "text/plain");
    response.keep_alive(request.keep_alive());
    response.body() = g_sign ? signed_body() : "hello";
    response.prepare_payload();

    stream.expires_after(kReadTimeout);  // the same bound for a client that stops reading
    auto [write_ec, write_n] = co_await http::async_write(stream, response, kUseTuple);
    if (write_ec || response.need_eof()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

// Accepts until the io_context stops; each socket gets its own strand because
// beast::tcp_stream's timer and socket must not be touched from two threads at once.
asio::awaitable<void> accept_loop(tcp::acceptor acceptor) {
  for (;;) {
    auto strand = asio::make_strand(acceptor.get_executor());
    auto [ec, socket] = co_await acceptor.async_accept(strand, kUseTuple);
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;  // e.g. ECONNABORTED: the next accept may succeed
    auto executor = socket.get_executor();
    asio::co_spawn(executor, serve_connection(beast::tcp_stream(std::move(socket))),
                   asio::detached);
  }
}

// "HOST:PORT" -> endpoint; throws std::exception on malformed input.
tcp::endpoint parse_endpoint(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) throw std::invalid_argument("expected HOST:PORT");
  const auto address = asio::ip::make_address(std::string(text.substr(0, colon)));
  const auto port = std::stoul(std::string(text.substr(colon + 1)));
  if (port > 65535) throw std::invalid_argument("port out of range");
  return {address, static_cast<unsigned short>(port)};
}

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s --listen HOST:PORT [--threads N] [--sign]\n", argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--sign") {
      g_sign = true;
      continue;
    }
    if (i + 1 >= argc) return usage(argv[0]);
    if (arg == "--listen") {
      listen = argv[++i];
    } else if (arg == "--threads") {
      threads = std::max(1, std::atoi(argv[++i]));
    } else {
      return usage(argv[0]);
    }
  }

  if (g_sign) {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    if (sodium_init() < 0) return 1;
    crypto_sign_keypair(public_key, g_secret_key);
  }
  try {
    asio::io_context ioc{static_cast<int>(threads)};
    tcp::acceptor acceptor{ioc, parse_endpoint(listen)};
    const auto bound = acceptor.local_endpoint();
    asio::co_spawn(ioc, accept_loop(std::move(acceptor)), asio::detached);

    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });

    std::printf("stagepass-bench-hello listening on %s:%u with %u threads%s\n",
                bound.address().to_string().c_str(), unsigned{bound.port()}, threads,
                g_sign ? ", signing every answer" : "");
    std::fflush(stdout);

    std::vector<std::thread> pool;
    pool.reserve(threads - 1);
    for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& thread : pool) thread.join();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "stagepass-bench-hello: %s\n", e.what());
    return 1;
  }
  return 0;
}
