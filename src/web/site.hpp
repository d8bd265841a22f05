// Site: the server-rendered pages of the accounts service (sign-in, sign-up, consent,
// account home, Account → Apps) and their plumbing: sessions, CSRF, security headers, login
// throttling.
//
// Handlers run on I/O threads and offload every store call and password hash to the worker
// pools. Thread safety: after register_routes() the Site is shared read-only (its throttle
// locks internally).
#pragma once

#include <algorithm>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "http/router.hpp"
#include "monitor/login_throttle.hpp"
#include "oauth/app_access.hpp"
#include "oauth/authorize.hpp"
#include "oauth/secret_rotation.hpp"
#include "oauth/services.hpp"
#include "store/client_store.hpp"
#include "store/event_store.hpp"
#include "store/grant_store.hpp"
#include "store/session_store.hpp"
#include "store/usage_store.hpp"
#include "store/user_store.hpp"
#include "web/app_registration.hpp"
#include "web/csrf.hpp"
#include "web/safe_continue.hpp"
#include "web/secret_reveals.hpp"
#include "web/templates.hpp"

namespace stagepass::web {

struct SiteSettings {
  bool secure_cookies = false;           // true when the issuer is https (__Host- cookies)
  int64_t session_ttl = 14 * 24 * 3600;  // sign-in lasts at most this long
  int64_t session_idle_ttl = 24 * 3600;  // ... and ends after this long unused (0: never)
  int signup_max_per_ip = 20;            // sign-ups per IP per window (0: no limit)
  int64_t signup_window_seconds = 3600;  // ... over this window
  // How stale a session's last use may be before a page view writes it again: page views
  // do not each cost a write, and the idle timeout is early by at most this much.
  int64_t session_touch_interval() const {
    return session_idle_ttl > 0 ? std::clamp<int64_t>(session_idle_ttl / 4, 1, 300) : 300;
  }
  // issue15:dashboard
  int64_t max_apps_per_user = 25;  // apps one person may own on the developer dashboard
  int64_t api_rate_limit = 3000;   // Web API requests per app per rolling 30 s (for the docs)
  // issue15-fix:docs. Facts /developer/docs shows, from the running configuration.
  int64_t api_daily_quota = 5'000'000;  // cost units per app per rolling 24 h (0: none)
  int64_t dev_allowlist_limit = 25;     // people per allowlist in development mode
  int64_t jwks_max_age = 300;           // the JWKS Cache-Control max-age, seconds
  // issue15-fix:dashboard-throttle. Per person per hour: apps created or deleted, and,
  // counted apart, allowlist adds and removes, and secret rotations; per client IP 4 times as
  // many (0: no limit).
  int dev_changes_per_hour = 30;
};

// The storage roles the pages use (store/*.hpp), each a view of the one backend the
// composition root chose. Blocking: call them on store_pool only.
struct SiteStores {
  UserStore& users;        // sign-in, sign-up, the signed-in visitor, password change
  SessionStore& sessions;  // browser sessions
  EventStore& events;      // the person's security log
  GrantStore& grants;      // Account → Apps
  ClientStore& clients;    // app names on Apps and in the security log; the dashboard's apps
};

// issue15:wire-ui. The services behind the app page's Secret, Allowlist and Usage sections
// (per-app usage is Services::usage). Any may be null: its section is then left out.
// Blocking: call them on store_pool only. Lifetime: must outlive the Site.
struct DeveloperServices {
  const oauth::SecretRotation* rotation = nullptr;  // "Rotate secret", live secrets
  const oauth::AppAccess* access = nullptr;         // development mode and the allowlist
  UsageStore* usage = nullptr;                      // the app's warnings
};

// Lifetime: keeps references to `services`, the stores behind `stores` and both pools; all
// must outlive it.
class Site {
 public:
  Site(oauth::Services& services, SiteStores stores, boost::asio::thread_pool& store_pool,
       boost::asio::thread_pool& cpu_pool, std::string csrf_key, SiteSettings settings,
       ThrottleSettings throttle, std::function<void(const User&)> on_user_created = {},
       DeveloperServices developer = {});
  void register_routes(http::Router& router);

