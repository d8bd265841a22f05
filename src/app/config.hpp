// Config: every setting of `stagepass serve` and `stagepass admin`, in one typed struct.
// Sources, later ones winning: the defaults, a TOML file (--config; keys are the field
// names), then STAGEPASS_* environment variables (the operator contract,
// docs/operations.md).
//
// Each setting's TOML key, variable, parser and bounds, default and meaning are declared
// once, in the table in app/config_table.cpp; the fields below only hold the values.
// Numbers that are policy but not settings live in `tunables` (app/tunables.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "app/tunables.hpp"
#include "core/secret.hpp"

namespace stagepass {

// True for a postgresql:// or postgres:// URL (libpq's two URI schemes): STAGEPASS_DATABASE
// names a PostgreSQL database rather than a SQLite file.
bool is_postgresql_url(std::string_view database);

struct Config {
  // Every field set to its default from the table (a default outside its setting's bounds
  // does not compile).
  Config();

  std::string listen;
  std::string issuer;
  std::string audience;  // empty: effective_audience() is <issuer>/v1
  std::string database;
  std::string database_replica;  // PostgreSQL hot standby for history reads, or empty
  std::string master_key_file;   // empty until load(): beside the database
  Secret master_key;             // env only
  int64_t access_token_ttl{};
  int64_t refresh_token_ttl{};
  int64_t refresh_idle_ttl{};
  int64_t refresh_grace{};
  int64_t code_ttl{};
  int threads{};  // 0: one per core
  int store_threads{};
  int commit_threads{};
  int writer_priority{};  // nice levels of the SQLite accounts writer above the other threads
  // Reader connections per SQLite database (each has its own page cache).
  int store_readers() const { return std::clamp(store_threads + commit_threads, 1, 8); }
  int login_max_failures{};
  int64_t max_body_bytes{};
  int64_t max_header_bytes{};
  int64_t max_connections{};
  bool access_log{};
  std::string roles;
  std::string music_database;  // empty until load(): beside the database
  double catalog_scale{};
  int64_t clock_skew{};
  int64_t rate_limit{};
  int64_t token_cache_size{};
  int64_t jwks_refresh{};
  int64_t session_ttl{};
  int64_t session_idle_ttl{};
  int signup_max_per_ip{};

  // TLS, listeners and proxies (docs/operations.md, "TLS, listeners and proxies").
  std::string tls_cert;
  std::string tls_key;
  bool insecure_http{};
  std::string http_redirect_listen;
  std::string admin_listen;
  std::string trusted_proxies;
  std::string forwarded_header;
  int64_t max_apps_per_user{};  // issue15:dashboard
  int dev_changes_per_hour{};   // issue15-fix:dashboard-throttle
  bool tls() const { return !tls_cert.empty(); }

  // issue15:devmode. People per allowlist of an app in development mode (oauth/app_access.hpp).
  int64_t dev_allowlist_limit{};
  // issue15:wire - Web API cost units per app per rolling 24 h (0: no daily quota).
  int64_t api_daily_quota{};
  // issue15:abuse: the abuse detectors' thresholds and automatic actions (docs/operations.md).
  int abuse_refresh_reuse_threshold{};
  int64_t abuse_refresh_reuse_window{};
  bool abuse_refresh_reuse_suspend{};
  int abuse_token_ips_threshold{};
  int64_t abuse_token_ips_window{};
  bool abuse_token_ips_suspend{};
  int abuse_burst_factor{};
  int64_t abuse_burst_min_requests{};
  bool abuse_burst_suspend{};
  int abuse_invalid_client_threshold{};
  int64_t abuse_invalid_client_window{};
  bool abuse_invalid_client_block{};  // issue15-fix:abuse: acts on the source, not the app
  int abuse_stuffing_threshold{};
  int64_t abuse_stuffing_window{};
  // Signing keys (issue15:keys; docs/operations.md, "Signing keys").
  int64_t jwks_max_age{};
  int64_t key_rotation{};              // seconds; 0: no scheduled rotation
  std::string revocation_push;         // issue16:revlog: notify | poll | empty (the default)
  int64_t revocation_poll_interval{};  // issue16:revlog: milliseconds
  // issue17:prune: the pruner (app/pruner.hpp; docs/operations.md, "Pruning").
  int64_t prune_interval{};        // seconds; 0: never prune
  int64_t prune_margin{};          // seconds past their end that codes, tokens and sessions stay
  int64_t refresh_reuse_window{};  // seconds a rotated refresh token is kept for reuse detection
  int refresh_reuse_keep{};        // rotated refresh tokens kept per grant, the newest
  int64_t audit_retention{};       // seconds; 0: audit events are kept
  // issue16:cluster. Nodes a round-robin balancer spreads the Web API over: each enforces
  // 1/api_nodes of every app's rate limit and daily quota (api/gateway.hpp, share_of).
  int64_t api_nodes{};

  bool serves_accounts() const { return roles == "all" || roles == "accounts"; }
  bool serves_api() const { return roles == "all" || roles == "api"; }

  // Not settings: the policy numbers fixed in the build, gathered in one place and handed
  // to the layers from here by the composition root.
  Tunables tunables;

  // Loads the file (if given) then the environment. Throws std::runtime_error with a clear
  // one-line message on a bad value.
  static Config load(const std::optional<std::string>& toml_file);
  // The 32-byte master key: from master_key, else from the key file, created with mode 0600
  // when absent. Throws on failure.
  Secret resolve_master_key() const;
  std::string effective_audience() const { return audience.empty() ? issuer + "/v1" : audience; }
};

}  // namespace stagepass
