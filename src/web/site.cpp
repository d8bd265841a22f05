#include "web/site.hpp"

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"
#include "http/offload.hpp"
#include "oauth/token_endpoint.hpp"
#include "tokens/access_token.hpp"
#include "web/cookies.hpp"

namespace stagepass::web {

namespace {
constexpr std::string_view kSessionCookie = "sp_session";
constexpr std::string_view kCsrfCookie = "sp_csrf";

void add_page_headers(http::Response& r) {
  r.header("Content-Security-Policy",
           "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; "
           "frame-ancestors 'none'");
  r.header("X-Content-Type-Options", "nosniff");
  r.header("X-Frame-Options", "DENY");
  r.header("Referrer-Policy", "no-referrer");
  r.header("Cache-Control", "no-store");
}
}  // namespace

std::string safe_continue(std::optional<std::string> target) {
  if (!target || target->empty() || (*target)[0] != '/' || target->starts_with("//") ||
      target->find('\\') != std::string::npos) {
    return "/";
  }
  return *target;
}

Site::Site(oauth::Services& services, boost::asio::thread_pool& store_pool,
           boost::asio::thread_pool& cpu_pool, std::string csrf_key, SiteSettings settings,
           ThrottleSettings throttle, std::function<void(const User&)> on_user_created)
    : s_(services),
      store_pool_(store_pool),
      cpu_pool_(cpu_pool),
      csrf_key_(std::move(csrf_key)),
      settings_(settings),
      throttle_(throttle),
      flow_(services),
      on_user_created_(std::move(on_user_created)) {}

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
  auto cookie = read_cookie(req.header("Cookie"), kSessionCookie);
  if (!cookie) co_return Visitor{};
  std::string hash = token_hash(*cookie);
  auto lookup = [&]() -> Visitor {
    auto session = s_.store.find_session(hash, s_.clock.now());
    if (!session) return {};
    auto user = s_.store.find_user(session->user_id);
    if (!user) return {};
    return {std::move(*user), hash};
  };
  co_return co_await http::offload(store_pool_, lookup);
}

std::string Site::csrf_token(const http::Request& req, std::string* new_cookie) {
  auto cookie = read_cookie(req.header("Cookie"), kCsrfCookie);
  std::string seed;
  if (cookie && cookie->size() == 43) {
    seed = *cookie;
  } else {
    seed = base64url_encode(s_.random.bytes(32));
    *new_cookie = seed;
  }
  return base64url_encode(crypto::hmac_sha256(csrf_key_, seed));
}

bool Site::csrf_ok(const http::Request& req, const Form& form) const {
  auto cookie = read_cookie(req.header("Cookie"), kCsrfCookie);
  auto token = form.get("csrf_token");
  if (!cookie || !token) return false;
  return crypto::constant_time_equal(base64url_encode(crypto::hmac_sha256(csrf_key_, *cookie)),
                                     *token);
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
  if (!new_cookie.empty()) {
    r.header("Set-Cookie",
             set_cookie(kCsrfCookie, new_cookie, 24 * 3600, settings_.secure_cookies));
  }
  return r;
}

http::Response Site::error_page(int status, const std::string& heading, const std::string& message,
                                const http::Request& req) {
  Data d;
  d.set("heading", heading);
  d.set("message", message);
  return page(status, "error.html", heading, std::move(d), req);
}

std::string Site::create_session(const std::string& user_id) {
  std::string value = base64url_encode(s_.random.bytes(32));
  int64_t now = s_.clock.now();
  if (!s_.store.create_session({token_hash(value), user_id, now, now + settings_.session_ttl})) {
    return {};
  }
  return value;
}

http::Response Site::signed_in_redirect(const std::string& session_cookie,
                                        const std::string& next) {
  auto r = http::Response::redirect(next);
  add_page_headers(r);
  r.header("Set-Cookie", set_cookie(kSessionCookie, session_cookie, settings_.session_ttl,
                                    settings_.secure_cookies));
  return r;
}

}  // namespace stagepass::web