 private:
  struct Visitor {
    std::optional<User> user;
    std::string session_hash;
    // issue16:cluster. The store could not be asked (it is down): whether the visitor is
    // signed in is unknown. Every page then answers unavailable_page(), never "sign in"
    // (the session may be fine) nor a signed-out page.
    bool unavailable = false;
  };
  using Awaitable = boost::asio::awaitable<http::Response>;

  Awaitable home(http::Request& req);
  Awaitable login_form(http::Request& req);
  Awaitable login_submit(http::Request& req);
  Awaitable signup_form(http::Request& req);
  Awaitable signup_submit(http::Request& req);
  Awaitable logout(http::Request& req);
  Awaitable authorize_get(http::Request& req);
  Awaitable authorize_post(http::Request& req);
  Awaitable authorize(http::Request& req, const Form& params, const Visitor& visitor,
                      const std::optional<std::string>& decision);
  // Account → Apps (account_pages.cpp): the person's connected apps and "Remove access".
  Awaitable account_apps(http::Request& req);
  Awaitable account_apps_remove(http::Request& req);
  // Account → Security (security_pages.cpp): the person's security log, sign out everywhere,
  // change password.
  Awaitable account_security(http::Request& req);
  Awaitable account_sign_out_everywhere(http::Request& req);
  Awaitable account_password(http::Request& req);
  // The developer dashboard (developer_pages.cpp) and its documentation (developer_docs.cpp).
  Awaitable developer_home(http::Request& req);
  Awaitable developer_new(http::Request& req);
  Awaitable developer_create(http::Request& req);
  Awaitable developer_app(http::Request& req);
  Awaitable developer_edit_form(http::Request& req);
  Awaitable developer_edit(http::Request& req);
  Awaitable developer_delete(http::Request& req);
  // issue15:wire-ui. The app page's forms (developer_app_sections.cpp).
  Awaitable developer_rotate_secret(http::Request& req);
  Awaitable developer_allowlist_add(http::Request& req);
  Awaitable developer_allowlist_remove(http::Request& req);
  Awaitable developer_docs(http::Request& req);
  // App `id` if `user_id` owns it; kMissing for any other id (another person's, an
  // operator's, none), kBusy when the store failed.
  struct OwnedApp {
    enum State { kMissing, kFound, kBusy } state = kMissing;
    Client client;
  };
  boost::asio::awaitable<OwnedApp> owned_app(const std::string& user_id, const std::string& id);
  // The app form (create, or edit `editing`), filled with `in`; `errors`: each field's
  // message; `error`: one for the whole form.
  http::Response app_form_page(int status, const User& user, const AppFormInput& in,
                               const AppFormErrors* errors, const Client* editing,
                               std::string error, const http::Request& req);
  // What the app's page shows besides the app: a new secret (on the GET right after creation
  // or a rotation only, from reveals_: shown this once), a notice, and a form's field as
  // typed with its message.
  struct AppPageState {
    int status = 200;
    std::string new_secret;
    std::string notice;
    std::string grace;  // the rotation form's choice ("24h" when empty)
    std::string grace_error;
    std::string allowlist_email;
    std::string allowlist_error;
  };
  // The app's page with its sections (settings, secrets, allowlist, usage) read now.
  Awaitable app_page(const User& user, const Client& c, AppPageState state,
                     const http::Request& req);
  // Adds the Secret, Allowlist and Usage sections of app `c` to the page's data.
  boost::asio::awaitable<void> app_sections(Data& d, const Client& c, const AppPageState& state);
  http::Response app_missing(const http::Request& req);
  http::Response busy_page(const http::Request& req);
  // 503 with Retry-After (page()): the store is unavailable (Visitor::unavailable).
  http::Response unavailable_page(const http::Request& req);
  std::string app_limit_message() const;
  Awaitable security_page(const http::Request& req, const User& user, int64_t before,
                          std::string notice, std::string error);

