// Site: the server-rendered pages of the accounts service (sign-in, sign-up, consent,
// account home, Account → Apps) and their plumbing: sessions, CSRF, security headers, login
// throttling.
//
// Handlers run on I/O threads and offload every store call and password hash to the worker
// pools. Thread safety: after register_routes() the Site is shared read-only (its throttle
// locks internally).
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <optional>
#include <string>

#include "http/router.hpp"
#include "monitor/login_throttle.hpp"
#include "oauth/authorize.hpp"
#include "oauth/services.hpp"
#include "web/templates.hpp"

namespace stagepass::web {

struct SiteSettings {
  bool secure_cookies = false;           // true when the issuer is https
  int64_t session_ttl = 14 * 24 * 3600;  // sign-in lasts this long
};

class Site {
 public:
  Site(oauth::Services& services, boost::asio::thread_pool& store_pool,
       boost::asio::thread_pool& cpu_pool, std::string csrf_key, SiteSettings settings,
       ThrottleSettings throttle, std::function<void(const User&)> on_user_created = {});
  void register_routes(http::Router& router);

 private:
  struct Visitor {
    std::optional<User> user;
    std::string session_hash;
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
  Awaitable security_page(const http::Request& req, const User& user, int64_t before,
                          std::string notice, std::string error);

  boost::asio::awaitable<Visitor> visitor(const http::Request& req);
  // A page with the security headers and, when the visitor had none, a fresh CSRF cookie.
  http::Response page(int status, std::string_view tmpl, const std::string& title, Data data,
                      const http::Request& req);
  http::Response error_page(int status, const std::string& heading, const std::string& message,
                            const http::Request& req);
  // The CSRF token to embed in forms for this request (signed double-submit cookie).
  std::string csrf_token(const http::Request& req, std::string* new_cookie);
  bool csrf_ok(const http::Request& req, const Form& form) const;
  // The POSTed form, if it is urlencoded (no repeated fields) and carries this visitor's CSRF
  // token; nullopt otherwise (answer with expired_form()).
  std::optional<Form> posted_form(const http::Request& req) const;
  http::Response expired_form(const http::Request& req);
  // Blocking: stores a new session for the user and returns the cookie value.
  std::string create_session(const std::string& user_id);
  // 303 to `next` that sets the session cookie.
  http::Response signed_in_redirect(const std::string& session_cookie, const std::string& next);

  oauth::Services& s_;
  boost::asio::thread_pool& store_pool_;
  boost::asio::thread_pool& cpu_pool_;
  std::string csrf_key_;
  SiteSettings settings_;
  LoginThrottle throttle_;
  oauth::AuthorizeFlow flow_;
  std::function<void(const User&)> on_user_created_;  // blocking allowed (worker thread)
};

// Only same-site relative paths may be continued to after sign-in (no open redirect).
std::string safe_continue(std::optional<std::string> target);

}  // namespace stagepass::web
