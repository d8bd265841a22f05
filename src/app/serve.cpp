#include "app/serve.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <iostream>
#include <thread>

#include "app/demo.hpp"
#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "http/offload.hpp"
#include "http/server.hpp"
#include "monitor/log.hpp"
#include "oauth/grants/authorization_code.hpp"
#include "oauth/grants/client_credentials.hpp"
#include "oauth/grants/refresh_token.hpp"
#include "oauth/metadata.hpp"
#include "oauth/token_endpoint.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "web/site.hpp"

namespace stagepass {
namespace asio = boost::asio;
using http::Request;
using http::Response;
using Awaitable = asio::awaitable<Response>;

namespace {

asio::ip::tcp::endpoint parse_listen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) throw std::runtime_error("STAGEPASS_LISTEN must be host:port");
  std::string host = listen.substr(0, colon);
  if (host.size() > 1 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("STAGEPASS_LISTEN host must be an IP address: " + host);
  int port = std::stoi(listen.substr(colon + 1));
  return {addr, static_cast<unsigned short>(port)};
}

Response static_json(const std::string& body, const char* cache) {
  auto r = Response::json(200, body);
  r.header("Cache-Control", cache);
  r.header("Access-Control-Allow-Origin", "*");
  return r;
}

}  // namespace

int serve(const Config& cfg, bool demo) {
  log::init(cfg.access_log);
  SystemRandom random;
  SystemClock clock;
  const Secret master_key = cfg.resolve_master_key();
  sqlite::SqliteStore store(cfg.database, cfg.store_threads);
  auto keys = Keyring::load_or_create(store, master_key, random, clock);

  oauth::OAuthSettings settings{cfg.issuer,           cfg.effective_audience(), cfg.access_token_ttl,
                                cfg.refresh_token_ttl, cfg.refresh_idle_ttl,     cfg.refresh_grace,
                                cfg.code_ttl};
  oauth::Services services{store, keys, clock, random, settings};

  std::optional<demo::DemoInfo> demo_info;
  if (demo) demo_info = demo::seed(store, random, clock, master_key);

  oauth::TokenEndpoint tokens(services);
  tokens.add_grant(std::make_unique<oauth::AuthorizationCodeGrant>(services));
  tokens.add_grant(std::make_unique<oauth::RefreshTokenGrant>(services));
  tokens.add_grant(std::make_unique<oauth::ClientCredentialsGrant>(services));
  const std::string metadata = oauth::metadata_json(settings, tokens.grant_types());
  const std::string jwks = keys->jwks_json();

  const int io_threads = cfg.threads > 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::thread_pool store_pool(std::max(1, cfg.store_threads));
  asio::thread_pool cpu_pool(std::max(1, io_threads / 2));

  http::Router router;
  router.add("GET", "/healthz", [](Request&) -> Awaitable { co_return Response::json(200, R"({"status":"ok"})"); });
  router.add("GET", "/readyz", [&](Request&) -> Awaitable {
    auto work = [&] { return store.ping(); };
    bool ok = co_await http::offload(store_pool, work);
    co_return ok ? Response::json(200, R"({"status":"ready"})")
                 : Response::json(503, R"({"status":"store unavailable"})");
  });
  for (const char* path : {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
    router.add("GET", path, [&](Request&) -> Awaitable { co_return static_json(metadata, "public, max-age=300"); });
  }
  router.add("GET", "/.well-known/jwks.json", [&](Request&) -> Awaitable {
    co_return static_json(jwks, "public, max-age=300");
  });
  router.add("POST", "/api/token", [&](Request& req) -> Awaitable {
    if (req.header_count("Authorization") > 1) {
      co_return oauth::OAuthError::invalid_request("more than one Authorization header").to_response();
    }
    oauth::TokenRequest tr{std::string(req.header("Content-Type")),
                           std::string(req.header("Authorization")), std::move(req.msg.body())};
    auto work = [&] { return tokens.handle(tr); };
    co_return co_await http::offload(store_pool, work);
  });

  web::Site site(services, store_pool, cpu_pool, base64url_encode(crypto::hmac_sha256(master_key.reveal(), "csrf")),
                 {cfg.issuer.starts_with("https://")},
                 {cfg.login_max_failures, cfg.login_max_failures * 4, 15 * 60, 100000});
  site.register_routes(router);

  http::Limits limits;
  limits.body_bytes = static_cast<size_t>(cfg.max_body_bytes);
  limits.header_bytes = static_cast<size_t>(cfg.max_header_bytes);
  limits.max_connections = static_cast<size_t>(cfg.max_connections);
  http::AccessLogger access;
  if (cfg.access_log) {
    access = [](const http::AccessRecord& r) {
      log::event("info", "request",
                 {{"method", r.method}, {"path", r.path}, {"status", r.status},
                  {"latency_ms", r.latency_ms}, {"client_id", r.client_id}, {"ip", r.remote_ip}});
    };
  }

  asio::io_context ioc(io_threads);
  http::Server server(ioc, limits, [&router](Request& r) { return router.route(r); }, access);
  server.listen(parse_listen(cfg.listen));
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::event("info", "shutting down", {{"connections", server.active_connections()}});
    server.stop([&ioc] { ioc.stop(); });
  });

  if (demo_info) std::cout << demo::banner(*demo_info, cfg) << std::flush;
  log::event("info", "listening", {{"listen", cfg.listen}, {"issuer", cfg.issuer}, {"threads", io_threads}});

  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : threads) t.join();
  store_pool.join();
  cpu_pool.join();
  log::event("info", "stopped");
  return 0;
}

}  // namespace stagepass
