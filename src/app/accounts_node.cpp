#include "app/accounts_node.hpp"

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "monitor/log.hpp"
#include "oauth/grants/authorization_code.hpp"
#include "oauth/grants/client_credentials.hpp"
#include "oauth/grants/refresh_token.hpp"
#include "oauth/metadata.hpp"
#include "store/write_batches.hpp"
#include "web/cookies.hpp"

namespace stagepass {
using http::Request;
using http::Response;
using Awaitable = boost::asio::awaitable<Response>;

AccountsNode::AccountsNode(const Config& cfg, const Secret& master_key, Random& random,
                           const Clock& clock, RevocationSet& revoked,
                           boost::asio::thread_pool& store_pool,
                           boost::asio::thread_pool& commit_pool,
                           boost::asio::thread_pool& cpu_pool, Metrics& metrics,
                           UserCreated on_user_created)
    : cfg_(cfg),
      opened_(open_accounts_store(cfg, cfg.store_readers())),
      store_(*opened_.store),
      audit_([this](const AuditEvent& e) { return store_.record_event(e).ok(); }, metrics, clock),
      revoker_(
          store_, clock, [this] { feed_.poll(); },
          [this](AuditEvent e) { audit_.record(std::move(e)); }),
      keys_(store_, master_key, random, clock,
            {{cfg.access_token_ttl + cfg.clock_skew, cfg.jwks_max_age}, cfg.key_rotation}),
      // Each consumer gets the roles it uses of the one store (store/store.hpp).
      services_{.clients = store_,
                .grants = store_,
                .codes = store_,
                .refresh_tokens = store_,
                .users = store_,
                .keys = keys_.slot(),
                .clock = clock,
                .random = random,
                .settings = {cfg.issuer, cfg.effective_audience(), cfg.access_token_ttl,
                             cfg.refresh_token_ttl, cfg.refresh_idle_ttl, cfg.refresh_grace,
                             cfg.code_ttl},
                .revoker = revoker_,
                .audit = {},
                .secret_usage = &secret_usage_},
      feed_(store_, revoked, clock, cfg.access_token_ttl + 2 * cfg.clock_skew,
            cfg.clock_skew + cfg.tunables.revocation_lookback_seconds),
      secret_rotation_(
          store_, random, clock, [this] { feed_.poll(); },
          [this](AuditEvent e) { audit_.record(std::move(e)); }),
      app_access_(store_, store_, revoker_, clock, cfg.dev_allowlist_limit,
                  [this](AuditEvent e) { audit_.record(std::move(e)); }),
      revocation_(services_),
      introspection_(services_, revoked),
      forms_(services_, cors_, {store_pool, commit_pool}) {
  services_.audit = [this](AuditEvent e) { audit_.record(std::move(e)); };
  tokens_.add_grant(std::make_unique<oauth::AuthorizationCodeGrant>(services_));
  tokens_.add_grant(std::make_unique<oauth::RefreshTokenGrant>(services_));
  tokens_.add_grant(std::make_unique<oauth::ClientCredentialsGrant>(services_));
  opened_.export_metrics(metrics);
  if (opened_.on_serving) {
    if (auto problem = opened_.on_serving()) {
      log::event("warn", "the accounts store's writer keeps the default priority",
                 {{"error", *problem}});
    }
  }
  tokens_.count_requests_in(metrics);
  metrics.describe("stagepass_retiring_secret_audit_suppressed_total", "counter",
                   "retiring_secret_used events not written: too many (secret, IP) pairs in a "
                   "minute (the use itself still counts)");
  metrics.gauge("stagepass_retiring_secret_audit_suppressed_total",
                [this] { return double(secret_usage_.suppressed()); });
  metadata_ = oauth::metadata_json(services_.settings, tokens_.grant_types());
  site_ = std::make_unique<web::Site>(
      services_,
      web::SiteStores{.users = store_,
                      .sessions = store_,
                      .events = store_,
                      .grants = store_,
                      .clients = store_},
      store_pool, cpu_pool, base64url_encode(crypto::hmac_sha256(master_key.reveal(), "csrf")),
      web::SiteSettings{web::secure_cookies_for(cfg.issuer), cfg.session_ttl, cfg.session_idle_ttl,
                        cfg.signup_max_per_ip, cfg.tunables.signup_window_seconds,
                        cfg.max_apps_per_user, cfg.rate_limit, cfg.api_daily_quota,
                        cfg.dev_allowlist_limit, cfg.jwks_max_age, cfg.dev_changes_per_hour},
      ThrottleSettings{cfg.login_max_failures,
                       cfg.login_max_failures * cfg.tunables.login_ip_factor,
                       cfg.tunables.login_window_seconds, cfg.tunables.throttle_tracked_keys,
                       cfg.tunables.login_ipv6_network_factor},
      std::move(on_user_created), web::DeveloperServices{&secret_rotation_, &app_access_, &store_});
  feed_.poll();
  refresh_origins();
}

void AccountsNode::watch(AbuseDetector* abuse, AppUsage* usage) {
  services_.abuse = abuse;
  services_.usage = usage;
  if (!usage) return;
  usage->set_history([this](const std::string& client_id, int64_t since) {
    auto rows = store_.load_app_usage(client_id, since);
    if (!rows) {
      log::event("warn", "app usage history not read",
                 {{"client_id", client_id}, {"error", rows.error().message}});
      return std::vector<AppUsageRow>{};
    }
    return std::move(*rows);
  });
  feed_.on_client_deleted([usage](const std::string& client_id) { usage->forget(client_id); });
}

void AccountsNode::refresh_origins() {
  auto clients = store_.list_clients();
  if (!clients) return;
  oauth::CorsPolicy::Origins origins;
  for (const auto& c : *clients) origins.insert(c.web_origins.begin(), c.web_origins.end());
  cors_.set_origins(std::move(origins));
}

void AccountsNode::flush_secret_usage() {
  auto uses = secret_usage_.drain();
  if (uses.empty()) return;
  const int64_t now = services_.clock.now();
  // kRowsPerWrite uses per transaction, so the writer takes the requests' writes in between.
  auto done = write_in_batches(uses, [&](const std::vector<ClientSecretUse>& batch) {
    return store_.record_secret_usage(batch, now);
  });
  if (!done.status) {
    secret_usage_.restore(done.left);
    log::event("warn", "client secret usage not recorded",
               {{"uses", done.left.size()}, {"error", done.status.error().message}});
  }
}

bool AccountsNode::refresh_keys() {
  auto done = keys_.refresh();
  if (!done) {
    // Once per distinct failure, not once a second while it lasts.
    if (done.error().message != last_key_error_) {
      log::event("error", "signing keys not reread; the current ones stay",
                 {{"error", done.error().message}});
    }
    last_key_error_ = done.error().message;
    return false;
  }
  last_key_error_.clear();
  if (done->rotated) {
    const SigningKey& k = *done->rotated;
    audit_.record({0, 0, "signing_key_rotated", "", "", "", "",
                   "next key " + k.kid + " signs from " + std::to_string(k.signs_from) +
                       " (STAGEPASS_KEY_ROTATION)"});
  }
  if (done->swapped) {
    std::string states;
    for (const auto& s : done->states) states += (states.empty() ? "" : " ") + s;
    log::event("info", "signing keys reloaded", {{"keys", states}, {"deleted", done->deleted}});
  }
  return done->swapped;
}

void AccountsNode::register_routes(http::Router& router) {
  auto static_json = [this](const std::string& body) {
    auto r = Response::json(200, body);
    r.header("Cache-Control",
             "public, max-age=" + std::to_string(cfg_.tunables.discovery_max_age_seconds));
    r.header("Access-Control-Allow-Origin", "*");
    return r;
  };
  for (const char* path :
       {"/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"}) {
    router.add("GET", path,
               [this, static_json](Request&) -> Awaitable { co_return static_json(metadata_); });
  }
  // The keys published now (next, active, retiring), cached by clients for at most
  // STAGEPASS_JWKS_MAX_AGE: a next key is published at least that long before it signs.
  router.add("GET", "/.well-known/jwks.json", [this](Request&) -> Awaitable {
    auto r = Response::json(200, keys_.current()->jwks_json(services_.clock.now()));
    r.header("Cache-Control", "public, max-age=" + std::to_string(cfg_.jwks_max_age));
    r.header("Access-Control-Allow-Origin", "*");
    co_return r;
  });
  forms_.mount(router, "/api/token", tokens_);
  forms_.mount(router, "/api/revoke", revocation_);
  forms_.mount(router, "/api/introspect", introspection_);
  site_->register_routes(router);
}

}  // namespace stagepass
