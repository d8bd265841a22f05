#include "app/config_table.hpp"

#include <algorithm>
#include <climits>

namespace stagepass {
namespace {

using Kind = SettingParser::Kind;

constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;  // any lifetime or interval
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxCount = 1000000;  // attempts, sign-ups, connections

constexpr SettingParser text() { return {Kind::kText}; }
constexpr SettingParser secret() { return {Kind::kSecret}; }
constexpr SettingParser on_off() { return {Kind::kSwitch}; }
constexpr SettingParser integer(int64_t max, int64_t min = 0) { return {Kind::kInteger, min, max}; }
constexpr SettingParser seconds() { return integer(kMaxSeconds); }
constexpr SettingParser threads() { return integer(kMaxThreads); }
constexpr SettingParser scale(int64_t above, int64_t max) { return {Kind::kScale, above, max}; }
constexpr SettingParser duration(int64_t min = 0) { return {Kind::kDuration, min, kMaxSeconds}; }

// The settings, in the order of the table in docs/operations.md ("`stagepass serve`"), which
// says more about each; config_test.cpp keeps the two in step.
constexpr Setting kSettings[] = {
    {"listen", "STAGEPASS_LISTEN", &Config::listen, text(), "127.0.0.1:8080",
     "address and port to listen on (IP literal)"},
    {"issuer", "STAGEPASS_ISSUER", &Config::issuer, text(), "http://127.0.0.1:8080",
     "public base URL: `iss` of every token, the metadata's `issuer`"},
    {"audience", "STAGEPASS_AUDIENCE", &Config::audience, text(), "",
     "`aud` of access tokens (the Web API)", "`<issuer>/v1`"},
    {"database", "STAGEPASS_DATABASE", &Config::database, text(), "./var/stagepass.db",
     "SQLite file of the accounts service (created and migrated on start), or a "
     "`postgresql://` URL"},
    {"database_replica", "STAGEPASS_DATABASE_REPLICA", &Config::database_replica, text(), "",
     "with PostgreSQL: a hot standby's URL for the history reads (security log, audit export, "
     "apps' warnings); empty: none"},
    {"master_key", "STAGEPASS_MASTER_KEY", &Config::master_key, secret(), "",
     "32-byte master key (64 hex digits or base64url)", "",
     "master_key belongs in STAGEPASS_MASTER_KEY or a key file, not the config file"},
    {"master_key_file", "STAGEPASS_MASTER_KEY_FILE", &Config::master_key_file, text(), "",
     "the master key's file when STAGEPASS_MASTER_KEY is unset; created with mode 0600",
     "`<database dir>/master.key`"},
    {"access_token_ttl", "STAGEPASS_ACCESS_TOKEN_TTL", &Config::access_token_ttl, seconds(), "3600",
     "access token lifetime, seconds"},
    {"refresh_token_ttl", "STAGEPASS_REFRESH_TOKEN_TTL", &Config::refresh_token_ttl, seconds(),
     "15724800", "refresh token lifetime from the consent that started the chain (182 days)"},
    {"refresh_idle_ttl", "STAGEPASS_REFRESH_IDLE_TTL", &Config::refresh_idle_ttl, seconds(),
     "7776000", "refresh token lifetime since its last use (90 days)"},
    {"refresh_grace", "STAGEPASS_REFRESH_GRACE", &Config::refresh_grace, seconds(), "10",
     "seconds in which a rotated refresh token may be retried once by its client (0: none)"},
    {"code_ttl", "STAGEPASS_CODE_TTL", &Config::code_ttl, seconds(), "60",
     "authorization code lifetime, seconds"},
    {"threads", "STAGEPASS_THREADS", &Config::threads, threads(), "0",
     "HTTP I/O threads (0: one per core)", "cores"},
    // On 2 cores more store threads cost those paths more than they give (16: client
    // credentials -16 %, when all of them ran there), so the default stays low.
    {"store_threads", "STAGEPASS_STORE_THREADS", &Config::store_threads, threads(), "4",
     "threads for blocking store calls that do not wait for a commit (reads, pages)"},
    // They mostly sleep in the group commit, and each waiting one adds a write to the next
    // commit: 16 instead of 4 lifted refresh grants ~45 %.
    {"commit_threads", "STAGEPASS_COMMIT_THREADS", &Config::commit_threads, threads(), "16",
     "threads for token requests that wait for a durable commit (code and refresh grants)"},
    // Mixed load (issue 17, 90 % /v1/me, 2 cores): the writer lost its core mid-commit to the
    // request threads; 10 levels up, p99 10-13 ms instead of 13-16 ms (one run 16-38 ms), for
    // 3-8 % fewer requests a second.
    {"writer_priority", "STAGEPASS_WRITER_PRIORITY", &Config::writer_priority, integer(20), "10",
     "nice levels the SQLite accounts store's writer thread runs above the others, except for "
     "the node's own background writes (0: level; raising needs RLIMIT_NICE or CAP_SYS_NICE; "
     "not with one usable CPU)"},
    {"login_max_failures", "STAGEPASS_LOGIN_MAX_FAILURES", &Config::login_max_failures,
     integer(kMaxCount, 1), "5", "failed sign-ins per account per throttle window"},
    {"max_body_bytes", "STAGEPASS_MAX_BODY_BYTES", &Config::max_body_bytes, integer(1LL << 30),
     "65536", "larger request bodies get 413"},
    {"max_header_bytes", "STAGEPASS_MAX_HEADER_BYTES", &Config::max_header_bytes,
     integer(1LL << 20), "16384", "larger request headers get 431"},
    {"max_connections", "STAGEPASS_MAX_CONNECTIONS", &Config::max_connections,
     integer(kMaxCount, 1), "10000", "open connections on the public listener; beyond: 503"},
    {"access_log", "STAGEPASS_ACCESS_LOG", &Config::access_log, on_off(), "on",
     "one JSON line per request on standard output"},
    {"roles", "STAGEPASS_ROLES", &Config::roles, text(), "all",
     "all, accounts (authorization server only) or api (Web API only)"},
    {"music_database", "STAGEPASS_MUSIC_DATABASE", &Config::music_database, text(), "",
     "SQLite file of the Web API (catalog, libraries, playlists, player)",
     "`<database dir>/music.db`"},
    {"catalog_scale", "STAGEPASS_CATALOG_SCALE", &Config::catalog_scale, scale(0, 10), "1.0",
     "size of the generated catalog (1.0: 100k tracks)"},
    {"clock_skew", "STAGEPASS_CLOCK_SKEW", &Config::clock_skew, integer(3600), "10",
     "seconds of leeway on access-token exp/nbf"},
    {"rate_limit", "STAGEPASS_RATE_LIMIT", &Config::rate_limit, integer(1000000000), "3000",
     "Web API cost units per app per rolling 30 s (an app's own limit wins)"},
    // issue16:cluster. Each node's share of an app's budget, so N nodes behind a round-robin
    // balancer admit about the app's limit in all, not N times it; no round trip to share.
    {"api_nodes", "STAGEPASS_API_NODES", &Config::api_nodes, integer(kMaxThreads, 1), "1",
     "nodes serving the Web API round robin: each enforces 1/N of every app's rate limit and "
     "daily quota"},
    {"token_cache_size", "STAGEPASS_TOKEN_CACHE_SIZE", &Config::token_cache_size,
     integer(100000000), "1000000", "verified access tokens kept in memory (0: no cache)"},
    {"jwks_refresh", "STAGEPASS_JWKS_REFRESH", &Config::jwks_refresh, seconds(), "300",
     "seconds between JWKS refetches (api role)"},
    {"session_ttl", "STAGEPASS_SESSION_TTL", &Config::session_ttl, seconds(), "1209600",
     "page sign-in lasts at most this long from sign-in, seconds (14 days)"},
    {"session_idle_ttl", "STAGEPASS_SESSION_IDLE_TTL", &Config::session_idle_ttl, seconds(),
     "86400", "a page session unused this long ends, seconds (0: no idle timeout)"},
    {"signup_max_per_ip", "STAGEPASS_SIGNUP_MAX_PER_IP", &Config::signup_max_per_ip,
     integer(kMaxCount), "20", "sign-ups per client IP per hour (0: no limit)"},
    {"tls_cert", "STAGEPASS_TLS_CERT", &Config::tls_cert, text(), "",
     "PEM certificate chain; with tls_key the listener speaks https only"},
    {"tls_key", "STAGEPASS_TLS_KEY", &Config::tls_key, text(), "",
     "PEM private key; both files are reloaded on SIGHUP"},
    {"insecure_http", "STAGEPASS_INSECURE_HTTP", &Config::insecure_http, on_off(), "off",
     "allow plain http on a non-loopback address (behind a TLS-terminating proxy)"},
    {"http_redirect_listen", "STAGEPASS_HTTP_REDIRECT_LISTEN", &Config::http_redirect_listen,
     text(), "", "host:port of a plain-http listener answering 308 to the https issuer"},
    {"admin_listen", "STAGEPASS_ADMIN_LISTEN", &Config::admin_listen, text(), "",
     "host:port; when set, /metrics and /readyz are served only there"},
    {"trusted_proxies", "STAGEPASS_TRUSTED_PROXIES", &Config::trusted_proxies, text(), "",
     "comma-separated CIDRs of reverse proxies whose forwarding header counts"},
    {"forwarded_header", "STAGEPASS_FORWARDED_HEADER", &Config::forwarded_header, text(),
     "x-forwarded-for", "the one header those proxies write: x-forwarded-for or forwarded"},
    // issue15:devmode
    {"dev_allowlist_limit", "STAGEPASS_DEV_ALLOWLIST_LIMIT", &Config::dev_allowlist_limit,
     integer(kMaxCount), "25", "people on the allowlist of one app in development mode"},
    {"api_daily_quota", "STAGEPASS_API_DAILY_QUOTA", &Config::api_daily_quota,
     integer(1000000000000), "5000000",
     "Web API cost units per app per rolling 24 h, then 429 QUOTA_EXCEEDED (0: no quota)"},
    // Spotify's limit since 2026: sign-ups cannot multiply their API budget.
    {"max_apps_per_user", "STAGEPASS_MAX_APPS_PER_USER", &Config::max_apps_per_user,
     integer(10000, 1), "25", "apps one person may own on the developer dashboard"},
    // issue15-fix:dashboard-throttle
    {"dev_changes_per_hour", "STAGEPASS_DEV_CHANGES_PER_HOUR", &Config::dev_changes_per_hour,
     integer(kMaxCount), "30",
     "apps created or deleted, allowlist changes, and secret rotations, per person per hour on "
     "the developer dashboard; each counted apart, per client IP 4 times as many (0: no limit)"},
    // issue15:abuse: the abuse detectors (monitor/abuse_detector.hpp) and their automatic
    // actions. The actions are off by default: each lets whoever can produce the pattern act
    // on an app (guessing an app's secret from many addresses would suspend it), so an
    // operator turns one on knowingly.
    {"abuse_refresh_reuse_threshold", "STAGEPASS_ABUSE_REFRESH_REUSE_THRESHOLD",
     &Config::abuse_refresh_reuse_threshold, integer(kMaxCount), "3",
     "refresh-token reuses per app per window that raise `abuse_refresh_reuse` (0: off)"},
    {"abuse_refresh_reuse_window", "STAGEPASS_ABUSE_REFRESH_REUSE_WINDOW",
     &Config::abuse_refresh_reuse_window, seconds(), "3600",
     "seconds over which refresh-token reuses of one app are counted"},
    {"abuse_refresh_reuse_suspend", "STAGEPASS_ABUSE_REFRESH_REUSE_SUSPEND",
     &Config::abuse_refresh_reuse_suspend, on_off(), "off",
     "suspend the app when `abuse_refresh_reuse` is raised"},
    {"abuse_token_ips_threshold", "STAGEPASS_ABUSE_TOKEN_IPS_THRESHOLD",
     &Config::abuse_token_ips_threshold, integer(kMaxCount), "5",
     "distinct client IPs one access token may be used from per window before "
     "`abuse_token_many_ips` (0: off)"},
    {"abuse_token_ips_window", "STAGEPASS_ABUSE_TOKEN_IPS_WINDOW", &Config::abuse_token_ips_window,
     seconds(), "600", "seconds over which an access token's client IPs are counted"},
    {"abuse_token_ips_suspend", "STAGEPASS_ABUSE_TOKEN_IPS_SUSPEND",
     &Config::abuse_token_ips_suspend, on_off(), "off",
     "revoke the token's grant (or the token, without a grant) when `abuse_token_many_ips` is "
     "raised"},
    {"abuse_burst_factor", "STAGEPASS_ABUSE_BURST_FACTOR", &Config::abuse_burst_factor,
     integer(kMaxCount), "10",
     "an app's requests in a minute at least this many times its usual rate per minute raise "
     "`abuse_burst` (0: off)"},
    {"abuse_burst_min_requests", "STAGEPASS_ABUSE_BURST_MIN_REQUESTS",
     &Config::abuse_burst_min_requests, integer(1000000000), "600",
     "... and at least this many requests in that minute"},
    {"abuse_burst_suspend", "STAGEPASS_ABUSE_BURST_SUSPEND", &Config::abuse_burst_suspend, on_off(),
     "off", "suspend the app when `abuse_burst` is raised"},
    {"abuse_invalid_client_threshold", "STAGEPASS_ABUSE_INVALID_CLIENT_THRESHOLD",
     &Config::abuse_invalid_client_threshold, integer(kMaxCount), "20",
     "`invalid_client` answers to one client IP per window that raise `abuse_secret_guessing` (0: "
     "off)"},
    {"abuse_invalid_client_window", "STAGEPASS_ABUSE_INVALID_CLIENT_WINDOW",
     &Config::abuse_invalid_client_window, seconds(), "600",
     "seconds over which an IP's `invalid_client` answers are counted"},
    {"abuse_invalid_client_block", "STAGEPASS_ABUSE_INVALID_CLIENT_BLOCK",
     &Config::abuse_invalid_client_block, on_off(), "off",
     "refuse client authentication (`429 slow_down`) from the address that raised "
     "`abuse_secret_guessing` until its window ends; the app it named is never touched"},
    {"abuse_stuffing_threshold", "STAGEPASS_ABUSE_STUFFING_THRESHOLD",
     &Config::abuse_stuffing_threshold, integer(kMaxCount), "10",
     "distinct accounts failing sign-in from one client IP per window that raise "
     "`abuse_credential_stuffing` (0: off)"},
    {"abuse_stuffing_window", "STAGEPASS_ABUSE_STUFFING_WINDOW", &Config::abuse_stuffing_window,
     seconds(), "900", "seconds over which an IP's failing accounts are counted"},
    // issue15:keys. The JWKS's max-age is also the shortest publish-ahead of a rotation.
    {"jwks_max_age", "STAGEPASS_JWKS_MAX_AGE", &Config::jwks_max_age, integer(86400, 1), "300",
     "Cache-Control max-age of the JWKS, seconds; a new key is published at least this long "
     "before it signs"},
    {"key_rotation", "STAGEPASS_KEY_ROTATION", &Config::key_rotation, duration(), "",
     "rotate the signing key this often (e.g. 90d); empty: only by `admin keys rotate`"},
    // issue16:revlog. How a node learns of revocations made elsewhere (app/revocation_follower).
    {"revocation_push", "STAGEPASS_REVOCATION_PUSH", &Config::revocation_push, text(), "",
     "`notify` (LISTEN on PostgreSQL) or `poll` (read the log every poll interval only)",
     "`notify` on PostgreSQL, `poll` on SQLite"},
    {"revocation_poll_interval", "STAGEPASS_REVOCATION_POLL_INTERVAL",
     &Config::revocation_poll_interval, integer(3600000, 10), "1000",
     "milliseconds between reads of the revocations log when no notification comes"},
    // issue17:prune: what is deleted when (app/pruner.hpp). The reuse window and cap bound how
    // long a leaked, rotated refresh token still revokes its grant (docs/security.md).
    {"prune_interval", "STAGEPASS_PRUNE_INTERVAL", &Config::prune_interval, seconds(), "10",
     "seconds between pruning passes on accounts nodes (0: never prune)"},
    {"prune_margin", "STAGEPASS_PRUNE_MARGIN", &Config::prune_margin, seconds(), "3600",
     "seconds past their end that codes, expired refresh tokens and sessions are kept"},
    {"refresh_reuse_window", "STAGEPASS_REFRESH_REUSE_WINDOW", &Config::refresh_reuse_window,
     integer(kMaxSeconds, 3600), "604800",
     "seconds a rotated refresh token is kept, so that presenting it again revokes the grant"},
    {"refresh_reuse_keep", "STAGEPASS_REFRESH_REUSE_KEEP", &Config::refresh_reuse_keep,
     integer(kMaxCount, 1), "20", "rotated refresh tokens kept per grant (the newest)"},
    {"audit_retention", "STAGEPASS_AUDIT_RETENTION", &Config::audit_retention, seconds(),
     "15552000", "seconds audit events are kept (0: forever)"},
};

// ---- What the compiler checks about the table ----

constexpr char upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

// The variable is STAGEPASS_ and the key in upper case (docs/operations.md: "keys are the
// names in the table, lower case without the prefix").
constexpr bool env_matches_key(const Setting& s) {
  constexpr std::string_view kPrefix = "STAGEPASS_";
  if (!s.env.starts_with(kPrefix) || s.env.size() != kPrefix.size() + s.key.size()) return false;
  for (size_t i = 0; i < s.key.size(); ++i)
    if (s.env[kPrefix.size() + i] != upper(s.key[i])) return false;
  return true;
}

// The parser writes the field's type, and an int field can hold the whole range.
constexpr bool parser_fits_field(const Setting& s) {
  const auto& f = s.field;
  switch (s.parser.kind) {
    case Kind::kText:
      return std::holds_alternative<std::string Config::*>(f);
    case Kind::kInteger:
      if (s.parser.min > s.parser.max) return false;
      if (std::holds_alternative<int Config::*>(f))
        return s.parser.min >= INT_MIN && s.parser.max <= INT_MAX;
      return std::holds_alternative<int64_t Config::*>(f);
    case Kind::kSwitch:
      return std::holds_alternative<bool Config::*>(f);
    case Kind::kScale:
      return std::holds_alternative<double Config::*>(f) && s.parser.min < s.parser.max;
    case Kind::kSecret:
      return std::holds_alternative<Secret Config::*>(f) && !s.not_in_file.empty();
    case Kind::kDuration:
      return std::holds_alternative<int64_t Config::*>(f) && s.parser.min <= s.parser.max;
  }
  return false;
}

// A decimal "123" or "1.25" (no sign, no exponent) as a double, or -1.
constexpr double plain_decimal(std::string_view v) {
  if (v.empty()) return -1;
  double whole = 0, scale = 0;
  for (char c : v) {
    if (c == '.' && scale == 0) {
      scale = 1;
    } else if (c >= '0' && c <= '9') {
      if (scale == 0) {
        whole = whole * 10 + (c - '0');
      } else {
        scale /= 10;
        whole += scale * (c - '0');
      }
    } else {
      return -1;
    }
  }
  return whole;
}

// The default is what the parser accepts: a default outside its own bounds does not compile.
constexpr bool default_in_bounds(const Setting& s) {
  const std::string_view v = s.default_value;
  switch (s.parser.kind) {
    case Kind::kText:
      return true;
    case Kind::kSecret:
      return v.empty();
    case Kind::kSwitch:
      return v == "on" || v == "off" || v == "true" || v == "false" || v == "1" || v == "0";
    case Kind::kInteger: {
      if (v.empty() || v.find('.') != std::string_view::npos) return false;
      const double n = plain_decimal(v);
      return n >= 0 && n >= static_cast<double>(s.parser.min) &&
             n <= static_cast<double>(s.parser.max);
    }
    case Kind::kScale: {
      const double n = plain_decimal(v);
      return n > static_cast<double>(s.parser.min) && n <= static_cast<double>(s.parser.max);
    }
    case Kind::kDuration:
      return v.empty() && s.parser.min == 0;  // durations default to off
  }
  return false;
}

constexpr bool keys_unique() {
  for (size_t i = 0; i < std::size(kSettings); ++i)
    for (size_t j = i + 1; j < std::size(kSettings); ++j)
      if (kSettings[i].key == kSettings[j].key) return false;
  return true;
}

static_assert(std::ranges::all_of(kSettings, env_matches_key),
              "a setting's variable must be STAGEPASS_ and its key in upper case");
static_assert(std::ranges::all_of(kSettings, parser_fits_field),
              "a setting's parser must write its field's type, within the field's range");
static_assert(std::ranges::all_of(kSettings, default_in_bounds),
              "a setting's default must be a value its parser accepts");
static_assert(std::ranges::all_of(kSettings, [](const Setting& s) { return !s.doc.empty(); }),
              "every setting says what it means");
static_assert(keys_unique(), "two settings share a key");

}  // namespace

std::span<const Setting> settings() { return kSettings; }

const Setting* find_setting(std::string_view key) {
  for (const auto& s : kSettings)
    if (s.key == key) return &s;
  return nullptr;
}

std::string documented_default(const Setting& s) {
  if (!s.shown_default.empty()) return std::string(s.shown_default);
  if (s.default_value.empty()) return "—";
  std::string shown = "`";
  shown.append(s.default_value).append("`");
  return shown;
}

}  // namespace stagepass
