// AccountsNode: the authorization-server role of a node: store, signing keys, token endpoint,
// pages, metadata, JWKS, and the revocation feed that tells this node's Web API about
// revoked grants. Built by serve(); lives until shutdown.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "app/config.hpp"
#include "app/revocation_feed.hpp"
#include "http/router.hpp"
#include "monitor/audit.hpp"
#include "monitor/metrics.hpp"
#include "oauth/introspection_endpoint.hpp"
#include "oauth/revocation_endpoint.hpp"
#include "oauth/token_endpoint.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "tokens/revocation_set.hpp"
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
  std::shared_ptr<const Keyring> keys() const { return services_.keys; }
  // Chores for Background: the revocation feed and the registered web origins.
  void poll_revocations() { feed_.poll(); }
  void refresh_origins();

 private:
  bool origin_allowed(std::string_view origin) const;
  // POST form endpoints of the accounts API (/api/token, /api/revoke, /api/introspect): one
  // Authorization header at most, the work on the store pool (on the commit pool when
  // `commits` says the request waits for a durable commit), CORS for registered origins.
  using FormHandler = std::function<http::Response(const oauth::TokenRequest&)>;
  void add_form_endpoint(http::Router& router, const std::string& path, FormHandler handle,
                         std::function<bool(const oauth::TokenRequest&)> commits = {});
  void add_cors(const http::Request& req, http::Response& r) const;

  const Config& cfg_;
  sqlite::SqliteStore store_;
  AuditLog audit_;
  oauth::GrantRevoker revoker_;  // announces through feed_: declared before it, used after
  oauth::Services services_;
  RevocationFeed feed_;
  oauth::TokenEndpoint tokens_;
  oauth::RevocationEndpoint revocation_;
  oauth::IntrospectionEndpoint introspection_;
  std::unique_ptr<web::Site> site_;
  boost::asio::thread_pool& store_pool_;
  boost::asio::thread_pool& commit_pool_;
  std::string metadata_;
  mutable std::mutex origins_mu_;
  std::set<std::string, std::less<>> origins_;
};

}  // namespace stagepass
