// Config: every setting of `stagepass serve` and `stagepass admin`, in one typed struct.
// Sources, later ones winning: the defaults below, a TOML file (--config; keys are the
// field names), then STAGEPASS_* environment variables (the operator contract,
// docs/operations.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "app/tunables.hpp"
#include "core/secret.hpp"

namespace stagepass {

struct Config {
  std::string listen = "127.0.0.1:8080";         // STAGEPASS_LISTEN (host:port)
  std::string issuer = "http://127.0.0.1:8080";  // STAGEPASS_ISSUER (public base URL)
  std::string audience;                          // STAGEPASS_AUDIENCE, default <issuer>/v1
  std::string database = "./var/stagepass.db";   // STAGEPASS_DATABASE (SQLite path)
  std::string master_key_file;                   // STAGEPASS_MASTER_KEY_FILE, default beside the db
  Secret master_key;                // STAGEPASS_MASTER_KEY (env only: 64 hex or base64url)
  int64_t access_token_ttl = 3600;  // STAGEPASS_ACCESS_TOKEN_TTL, seconds
  int64_t refresh_token_ttl =
      182 * 24 * 3600;                        // STAGEPASS_REFRESH_TOKEN_TTL, absolute, from consent
  int64_t refresh_idle_ttl = 90 * 24 * 3600;  // STAGEPASS_REFRESH_IDLE_TTL, since last use
  int64_t refresh_grace = 10;  // STAGEPASS_REFRESH_GRACE, retry window after rotation
  int64_t code_ttl = 60;       // STAGEPASS_CODE_TTL, authorization code lifetime
  int threads = 0;             // STAGEPASS_THREADS, I/O threads (0: one per core)
  // STAGEPASS_STORE_THREADS: threads for blocking store calls that do not wait for a durable
  // commit (reads, client credentials, pages). On 2 cores more of them cost those paths
  // more than they give (16: client credentials -16 %), so the default stays low.
  int store_threads = 4;
  // STAGEPASS_COMMIT_THREADS: threads for token requests that wait for a durable commit
  // (authorization code and refresh grants). They mostly sleep in the group commit, and each
  // waiting one adds a write to the next commit: 16 instead of 4 lifted refresh grants ~45 %.
  int commit_threads = 16;
  // Reader connections per SQLite database (each has its own page cache).
  int store_readers() const { return std::clamp(store_threads + commit_threads, 1, 8); }
  int login_max_failures = 5;            // STAGEPASS_LOGIN_MAX_FAILURES per account / 15 min
  int64_t max_body_bytes = 64 * 1024;    // STAGEPASS_MAX_BODY_BYTES
  int64_t max_header_bytes = 16 * 1024;  // STAGEPASS_MAX_HEADER_BYTES
  int64_t max_connections = 10000;       // STAGEPASS_MAX_CONNECTIONS
  bool access_log = true;                // STAGEPASS_ACCESS_LOG (on/off)
  std::string roles = "all";             // STAGEPASS_ROLES: all, accounts or api
  std::string music_database;            // STAGEPASS_MUSIC_DATABASE, default beside the db
  double catalog_scale = 1.0;            // STAGEPASS_CATALOG_SCALE (1.0: 100k tracks)
  int64_t clock_skew = 10;               // STAGEPASS_CLOCK_SKEW, seconds of exp/nbf leeway
  int64_t rate_limit = 3000;             // STAGEPASS_RATE_LIMIT, Web API requests/app/30 s
  int64_t token_cache_size = 1000000;    // STAGEPASS_TOKEN_CACHE_SIZE, 0 disables
  int64_t jwks_refresh = 300;            // STAGEPASS_JWKS_REFRESH, seconds (api role)
  // Page sessions (sign-in): STAGEPASS_SESSION_TTL, seconds from sign-in (absolute), and
  // STAGEPASS_SESSION_IDLE_TTL, seconds without a page view (0: no idle timeout).
  int64_t session_ttl = 14 * 24 * 3600;
  int64_t session_idle_ttl = 24 * 3600;
  int signup_max_per_ip = 20;  // STAGEPASS_SIGNUP_MAX_PER_IP sign-ups / hour (0: no limit)

  // TLS, listeners and proxies (docs/operations.md, "TLS, listeners and proxies").
  std::string tls_cert;  // STAGEPASS_TLS_CERT: PEM certificate chain; with tls_key: https
  std::string tls_key;   // STAGEPASS_TLS_KEY: PEM private key (both reloaded on SIGHUP)
  // STAGEPASS_INSECURE_HTTP: allow plain http on a non-loopback address (behind a
  // TLS-terminating proxy); off, such a listener refuses to start.
  bool insecure_http = false;
  std::string http_redirect_listen;  // STAGEPASS_HTTP_REDIRECT_LISTEN: host:port, 308 to https
  std::string admin_listen;     // STAGEPASS_ADMIN_LISTEN: host:port; /metrics, /readyz only there
  std::string trusted_proxies;  // STAGEPASS_TRUSTED_PROXIES: CIDRs whose forwarding headers count
  // STAGEPASS_FORWARDED_HEADER: the one header those proxies write, x-forwarded-for or forwarded
  std::string forwarded_header = "x-forwarded-for";
  bool tls() const { return !tls_cert.empty(); }

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
