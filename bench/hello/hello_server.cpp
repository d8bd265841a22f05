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
// With --durable FILE it also waits, before each answer, for one row to be durable: the
// signed token's digest and claims, inserted into the SQLite database FILE. One writer thread
// commits, in one transaction, every row that queued while its previous commit ran, and only
// then wakes their requests (group commit). It is stagepass's accounts writer without the
// rest: WAL, synchronous=FULL, and the writer's checkpoint interval, page cache, group bound
// and raised priority from src/store/sqlite/writer_settings.hpp. That is the bound of a
// durable grant on this disk: a server that mints one token and makes one new row durable per
// request, and does nothing else (stagepass reads before it writes: a rotation reads its
// chain's row and the grant, then rewrites that one row; a code exchange marks the code spent
// and inserts the new chain's row). `GET /metrics` answers the writer's busy and COMMIT
// seconds under stagepass's series names, and the thread has the name of stagepass's writer,
// so the harness reports how busy it was.
//
// With --verify it checks the Ed25519 signature of the request's bearer token (the
// "Authorization: Bearer header.payload.signature" of a JWT) and answers "hello", or 401 when
// the signature does not verify. That is the bound of a Web API call with a token never seen
// before: a server that verifies one signature per request and does nothing else. The key
// pair comes from the 64 hex digits of HELLO_KEY_SEED (environment, not argv), and
// `--mint N` makes the tokens: it reads one token from stdin and prints N tokens of exactly
// its length, each a different message (a counter in its last characters) signed with that
// key. Nothing is parsed but the signature: the claims are only bytes to verify.
//
// HELLO_DURABLE_COMMIT_DELAY_MS=N (bench/hello/smoke.py only) pauses N ms before every COMMIT.
//
// Usage: stagepass-bench-hello --listen 127.0.0.1:8080 [--threads N]
//                              [--sign | --durable FILE | --verify]
//        HELLO_KEY_SEED=<64 hex> stagepass-bench-hello --mint N < sample-token
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
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "durable_log.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using stagepass::bench::DurableLog;

constexpr auto kReadTimeout = std::chrono::seconds(30);
constexpr std::uint64_t kBodyLimit = 64 * 1024;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);

// --sign: the key pair made at startup, and a counter that makes every signed message new.
bool g_sign = false;
unsigned char g_secret_key[crypto_sign_SECRETKEYBYTES];
std::atomic<std::uint64_t> g_counter{0};

// --verify: the public key of the pair HELLO_KEY_SEED makes.
bool g_verify = false;
unsigned char g_public_key[crypto_sign_PUBLICKEYBYTES];

// An access token's worth of claims and its base64url signature.
struct Signed {
  std::string token;
  unsigned char digest[crypto_generichash_BYTES];  // of the signature (--durable): the row's key
};

std::unique_ptr<DurableLog> g_durable;  // --durable

Signed signed_body() {
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
  Signed s{std::string(claims, static_cast<size_t>(n)) + "." + out, {}};
  if (g_durable) crypto_generichash(s.digest, sizeof s.digest, sig, sizeof sig, nullptr, 0);
  return s;
}

// Resumes the calling coroutine, on its own executor, once `row` is durable (true) or its
// transaction failed (false).
asio::awaitable<bool> make_durable(const Signed& row) {
  bool committed = false;
  co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
      [&](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        g_durable->append(std::string(reinterpret_cast<const char*>(row.digest), sizeof row.digest),
                          row.token.substr(0, row.token.rfind('.')), [&committed, shared](bool ok) {
                            committed = ok;
                            auto executor = asio::get_associated_executor(*shared);
                            asio::post(executor, [shared] { (*shared)(); });
                          });
      },
      asio::use_awaitable);
  co_return committed;
}

