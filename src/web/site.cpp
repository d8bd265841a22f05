#include "web/site.hpp"

#include <boost/asio/post.hpp>
#include <climits>

#include "core/base64url.hpp"
#include "http/offload.hpp"
#include "oauth/token_endpoint.hpp"
#include "tokens/access_token.hpp"
#include "web/cookies.hpp"

namespace stagepass::web {

namespace {
void add_page_headers(http::Response& r) {
  r.header("Content-Security-Policy",
           "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
           "frame-ancestors 'none'");
  r.header("X-Content-Type-Options", "nosniff");
  r.header("X-Frame-Options", "DENY");
  r.header("Referrer-Policy", "no-referrer");
  r.header("Cache-Control", "no-store");
}
// issue15-fix:dashboard-throttle. Per person dev_changes_per_hour, per IP 4 times that,
// over an hour.
ThrottleSettings change_throttle(const SiteSettings& settings, const ThrottleSettings& login) {
  const int n = std::max(1, settings.dev_changes_per_hour);
  return {n, n > INT32_MAX / 4 ? INT32_MAX : 4 * n, 3600, login.max_tracked_keys,
          login.ipv6_network_factor};
}

}  // namespace

int64_t Site::change_wait(LoginThrottle& throttle, const std::string& user_id,
                          const std::string& ip) {
  if (settings_.dev_changes_per_hour <= 0) return 0;
  return throttle.reserve(user_id, ip, s_.clock.now());
}

std::string Site::changes_message(int64_t wait, const std::string& what) const {
  const int64_t minutes = std::max<int64_t>(1, (wait + 59) / 60);
  return "You " + what + " " + std::to_string(settings_.dev_changes_per_hour) +
         " times in the last hour, the most one person may. Try again in " +
         std::to_string(minutes) + (minutes == 1 ? " minute." : " minutes.");
}

Site::Site(oauth::Services& services, SiteStores stores, boost::asio::thread_pool& store_pool,
           boost::asio::thread_pool& cpu_pool, std::string csrf_key, SiteSettings settings,
           ThrottleSettings throttle, std::function<void(const User&)> on_user_created,
           DeveloperServices developer)
    : s_(services),
      stores_(stores),
      store_pool_(store_pool),
      cpu_pool_(cpu_pool),
      csrf_(std::move(csrf_key)),
      settings_(settings),
      throttle_(throttle),
      signup_throttle_({1, std::max(1, settings.signup_max_per_ip), settings.signup_window_seconds,
                        throttle.max_tracked_keys, throttle.ipv6_network_factor}),
      flow_(services),
      on_user_created_(std::move(on_user_created)),
      developer_(developer),
      app_changes_(change_throttle(settings, throttle)),
      allowlist_changes_(change_throttle(settings, throttle)),
      secret_rotations_(change_throttle(settings, throttle)) {
  // Never on an I/O thread: the first unknown email would stall every connection of it.
  boost::asio::post(cpu_pool_, [] { (void)dummy_password_hash(); });
}

void Site::register_routes(http::Router& router) {
  auto bind = [this](Awaitable (Site::*fn)(http::Request&)) {
    return [this, fn](http::Request& req) { return (this->*fn)(req); };
  };
  router.add("GET", "/", bind(&Site::home));
  router.add("GET", "/login", bind(&Site::login_form));
  router.add("POST", "/login", bind(&Site::login_submit));
  router.add("GET", "/signup", bind(&Site::signup_form));
  router.add("POST", "/signup", bind(&Site::signup_submit));
  router.add("POST", "/logout", bind(&Site::logout));
  router.add("GET", "/authorize", bind(&Site::authorize_get));
  router.add("POST", "/authorize", bind(&Site::authorize_post));
  router.add("GET", "/account/apps", bind(&Site::account_apps));
  router.add("POST", "/account/apps/remove", bind(&Site::account_apps_remove));
  router.add("GET", "/account/security", bind(&Site::account_security));
  router.add("POST", "/account/security/sign-out-everywhere",
             bind(&Site::account_sign_out_everywhere));
  router.add("POST", "/account/security/password", bind(&Site::account_password));
  router.add("GET", "/developer", bind(&Site::developer_home));
  router.add("GET", "/developer/docs", bind(&Site::developer_docs));
  router.add("GET", "/developer/apps/new", bind(&Site::developer_new));
  router.add("POST", "/developer/apps/new", bind(&Site::developer_create));
  router.add("GET", "/developer/app", bind(&Site::developer_app));
  router.add("GET", "/developer/app/edit", bind(&Site::developer_edit_form));
  router.add("POST", "/developer/app/edit", bind(&Site::developer_edit));
  router.add("POST", "/developer/app/delete", bind(&Site::developer_delete));
  router.add("POST", "/developer/app/secret/rotate", bind(&Site::developer_rotate_secret));
  router.add("POST", "/developer/app/allowlist/add", bind(&Site::developer_allowlist_add));
  router.add("POST", "/developer/app/allowlist/remove", bind(&Site::developer_allowlist_remove));
  router.add("GET", "/static/style.css", [](http::Request&) -> Awaitable {
    auto r = http::Response{200,
                            {{"Content-Type", "text/css; charset=utf-8"}},
                            std::string(template_source("style.css")),
                            {}};
    r.header("X-Content-Type-Options", "nosniff");
    r.header("Cache-Control", "public, max-age=3600");
    co_return r;
  });
}

boost::asio::awaitable<Site::Visitor> Site::visitor(const http::Request& req) {
  auto cookie = read_cookie(req.header("Cookie"), session_cookie_name(settings_.secure_cookies));
  if (!cookie) co_return Visitor{};
  std::string hash = token_hash(*cookie);
  // Not found: signed out. Any other error: the store is down, and the answer unknown.
  auto unknown = [](const Error& e) {
    Visitor v;
    v.unavailable = e.code != ErrorCode::kNotFound;
    return v;
  };
  auto lookup = [&]() -> Visitor {
    const int64_t now = s_.clock.now();
    auto session = stores_.sessions.find_session(hash, now);
    if (!session) return unknown(session.error());
    const int64_t unused_for = now - session->last_seen_at;
    if (settings_.session_idle_ttl > 0 && unused_for >= settings_.session_idle_ttl) {
      (void)stores_.sessions.delete_session(hash);  // idle too long: over for good
      return {};
    }
    if (unused_for >= settings_.session_touch_interval())
      (void)stores_.sessions.touch_session(hash, now);
    auto user = stores_.users.find_user(session->user_id);
    // Read apart from the session: if the credentials changed in between, the session is over,
    // and the password a page checks is always the one of the session's generation.
    if (!user) return unknown(user.error());
    if (user->credential_generation != session->generation) return {};
    return {std::move(*user), hash};
  };
  co_return co_await http::offload(store_pool_, lookup);
}

std::string Site::session_cookie(const http::Request& req) const {
  return read_cookie(req.header("Cookie"), session_cookie_name(settings_.secure_cookies))
      .value_or("");
}

std::string Site::fresh_csrf_cookie() {
  return set_cookie(csrf_cookie_name(settings_.secure_cookies), Csrf::new_seed(s_.random),
                    24 * 3600, settings_.secure_cookies);
}

std::string Site::csrf_token(const http::Request& req, std::string* new_cookie) {
  auto cookie = read_cookie(req.header("Cookie"), csrf_cookie_name(settings_.secure_cookies));
  std::string seed;
  if (cookie && Csrf::is_seed(*cookie)) {
    seed = *cookie;
  } else {
    seed = Csrf::new_seed(s_.random);
    *new_cookie = seed;
  }
  return csrf_.token(seed, session_cookie(req));
}

bool Site::csrf_ok(const http::Request& req, const Form& form) const {
  auto cookie = read_cookie(req.header("Cookie"), csrf_cookie_name(settings_.secure_cookies));
  auto token = form.get("csrf_token");
  if (!cookie || !token) return false;
  return csrf_.verify(*cookie, session_cookie(req), *token);
}

std::optional<Form> Site::posted_form(const http::Request& req) const {
  auto form = oauth::parse_form_body(req.header("Content-Type"), req.body());
  if (!form || !csrf_ok(req, *form)) return std::nullopt;
  return std::move(*form);
}

http::Response Site::expired_form(const http::Request& req) {
  return error_page(403, "Please try again", "This form expired or was not sent by this site.",
                    req);
}

http::Response Site::page(int status, std::string_view tmpl, const std::string& title, Data data,
                          const http::Request& req) {
  std::string new_cookie;
  data.set("csrf_token", csrf_token(req, &new_cookie));
  auto r = http::Response::html(status, render_page(tmpl, title, std::move(data)));
  add_page_headers(r);
  // Every 503 page means "the store could not be reached, try again" (RFC 9110 §10.2.3).
  if (status == 503) r.header("Retry-After", std::to_string(oauth::kUnavailableRetryAfter));
  if (!new_cookie.empty()) {
    r.header("Set-Cookie", set_cookie(csrf_cookie_name(settings_.secure_cookies), new_cookie,
                                      24 * 3600, settings_.secure_cookies));
  }
  return r;
}

http::Response Site::unavailable_page(const http::Request& req) {
  return error_page(503, "Please try again",
                    "The service cannot reach its database right now. Try again in a moment.", req);
}

http::Response Site::error_page(int status, const std::string& heading, const std::string& message,
                                const http::Request& req) {
  Data d;
  d.set("heading", heading);
  d.set("message", message);
  return page(status, "error.html", heading, std::move(d), req);
}

std::pair<Session, std::string> Site::new_session(const std::string& user_id, int64_t generation) {
  std::string value = base64url_encode(s_.random.bytes(32));
  const int64_t now = s_.clock.now();
  return {{token_hash(value), user_id, now, now + settings_.session_ttl, now, generation},
          std::move(value)};
}

Result<std::string> Site::create_session(const std::string& user_id, int64_t generation) {
  auto [session, value] = new_session(user_id, generation);
  auto created = stores_.sessions.create_session(session);
  if (!created) return fail(created.error());
  return value;
}

http::Response Site::signed_in_redirect(const std::string& session_cookie,
                                        const std::string& next) {
  auto r = http::Response::redirect(safe_continue(next));
  add_page_headers(r);
  r.header("Set-Cookie", set_cookie(session_cookie_name(settings_.secure_cookies), session_cookie,
                                    settings_.session_ttl, settings_.secure_cookies));
  r.header("Set-Cookie", fresh_csrf_cookie());
  return r;
}

http::Response Site::signed_out_redirect() {
  auto r = http::Response::redirect("/login");
  add_page_headers(r);
  r.header("Set-Cookie",
           clear_cookie(session_cookie_name(settings_.secure_cookies), settings_.secure_cookies));
  r.header("Set-Cookie", fresh_csrf_cookie());
  return r;
}

}  // namespace stagepass::web
