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
#include "app/jwks_refresher.hpp"
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
  // an unknown key (app/jwks_refresher.hpp). `wake` (before serving) is called from a
  // verifying thread when an unknown kid may be fetched for at once (Background::poke).
  void refresh_jwks() { jwks_.run(); }
  void wake_jwks_with(std::function<void()> wake) { jwks_.wake_with(std::move(wake)); }
  // The keys of this node's accounts role after they changed (all-in-one node).
  void set_keys(std::shared_ptr<const Keyring> keys) { verifier_.set_keys(std::move(keys)); }

 private:
  const Config& cfg_;
  const Clock& clock_;
  music::MusicStore& music_;
  api::ApiRoutes routes_;
  RateLimiter limiter_;
  TokenVerifier verifier_;
  std::unique_ptr<api::Gateway> gateway_;
  JwksRefresher jwks_;  // used by the api-only role only
};

}  // namespace stagepass
