#include "app/api_node.hpp"

#include "api/endpoints/web_api.hpp"
#include "app/jwks_client.hpp"
#include "monitor/log.hpp"
#include "music/catalog_generator.hpp"

namespace stagepass {

ApiNode::ApiNode(const Config& cfg, const Clock& clock, Random& random, music::MusicStore& music,
                 RevocationSet& revoked, Metrics& metrics, boost::asio::thread_pool& store_pool,
                 std::shared_ptr<const Keyring> keys, api::UsageHook on_use,
                 api::RequestObserver observe)
    : cfg_(cfg),
      clock_(clock),
      music_(music),
      verifier_(keys ? keys : std::make_shared<const Keyring>(std::vector<OpenKey>{}),
                VerifyOptions{cfg.issuer, cfg.effective_audience(), 0, cfg.clock_skew}, clock,
                random, revoked, static_cast<size_t>(cfg.token_cache_size)),
      jwks_(
          clock, {cfg.jwks_refresh, cfg.tunables.jwks_unknown_kid_refetch_seconds},
          [&cfg] {
            JwksRefresher::Fetched got;
            got.keys = fetch_jwks(cfg.issuer, cfg.tunables.jwks_fetch_timeout,
                                  cfg.tunables.jwks_max_bytes, got.error, &got.max_age);
            return got;
          },
          [this](std::shared_ptr<const Keyring> keys) { verifier_.set_keys(std::move(keys)); },
          [&cfg](const std::string& error) {
            log::event("error", "JWKS refresh failed", {{"issuer", cfg.issuer}, {"error", error}});
          }) {
  auto catalog = music::ensure_catalog(music_, {music::CatalogOptions{}.seed, cfg.catalog_scale});
  if (!catalog) throw std::runtime_error("cannot generate the catalog: " + catalog.error().message);
  log::event("info", "catalog ready",
             {{"generated", catalog->generated},
              {"ms", catalog->elapsed_ms},
              {"tracks", catalog->counts.tracks}});
  if (auto ready = music_.prepare_search(); !ready) {
    log::event("warn", "search ranking keys not loaded", {{"error", ready.error().message}});
  }
  api::register_web_api(routes_, music_, random);
  gateway_ =
      std::make_unique<api::Gateway>(routes_, verifier_, limiter_, metrics, store_pool, clock,
                                     api::GatewaySettings{cfg.effective_audience(), cfg.rate_limit,
                                                          cfg.api_daily_quota, cfg.api_nodes},
                                     std::move(on_use), std::move(observe));
  if (!keys) {
    verifier_.on_unknown_key([this] { jwks_.unknown_kid(); });
    jwks_.run(true);
  }
  metrics.describe("stagepass_token_cache_entries", "gauge", "Verified access tokens cached");
  metrics.gauge("stagepass_token_cache_entries",
                [this] { return double(verifier_.cache().size()); });
  metrics.describe("stagepass_token_cache_hits_total", "counter",
                   "Bearer checks answered by the cache");
  metrics.gauge("stagepass_token_cache_hits_total",
                [this] { return double(verifier_.stats().cache_hits.load()); });
  metrics.describe("stagepass_token_cache_misses_total", "counter",
                   "Bearer checks that verified a signature");
  metrics.gauge("stagepass_token_cache_misses_total",
                [this] { return double(verifier_.stats().cache_misses.load()); });
}

void ApiNode::register_routes(http::Router& router) {
  router.add_prefix("/v1/", [this](http::Request& req) { return gateway_->handle(req); });
}

}  // namespace stagepass