  // The signed-in person, if the session cookie names a session that is neither past its
  // absolute end nor idle longer than session_idle_ttl (an idle one is deleted). Notes the
  // use at most every session_touch_interval().
  boost::asio::awaitable<Visitor> visitor(const http::Request& req);
  // A page with the security headers and, when the visitor had none, a fresh CSRF cookie.
  // Its forms belong to the request's session cookie.
  http::Response page(int status, std::string_view tmpl, const std::string& title, Data data,
                      const http::Request& req);
  http::Response error_page(int status, const std::string& heading, const std::string& message,
                            const http::Request& req);
  // CSRF (web/csrf.hpp): the token for this visitor's seed (a fresh seed in `new_cookie` when
  // the request has none) and the request's session cookie.
  std::string csrf_token(const http::Request& req, std::string* new_cookie);
  // Whether the form carries the token of the request's seed and session.
  bool csrf_ok(const http::Request& req, const Form& form) const;
  std::string session_cookie(const http::Request& req) const;
  // The POSTed form, if it is urlencoded (no repeated fields) and carries this visitor's CSRF
  // token; nullopt otherwise (answer with expired_form()).
  std::optional<Form> posted_form(const http::Request& req) const;
  http::Response expired_form(const http::Request& req);
  // Blocking: stores a new session for the user and returns the cookie value. `generation` is
  // the person's credential generation read with the password that was checked: kConflict
  // when it moved on since (a password change or "sign out everywhere" won the race).
  Result<std::string> create_session(const std::string& user_id, int64_t generation);
  // A session record for the user, of credential `generation`, lasting session_ttl from now,
  // and the cookie value it is the hash of (nothing stored).
  std::pair<Session, std::string> new_session(const std::string& user_id, int64_t generation);
  // 303 to `next` that sets the session cookie and a fresh CSRF cookie (a seed planted before
  // sign-in does not carry over).
  http::Response signed_in_redirect(const std::string& session_cookie, const std::string& next);
  // 303 to /login that clears the session cookie and sets a fresh CSRF cookie.
  http::Response signed_out_redirect();
  std::string fresh_csrf_cookie();
  // Argon2id of a fixed password, checked when an email has no account so that answer costs
  // what a real check costs. Computed once; call it only on the cpu pool (the constructor
  // warms it there at startup).
  static const std::string& dummy_password_hash();

  oauth::Services& s_;  // clock, random, revoker, audit, and the authorization flow's roles
  SiteStores stores_;
  boost::asio::thread_pool& store_pool_;
  boost::asio::thread_pool& cpu_pool_;
  Csrf csrf_;
  SiteSettings settings_;
  LoginThrottle throttle_;
  LoginThrottle signup_throttle_;  // every sign-up counts, per IP, over an hour
  oauth::AuthorizeFlow flow_;
  std::function<void(const User&)> on_user_created_;  // blocking allowed (worker thread)
  DeveloperServices developer_;
  // issue15-fix:prg. A new client secret between the dashboard POST that made it and the GET
  // of the app page its 303 leads to (shown there once).
  SecretReveals reveals_;
  // issue15-fix:dashboard-throttle. Counted per person (the key is the user id) and per IP,
  // every attempt that reaches the store: creates and deletes (a create/delete loop would fill
  // deleted_clients, the revocation sets and the audit log) ...
  LoginThrottle app_changes_;
  // ... and allowlist adds and removes (probing emails, flooding a stranger's security log).
  LoginThrottle allowlist_changes_;
  // ... and secret rotations (each writes events, secret rows, a hard cut's watermark).
  LoginThrottle secret_rotations_;
  // The seconds to wait before `throttle` counts another change of `user_id` from `ip`; 0:
  // counted, go ahead. Always 0 when dev_changes_per_hour is 0.
  int64_t change_wait(LoginThrottle& throttle, const std::string& user_id, const std::string& ip);
  // What a throttled change answers: "You <what> N times in the last hour, ... Try again in
  // M minutes." (429 with Retry-After: wait).
  std::string changes_message(int64_t wait, const std::string& what) const;
};

}  // namespace stagepass::web
