// ApiNode: the resource-server role of a node: the music store, the token verifier (keys
// from this node's accounts role, or fetched from the issuer's JWKS with --roles api), the
// rate limiter (per-app limits come with the tokens) and the Web API gateway under /v1.
// Built by serve(); lives until shutdown. It reads no accounts database.
// Lifetime: `cfg`, `clock`, `random`, `music`, `revoked`, `metrics` and `store_pool` must
// outlive the node.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>

#include "api/gateway.hpp"
#include "app/config.hpp"
#include "http/router.hpp"
#include "music/music_store.hpp"
#include "tokens/token_verifier.hpp"

namespace stagepass {

class ApiNode {
 public:
  // `keys` null: fetch them from the issuer (api-only role). `on_use` (optional) hears of
  // every successful user-token call (see api::UsageHook); `observe` (optional) of every
  // answer to a verified token (api::RequestObserver: per-app usage, abuse signals).
  ApiNode(const Config& cfg, const Clock& clock, Random& random, music::MusicStore& music,
          RevocationSet& revoked, Metrics& metrics, boost::asio::thread_pool& store_pool,
          std::shared_ptr<const Keyring> keys, api::UsageHook on_use = {},
          api::RequestObserver observe = {});

  void register_routes(http::Router& router);
  // Background chore of the api-only role: refetch the JWKS when due or when a token named
  // an unknown key (at most every 10 s).
  void refresh_jwks(bool force);

 private:
  const Config& cfg_;
  const Clock& clock_;
  music::MusicStore& music_;
  api::ApiRoutes routes_;
  RateLimiter limiter_;
  TokenVerifier verifier_;
  std::unique_ptr<api::Gateway> gateway_;
  std::atomic<int64_t> last_jwks_fetch_{0};
  std::atomic<bool> unknown_key_seen_{false};
};

}  // namespace stagepass