// True when `authorization` is "Bearer M.S" with S the base64url Ed25519 signature of M under
// g_public_key (M: the JWT's header and payload, dot included).
bool verifies(std::string_view authorization) {
  constexpr std::string_view kScheme = "Bearer ";
  if (!authorization.starts_with(kScheme)) return false;
  const std::string_view token = authorization.substr(kScheme.size());
  const auto dot = token.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view encoded = token.substr(dot + 1);
  unsigned char sig[crypto_sign_BYTES];
  size_t sig_len = 0;
  if (sodium_base642bin(sig, sizeof sig, encoded.data(), encoded.size(), nullptr, &sig_len, nullptr,
                        sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
      sig_len != sizeof sig) {
    return false;
  }
  return crypto_sign_verify_detached(sig, reinterpret_cast<const unsigned char*>(token.data()), dot,
                                     g_public_key) == 0;
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
    if (g_durable && request.method() == http::verb::get && request.target() == "/metrics") {
      http::response<http::string_body> metrics{http::status::ok, request.version()};
      metrics.set(http::field::content_type, "text/plain; version=0.0.4");
      metrics.keep_alive(request.keep_alive());
      metrics.body() = g_durable->metrics();
      metrics.prepare_payload();
      stream.expires_after(kReadTimeout);
      auto [ec, n] = co_await http::async_write(stream, metrics, kUseTuple);
      if (ec || metrics.need_eof()) break;
      continue;
    }
    const bool refused = g_verify && !verifies(request[http::field::authorization]);
    std::optional<Signed> minted;
    if (g_sign) minted = signed_body();
    const bool lost = g_durable && !co_await make_durable(*minted);
    http::response<http::string_body> response{refused ? http::status::unauthorized
                                               : lost  ? http::status::internal_server_error
                                                       : http::status::ok,
                                               request.version()};
    response.set(http::field::content_type, "text/plain");
    response.keep_alive(request.keep_alive());
    response.body() = minted && !lost ? std::move(minted->token)
                      : lost          ? "not durable"
                      : refused       ? "bad signature"
                                      : "hello";
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
  std::fprintf(stderr,
               "usage: %s --listen HOST:PORT [--threads N] [--sign | --durable FILE | --verify]\n"
               "       HELLO_KEY_SEED=<64 hex> %s --mint N < sample-token\n",
               argv0, argv0);
  return 2;
}

// The key pair of HELLO_KEY_SEED (32 bytes as 64 hex digits); false when it is missing or
// malformed.
bool key_pair_from_env(unsigned char* public_key, unsigned char* secret_key) {
  const char* hex = std::getenv("HELLO_KEY_SEED");
  unsigned char seed[crypto_sign_SEEDBYTES];
  size_t seed_len = 0;
  if (!hex || std::string_view(hex).size() != 2 * sizeof seed ||
      sodium_hex2bin(seed, sizeof seed, hex, 2 * sizeof seed, nullptr, &seed_len, nullptr) != 0 ||
      seed_len != sizeof seed) {
    std::fprintf(stderr, "HELLO_KEY_SEED must be 64 hex digits (a 32-byte seed)\n");
    return false;
  }
  crypto_sign_seed_keypair(public_key, secret_key, seed);
  sodium_memzero(seed, sizeof seed);
  return true;
}

// --mint N: N tokens as long as the sample on stdin ("M.S"), each M with its last 20
// characters replaced by a zero-padded counter (digits are base64url characters), signed.
int mint(unsigned long long count) {
  std::string sample;
  if (!std::getline(std::cin, sample)) return 1;
  // header.payload.signature, the counter inside the payload.
  const auto first_dot = sample.find('.');
  const auto dot = sample.rfind('.');
  if (first_dot == std::string::npos || dot == first_dot || dot - first_dot - 1 < 20) {
    std::fprintf(stderr,
                 "--mint: the sample on stdin is not a JWT with a payload of 20+ characters\n");
    return 2;
  }
  std::string message = sample.substr(0, dot);
  unsigned char sig[crypto_sign_BYTES];
  char encoded[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  for (unsigned long long i = 0; i < count; ++i) {
    char counter[21];
    std::snprintf(counter, sizeof counter, "%020llu", i);
    message.replace(message.size() - 20, 20, counter);
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                         message.size(), g_secret_key);
    sodium_bin2base64(encoded, sizeof encoded, sig, sizeof sig,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    std::printf("%s.%s\n", message.c_str(), encoded);
  }
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:8080";
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  long long mint_count = -1;
  std::string durable_path;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--sign") {
      g_sign = true;
      continue;
    }
    if (arg == "--verify") {
      g_verify = true;
      continue;
    }
    if (i + 1 >= argc) return usage(argv[0]);
    if (arg == "--listen") {
      listen = argv[++i];
    } else if (arg == "--durable") {
      durable_path = argv[++i];
      if (durable_path.empty()) return usage(argv[0]);
      g_sign = true;  // a durable grant mints its token too
    } else if (arg == "--threads") {
      threads = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--mint") {
      const char* text = argv[++i];
      char* end = nullptr;
      errno = 0;
      mint_count = std::strtoll(text, &end, 10);
      if (end == text || *end != '\0' || errno != 0 || mint_count < 0) return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  if (g_sign && g_verify) return usage(argv[0]);

  if (sodium_init() < 0) return 1;
  if (mint_count >= 0) {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    if (!key_pair_from_env(public_key, g_secret_key)) return 2;
    return mint(static_cast<unsigned long long>(mint_count));
  }
  if (g_sign) {
    unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
    crypto_sign_keypair(public_key, g_secret_key);
  }
  if (g_verify) {
    if (!key_pair_from_env(g_public_key, g_secret_key)) return 2;
    sodium_memzero(g_secret_key, sizeof g_secret_key);  // verifying needs the public key only
  }
  try {
    if (!durable_path.empty()) {
      // HELLO_DURABLE_COMMIT_DELAY_MS: the smoke test's pause before every COMMIT.
      const char* delay = std::getenv("HELLO_DURABLE_COMMIT_DELAY_MS");
      g_durable = std::make_unique<DurableLog>(
          durable_path, std::chrono::milliseconds(delay ? std::max(0, std::atoi(delay)) : 0));
    }
    asio::io_context ioc{static_cast<int>(threads)};
    // Stops the writer before the io_context goes, however this block is left: its last
    // batch posts to a stopped io_context, never to a destroyed one.
    struct StopWriter {
      StopWriter() = default;
      StopWriter(const StopWriter&) = delete;
      StopWriter& operator=(const StopWriter&) = delete;
      ~StopWriter() { g_durable.reset(); }
    } stop_writer;
    if (g_durable) {
      g_durable->set_waker([&ioc](std::vector<DurableLog::Done> dones, bool committed) {
        asio::post(ioc, [dones = std::move(dones), committed] {
          for (const auto& done : dones) done(committed);
        });
      });
    }
    tcp::acceptor acceptor{ioc, parse_endpoint(listen)};
    const auto bound = acceptor.local_endpoint();
    asio::co_spawn(ioc, accept_loop(std::move(acceptor)), asio::detached);

    asio::signal_set signals{ioc, SIGINT, SIGTERM};
    signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });

    std::printf("stagepass-bench-hello listening on %s:%u with %u threads%s\n",
                bound.address().to_string().c_str(), unsigned{bound.port()}, threads,
                g_durable  ? ", signing every answer and committing a row for it"
                : g_sign   ? ", signing every answer"
                : g_verify ? ", verifying every bearer token"
                           : "");
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
