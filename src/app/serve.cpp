#include "app/serve.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "app/abuse_responder.hpp"
#include "app/accounts_node.hpp"
#include "app/api_node.hpp"
#include "app/background.hpp"
#include "app/demo.hpp"
#include "app/error_pages.hpp"
#include "app/jwks_client.hpp"
#include "app/listeners.hpp"
#include "app/pruner.hpp"
#include "app/revocation_follower.hpp"
#include "http/offload.hpp"
#include "http/server.hpp"
#include "monitor/log.hpp"
#include "monitor/usage_aggregator.hpp"
#include "music/demo_library.hpp"
#include "music/sqlite/sqlite_music_store.hpp"
#include "store/postgresql/pg_revocation_log.hpp"
#include "store/sqlite/sqlite_revocation_log.hpp"
#include "store/write_batches.hpp"

namespace stagepass {
namespace asio = boost::asio;
using http::Request;
using http::Response;
using Awaitable = asio::awaitable<Response>;

namespace {

// Writes `uses`, grants' "last used" times drained from `usage`, kRowsPerWrite grants per
// transaction (so the writer takes the requests' writes in between); on failure those not
// written go back into `usage` for the next flush. Blocking: run it from Background or after
// the I/O threads stopped.
void flush_usage(UsageAggregator::Uses uses, UsageAggregator& usage, GrantStore& store) {
  if (uses.empty()) return;
  store.order_grant_usage(uses);
  auto done = write_in_batches(
      uses, [&](const UsageAggregator::Uses& batch) { return store.record_grant_usage(batch); });
  if (!done.status) {
    usage.restore(done.left);
    log::event("warn", "grant usage not recorded",
               {{"grants", done.left.size()}, {"error", done.status.error().message}});
  }
}

// issue15:abuse: the detectors' settings, from the configuration.
AbuseSettings abuse_settings(const Config& cfg) {
  AbuseSettings a;
  a.refresh_reuse = {cfg.abuse_refresh_reuse_threshold, cfg.abuse_refresh_reuse_window};
  a.token_ips = {cfg.abuse_token_ips_threshold, cfg.abuse_token_ips_window};
  a.burst_factor = cfg.abuse_burst_factor;
  a.burst_min_requests = cfg.abuse_burst_min_requests;
  a.invalid_client = {cfg.abuse_invalid_client_threshold, cfg.abuse_invalid_client_window};
  a.stuffing = {cfg.abuse_stuffing_threshold, cfg.abuse_stuffing_window};
  a.max_tracked_keys = cfg.tunables.abuse_tracked_keys;
  a.block_guessing_sources = cfg.abuse_invalid_client_block;
  return a;
}

// Writes the usage buckets changed since the last save (and drops those older than 30 days);
// on failure they are not kept: a live app's are marked again by the next fold that touches
// them, an app evicted from memory meanwhile loses them, and so does a restart before that
// fold. Blocking: Background or after shutdown.
// kRowsPerWrite buckets per transaction, as flush_usage.
void save_usage(AppUsage& usage, UsageStore& store, int64_t now) {
  auto rows = usage.dirty_rows();
  if (rows.empty()) return;
  auto done = write_in_batches(rows, [&](const std::vector<AppUsageRow>& batch) {
    return store.save_usage(batch, now, AppUsage::retention_seconds());
  });
  if (!done.status) {
    log::event("warn", "app usage not saved",
               {{"rows", done.left.size()}, {"error", done.status.error().message}});
  }
}

// issue16:revlog. The revocations log an api-only node reads: a small read-only reader of the
// accounts database (PostgreSQL: a pool of 2 connections; SQLite: the file, when it is on this
// machine), or none (revocations made elsewhere are then not seen; tokens expire).
std::unique_ptr<RevocationLog> api_revocation_log(const Config& cfg) {
  if (is_postgresql_url(cfg.database)) {
    return std::make_unique<postgresql::PgRevocationLog>(cfg.database, 2);
  }
  auto log = sqlite::SqliteRevocationLog::open(cfg.database);
  if (log) return std::move(*log);
  log::event("warn", "api-only node: no accounts database to follow revocations from",
             {{"error", log.error().message}});
  return nullptr;
}

}  // namespace

int serve(const Config& cfg, bool demo) {
  // SIGHUP's default action ends the process. It means "reload the certificate" (with TLS,
  // handled below once the listeners exist); until then, and without TLS, it is ignored.
  std::signal(SIGHUP, SIG_IGN);
  log::init(cfg.access_log);
  if (!cfg.serves_accounts()) {
    if (auto problem = jwks_issuer_problem(cfg.issuer)) throw std::runtime_error(*problem);
  }
  const int io_threads =
      cfg.threads > 0 ? cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  asio::io_context ioc(io_threads);
  Listeners listeners(ioc, cfg);  // refuses bad listener settings before any slow start-up
  SystemRandom random;
  SystemClock clock;
  Metrics metrics;
  asio::thread_pool store_pool(std::max(1, cfg.store_threads));
  asio::thread_pool commit_pool(std::max(1, cfg.commit_threads));
  asio::thread_pool cpu_pool(std::max(1, io_threads / 2));
  const Tunables& tune = cfg.tunables;
  RevocationSet revoked(cfg.access_token_ttl + cfg.clock_skew, tune.revoked_grants_capacity,
                        cfg.clock_skew);
  Background background(tune.background_tick);
  http::Router router;

  // Profiles live in the music store (the Web API never reads the accounts database), so the
  // accounts role writes them there too.
  music::SqliteMusicStore music(cfg.music_database, cfg.store_readers());
  auto on_user_created = [&music](const User& u) {
    if (auto r = music.upsert_profile({u.id, u.display_name, u.email, u.country, u.product, 0});
        !r) {
      log::event("error", "cannot publish the profile to the Web API",
                 {{"user_id", u.id}, {"error", r.error().message}});
    }
  };
  // "Last used" of grants, noted by the Web API and flushed to the accounts store every 5 s,
  // each grant at most once a minute (only when this node runs the accounts role: an api-only
  // node has no accounts store).
  UsageAggregator usage(tune.usage_resolution_seconds);
  // issue15:abuse: per-app usage windows and the abuse detectors, fed by the request path
  // (O(1) notes), folded and judged by Background once a tick. An api-only node keeps its
  // own counts in memory (and in /metrics); only an accounts node persists them and acts.
  AppUsage app_usage(tune.usage_max_apps);
  AbuseDetector abuse(abuse_settings(cfg));
  std::unique_ptr<AbuseResponder> responder;
  std::unique_ptr<AccountsNode> accounts;
  std::unique_ptr<Pruner> pruner;
  // issue17:prune, accounts nodes. Declared after the pruner: stopped (joined) before it goes.
  Background prune_background(tune.background_tick);
  // Accounts nodes: the usage flushes, on a thread of their own. A flush hands the store many
  // small transactions in turn (write_in_batches), each waiting for its group commit: on a
  // busy SQLite writer that may take a second, which must not delay the revocation poll, key
  // pickup or abuse checks of the shared background thread.
  Background usage_background(tune.background_tick);
  std::unique_ptr<ApiNode> api;
  if (cfg.serves_accounts()) {
    const Secret master_key = cfg.resolve_master_key();
    accounts = std::make_unique<AccountsNode>(cfg, master_key, random, clock, revoked, store_pool,
                                              commit_pool, cpu_pool, metrics, on_user_created);
    accounts->watch(&abuse, &app_usage);
    accounts->register_routes(router);
    if (auto rows = accounts->store().load_usage(clock.now() - AppUsage::retention_seconds())) {
      app_usage.load(*rows, clock.now());
    } else {
      log::event("warn", "app usage history not loaded", {{"error", rows.error().message}});
    }
    responder = std::make_unique<AbuseResponder>(
        abuse, accounts->store(), accounts->store(), accounts->revoker(), accounts->audit(),
        [&] { accounts->poll_revocations(); }, clock,
        AbuseActions{cfg.abuse_refresh_reuse_suspend, cfg.abuse_token_ips_suspend,
                     cfg.abuse_burst_suspend, cfg.access_token_ttl, 3600, cfg.clock_skew});
    // A rotation written by `admin keys rotate` (another process) is picked up within a tick
    // (key_schedule.hpp: kKeyPickupSeconds); this node's Web API verifies with the same keys.
    background.add([&] {
      if (accounts->refresh_keys() && api) api->set_keys(accounts->keys());
    });
    background.add([&] { accounts->refresh_origins(); }, tune.origins_refresh_ticks);
    usage_background.add([&] { flush_usage(usage.drain(clock.now()), usage, accounts->store()); },
                         tune.usage_flush_ticks);
    usage_background.add([&] { accounts->flush_secret_usage(); }, tune.usage_flush_ticks);
    usage_background.add([&] { save_usage(app_usage, accounts->store(), clock.now()); },
                         tune.app_usage_save_ticks);
    // issue17:prune. Accounts nodes only: an api-only node has no accounts store to prune.
    pruner = std::make_unique<Pruner>(
        accounts->store(), clock, metrics,
        PruneSettings{cfg.prune_interval, cfg.prune_margin, cfg.refresh_reuse_window,
                      cfg.refresh_reuse_keep, cfg.audit_retention});
    // Its own thread: a pass may take seconds on a large store, and must not delay the
    // revocation feed, key pickup or usage flushes of the shared background thread.
    prune_background.add([&] { pruner->run(); });
  }
  background.add([&] {
    app_usage.fold(clock.now());
    abuse.check_bursts(app_usage, clock.now());
    if (responder) {
      responder->run();
    } else {
      for (const auto& f : abuse.drain()) {  // api-only: no store to act on; logged
        log::event("warn", "abuse signal", {{"type", f.type}, {"client_id", f.client_id}});
      }
    }
  });
  // issue16:revlog. Every node follows the revocations log: on each notification (PostgreSQL)
  // and every poll interval (app/revocation_follower.hpp).
  auto waker = make_revocation_waker(cfg);
  std::unique_ptr<RevocationLog> api_log;
  std::unique_ptr<RevocationFeed> api_feed;
  std::function<void()> follow;
  if (accounts) {
    follow = [&] { accounts->poll_revocations(); };
  } else if (cfg.serves_api() && (api_log = api_revocation_log(cfg))) {
    api_feed = std::make_unique<RevocationFeed>(*api_log, revoked, clock,
                                                cfg.access_token_ttl + 2 * cfg.clock_skew,
                                                cfg.clock_skew + tune.revocation_lookback_seconds);
    follow = [&] { api_feed->poll(); };
  }
  // The feed this node follows, if any: /readyz waits for its first read of the log.
  const RevocationFeed* feed = accounts ? &accounts->revocation_feed() : api_feed.get();
  std::unique_ptr<RevocationFollower> follower;
  if (follow) {
    follower = std::make_unique<RevocationFollower>(
        *waker, follow,
        std::chrono::milliseconds(std::max<int64_t>(10, cfg.revocation_poll_interval)));
  }
  if (cfg.serves_api()) {
    api::UsageHook on_use;
    if (accounts) {
      on_use = [&usage, &clock](const api::Principal& p) { usage.note(p.grant_id, clock.now()); };
    }
    // Per-app rate limits come with the tokens ("rl"): the Web API reads no accounts data.
    api::RequestObserver observe = [&app_usage, &abuse](const api::Principal& p, const Request& req,
                                                        int status, int64_t now_ms) {
      const std::string_view user = p.is_user() ? std::string_view(p.sub) : std::string_view();
      app_usage.note(p.client_id, group_for_path(req.path()), status, user, p.grant_id);
      abuse.note_token_use(p.jti, p.client_id, p.grant_id, user, req.remote_ip, now_ms / 1000);
    };
    api = std::make_unique<ApiNode>(cfg, clock, random, music, revoked, metrics, store_pool,
                                    accounts ? accounts->keys() : nullptr, std::move(on_use),
                                    std::move(observe));
    api->register_routes(router);
    if (!accounts) {
      background.add([&] { api->refresh_jwks(); });
      api->wake_jwks_with([&background] { background.poke(); });
    }
  }
  if (demo) {
    if (!accounts || !api)
      throw std::runtime_error("--demo needs the accounts and api roles (STAGEPASS_ROLES=all)");
    const Secret master_key = cfg.resolve_master_key();
    auto info = demo::seed(accounts->store(), random, clock, master_key);
    auto user = accounts->store().find_user_by_email(info.email);
    if (user) {
      on_user_created(*user);
      if (auto r = music::seed_demo_library(music, user->id, clock.now_ms()); !r) {
        throw std::runtime_error("cannot seed the demo library: " + r.error().message);
      }
    }
    std::cout << demo::banner(info, cfg) << std::flush;
  }

  // With STAGEPASS_ADMIN_LISTEN, /metrics and /readyz are served only there (the public
  // listener answers 404); /healthz stays on both.
  http::Router admin_router;
  http::Router& ops = listeners.has_admin() ? admin_router : router;
  http::Handler healthz = [](Request&) -> Awaitable {
    co_return Response::json(200, R"({"status":"ok"})");
  };
  router.add("GET", "/healthz", healthz);
  if (listeners.has_admin()) admin_router.add("GET", "/healthz", healthz);
  ops.add("GET", "/readyz", [&](Request&) -> Awaitable {
    // A node that follows the revocations log is not ready before its first read of it: it
    // would accept tokens revoked elsewhere. After that an outage of the log leaves an
    // api-only node ready (its Web API keeps serving on what it knows; issue 16), watched
    // through stagepass_revocation_feed_age_seconds.
    if (feed && !feed->loaded()) {
      co_return Response::json(503, R"({"status":"revocations not loaded"})");
    }
    auto check = [&] { return (!accounts || accounts->store().ping()) && music.ping(); };
    bool ok = co_await http::offload(store_pool, check);
    co_return ok ? Response::json(200, R"({"status":"ready"})")
                 : Response::json(503, R"({"status":"store unavailable"})");
  });
  if (feed) {
    metrics.describe("stagepass_revocation_feed_age_seconds", "gauge",
                     "Seconds since this node last read the revocations log");
    metrics.gauge("stagepass_revocation_feed_age_seconds", [feed] { return double(feed->age()); });
  }
  metrics.describe("stagepass_http_connections", "gauge", "Open connections, every listener");
  metrics.gauge("stagepass_http_connections",
                [&] { return double(listeners.active_connections()); });
  metrics.describe("stagepass_revoked_grants", "gauge", "Grants in this node's revocation set");
  metrics.gauge("stagepass_revoked_grants", [&] { return double(revoked.size()); });
  // Non-zero: the revocation set was full and refuses every token issued up to then.
  metrics.gauge("stagepass_revocation_set_overflows", [&] { return double(revoked.overflows()); });
  metrics.describe("stagepass_abuse_findings_dropped", "gauge",
                   "Abuse findings dropped because the queue was full");
  metrics.gauge("stagepass_abuse_findings_dropped", [&] { return double(abuse.dropped()); });
  metrics.describe("stagepass_abuse_untracked", "gauge",
                   "Abuse-detector keys not tracked because a detector's table was full");
  metrics.gauge("stagepass_abuse_untracked", [&] { return double(abuse.untracked()); });
  metrics.describe("stagepass_app_usage_evictions", "gauge",
                   "Apps whose usage windows were evicted from memory to make room (LRU)");
  metrics.gauge("stagepass_app_usage_evictions", [&] { return double(app_usage.evictions()); });
  ops.add("GET", "/metrics", [&](Request&) -> Awaitable {
    // The per-app usage series (bounded: the tracked apps, fixed groups and windows).
    auto r = Response{200,
                      {{"Content-Type", "text/plain; version=0.0.4"}},
                      metrics.render() + app_usage.prometheus(clock.now()),
                      {}};
    co_return r;
  });

  add_error_pages(router);
  listeners.start([&router](Request& r) { return router.route(r); },
                  [&admin_router](Request& r) { return admin_router.route(r); },
                  [&router](const Request& r) { return router.server_error(r); });
  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    log::event("info", "shutting down", {{"connections", listeners.active_connections()}});
    listeners.stop([&ioc] { ioc.stop(); });
  });
  // SIGHUP (with TLS only): reload the certificate and key, e.g. after a renewal. Without
  // TLS the signal stays ignored.
  asio::signal_set hup(ioc);
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      asio::post(store_pool, [&listeners] { listeners.reload_tls(); });
      wait_hup();
    });
  };
  if (cfg.tls()) {
    hup.add(SIGHUP);
    wait_hup();
  }
  background.start();
  prune_background.start();
  usage_background.start();
  if (follower) follower->start();
  log::event("info", "listening",
             {{"listen", cfg.listen},
              {"tls", cfg.tls()},
              {"admin_listen", cfg.admin_listen},
              {"http_redirect_listen", cfg.http_redirect_listen},
              {"issuer", cfg.issuer},
              {"roles", cfg.roles},
              {"threads", io_threads}});

  // A handler that throws is a bug; log it and keep serving rather than lose the process.
  auto run = [&ioc] {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log::event("error", "unhandled exception in an I/O handler", {{"error", e.what()}});
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 1; i < io_threads; ++i) threads.emplace_back(run);
  run();
  for (auto& t : threads) t.join();
  background.stop();
  prune_background.stop();
  usage_background.stop();
  if (follower) follower->stop();
  if (accounts) {
    flush_usage(usage.drain_all(), usage, accounts->store());
    accounts->flush_secret_usage();
    app_usage.fold(clock.now());
    save_usage(app_usage, accounts->store(), clock.now());
  }
  store_pool.join();
  commit_pool.join();
  cpu_pool.join();
  log::event("info", "stopped");
  return 0;
}

}  // namespace stagepass
