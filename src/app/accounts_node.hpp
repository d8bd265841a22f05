// AccountsNode: the authorization-server role of a node: store, signing keys, token endpoint,
// pages, metadata, JWKS, and the revocation feed that tells this node's Web API about
// revoked grants. Built by serve(); lives until shutdown.
// Lifetime: keeps references to the Config, clock, random, revocation set, pools and metrics
// it is given; serve() owns them and outlives the node. Inside, members are declared in
// dependency order (store, audit, revoker, keys, services, feed, endpoints, site): each refers
// only to those above it, except the revoker's announce, which calls feed_ after construction.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <string>

#include "app/config.hpp"
#include "app/revocation_feed.hpp"
#include "app/store_factory.hpp"
#include "http/router.hpp"
#include "monitor/audit.hpp"
#include "monitor/metrics.hpp"
#include "oauth/app_access.hpp"
#include "oauth/cors.hpp"
#include "oauth/form_pipeline.hpp"
#include "oauth/introspection_endpoint.hpp"
#include "oauth/revocation_endpoint.hpp"
#include "oauth/secret_rotation.hpp"
#include "oauth/token_endpoint.hpp"
#include "tokens/revocation_set.hpp"
#include "tokens/signing_keys.hpp"
#include "web/site.hpp"

namespace stagepass {

class AccountsNode {
 public:
  using UserCreated = std::function<void(const User&)>;
  AccountsNode(const Config& cfg, const Secret& master_key, Random& random, const Clock& clock,
               RevocationSet& revoked, boost::asio::thread_pool& store_pool,
               boost::asio::thread_pool& commit_pool, boost::asio::thread_pool& cpu_pool,
               Metrics& metrics, UserCreated on_user_created);

  void register_routes(http::Router& router);
  Store& store() { return store_; }
  std::shared_ptr<const Keyring> keys() const { return keys_.current(); }
  // Chore for Background: rereads the signing keys (a rotation by `admin keys rotate` or the
  // schedule; retired keys deleted). True when the keyring in force changed.
  bool refresh_keys();
  // Chores for Background: the revocation feed, and the web origins the apps registered (fed
  // to the form endpoints' CORS policy).
  void poll_revocations() { feed_.poll(); }
  // issue16 (review fix): /readyz and stagepass_revocation_feed_age_seconds read it.
  const RevocationFeed& revocation_feed() const { return feed_; }
  void refresh_origins();
  // issue15:secrets. Chore: writes the client-secret uses noted since the last call (last use,
  // distinct IPs) in one transaction; on failure they are kept for the next call. Blocking.
  void flush_secret_usage();
  // issue15:secrets. Rotation and the live secrets with their last use, for the developer
  // pages (a hard cut reaches this node's revocation set before rotate() returns).
  const oauth::SecretRotation& secret_rotation() const { return secret_rotation_; }
  // issue15:abuse. Where the OAuth layer and the pages note abuse signals and token-endpoint
  // usage; call before register_routes() and before Background runs. Both must outlive the
  // node. issue15-fix:abuse: `usage` reads an evicted app's history back from this node's
  // store, and forgets an app as soon as the revocation feed sees it deleted.
  void watch(AbuseDetector* abuse, AppUsage* usage);
  const AuditLog& audit() const { return audit_; }
  const oauth::GrantRevoker& revoker() const { return revoker_; }

 private:
  const Config& cfg_;
  OpenedStore opened_;
  Store& store_;
  AuditLog audit_;
  SecretUsage secret_usage_;     // issue15:secrets: noted by client authentication
  oauth::GrantRevoker revoker_;  // announces through feed_: declared before it, used after
  SigningKeys keys_;
  oauth::Services services_;
  RevocationFeed feed_;
  oauth::SecretRotation secret_rotation_;  // announces through feed_: declared after it
  oauth::AppAccess app_access_;            // issue15:wire-ui: the dashboard's allowlist
  oauth::TokenEndpoint tokens_;
  oauth::RevocationEndpoint revocation_;
  oauth::IntrospectionEndpoint introspection_;
  oauth::CorsPolicy cors_;
  // Grants that write on the commit pool, the rest on the store pool; client credentials on
  // the I/O thread when the client is in memory.
  oauth::FormPipeline forms_;
  std::unique_ptr<web::Site> site_;
  std::string metadata_;
  std::string last_key_error_;  // refresh_keys() only (the Background thread)
};

}  // namespace stagepass
