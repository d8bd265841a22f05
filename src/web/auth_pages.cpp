// Sign-in, sign-up, sign-out and the account home page.
#include <boost/json.hpp>

#include "crypto/crypto.hpp"
#include "http/offload.hpp"
#include "monitor/log.hpp"
#include "oauth/token_endpoint.hpp"
#include "tokens/access_token.hpp"
#include "web/cookies.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

Data user_data(const User& u) {
  Data d;
  d.set("display_name", u.display_name);
  d.set("email", u.email);
  return d;
}

Data continue_data(const std::string& next) {
  Data d;
  d.set("continue", next);
  d.set("continue_encoded", percent_encode(next));
  return d;
}

// RFC 5321 §4.5.3.1.3: a path (and so an address) is at most 256 octets with its brackets.
constexpr size_t kMaxEmailLength = 254;

// The sign-in page after a sign-up, new email or taken alike.
constexpr const char* kSignedUp =
    "If this email was new to Stagepass, your account is ready: sign in with the password you "
    "just chose. If you already had an account with it, sign in with that account's password.";

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

Site::Awaitable Site::home(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  Data d;
  if (v.user) d.set("user", user_data(*v.user));
  co_return page(200, "home.html", "Your account", std::move(d), req);
}

Site::Awaitable Site::login_form(http::Request& req) {
  auto query = Form::parse(req.query()).value_or(Form{});
  Data d = continue_data(safe_continue(query.get("continue")));
  if (query.get("signed_up") == "1") d.set("notice", std::string(kSignedUp));
  co_return page(200, "login.html", "Sign in", std::move(d), req);
}

Site::Awaitable Site::login_submit(http::Request& req) {
  auto form = posted_form(req);
  if (!form) {
    co_return error_page(403, "Please try again",
                         "Your sign-in form expired or was not sent by this site.", req);
  }
  std::string next = safe_continue(form->get("continue"));
  std::string email = lower(form->get("username").value_or(""));
  std::string password = form->get("password").value_or("");
  const std::string ip = req.remote_ip;

  auto again = [&](int status, std::string message) {
    Data d = continue_data(next);
    d.set("email", email);
    d.set("error", std::move(message));
    return page(status, "login.html", "Sign in", std::move(d), req);
  };
  // Counted before the password is checked (and given back if it is right): parallel guesses
  // cannot all slip past the limit. No account has a longer email than sign-up allows, so
  // longer keys are cut rather than kept whole in memory.
  const int64_t attempt_at = s_.clock.now();
  const std::string account_key = email.substr(0, kMaxEmailLength);
  if (int64_t wait = throttle_.reserve(account_key, ip, attempt_at); wait > 0) {
    log::event("warn", "sign-in throttled", {{"ip", ip}});
    auto r = again(429, "Too many failed attempts. Try again in " +
                            std::to_string((wait + 59) / 60) + " minute(s).");
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }

  auto find_user = [&] { return stores_.users.find_user_by_email(email); };
  auto user = co_await http::offload(store_pool_, find_user);
  if (!user && user.error().code != ErrorCode::kNotFound) {
    // The store failed: nothing was checked, so nothing counts as a wrong password.
    throttle_.release(account_key, ip, attempt_at);
    log::event("error", "sign-in lookup failed", {{"error", user.error().message}});
    // page() gives every 503 its one Retry-After (a second one would make the field invalid).
    auto r = again(503, "The service is busy. Try again in a moment.");
    co_return r;
  }
  // Check a hash even for unknown accounts so timing does not reveal which emails exist.
  auto verify = [&] {
    return crypto::password_verify(user ? user->password_hash : dummy_password_hash(), password);
  };
  bool ok = co_await http::offload(cpu_pool_, verify);
  const std::string user_agent(utf8_prefix(req.header("User-Agent"), 200));
  if (!user || !ok) {
    // issue15:abuse: many accounts failing from one address is credential stuffing.
    if (s_.abuse) s_.abuse->note_sign_in_failure(ip, account_key, s_.clock.now());
    if (user && s_.audit) {  // failures on an existing account go to its owner's log
      auto note = [&] {
        s_.audit({0, 0, "sign_in_failed", user->id, "", ip, user_agent, "wrong password"});
        return true;
      };
      co_await http::offload(store_pool_, note);
    } else {
      log::event("info", "sign-in failed", {{"ip", ip}});
    }
    co_return again(403, "Incorrect email or password.");
  }
  throttle_.succeeded(account_key, ip, attempt_at);
  std::string user_id = user->id;
  // Signing in again ends the session this browser presented (whoever's it was): one browser,
  // one live session, and a session id planted before sign-in is dead after it.
  const std::string presented = session_cookie(req);
  auto open_session = [&] {
    if (!presented.empty()) (void)stores_.sessions.delete_session(token_hash(presented));
    // Only while the password just checked is still the person's (store.hpp, SessionStore).
    auto cookie = create_session(user_id, user->credential_generation);
    if (cookie && s_.audit) s_.audit({0, 0, "sign_in", user_id, "", ip, user_agent, ""});
    return cookie;
  };
  auto cookie = co_await http::offload(store_pool_, open_session);
  if (!cookie && cookie.error().code == ErrorCode::kConflict) {
    // The password changed (or every session was ended) while this one was being checked:
    // the password typed is no longer the account's.
    co_return again(403, "Incorrect email or password.");
  }
  if (!cookie) co_return again(503, "The service is busy. Try again in a moment.");
  co_return signed_in_redirect(*cookie, next);
}

Site::Awaitable Site::signup_form(http::Request& req) {
  auto query = Form::parse(req.query()).value_or(Form{});
  Data d = continue_data(safe_continue(query.get("continue")));
  co_return page(200, "signup.html", "Create your account", std::move(d), req);
}

// Sign-up answers the same whether or not the email already has an account (no enumeration
// through this form): 303 to the sign-in form (/login?signed_up=1, with the continue target),
// which says that a new account is ready. Post/Redirect/Get: a reload re-posts nothing (a
// second sign-up of the email would note a "taken" attempt in its new owner's log). The email
// is not carried over: it would have to travel in the URL (history, proxy logs).
// A new email gets its account; a taken one changes nothing (its owner's log notes the
// attempt). Both cost one Argon2id hash, after the cheap checks: form, throttle, lookup.
Site::Awaitable Site::signup_submit(http::Request& req) {
  auto form = posted_form(req);
  if (!form) {
    co_return error_page(403, "Please try again",
                         "Your sign-up form expired or was not sent by this site.", req);
  }
  std::string next = safe_continue(form->get("continue"));
  User u;
  u.email = lower(form->get("email").value_or(""));
  u.display_name = form->get("display_name").value_or("");
  std::string password = form->get("password").value_or("");
  const std::string ip = req.remote_ip;
  const std::string user_agent(utf8_prefix(req.header("User-Agent"), 200));
  auto again = [&](int status, std::string message) {
    Data d = continue_data(next);
    d.set("email", u.email);
    d.set("display_name", u.display_name);
    d.set("error", std::move(message));
    return page(status, "signup.html", "Create your account", std::move(d), req);
  };
  if (u.email.size() < 3 || u.email.size() > kMaxEmailLength ||
      u.email.find('@') == std::string::npos) {
    co_return again(400, "Enter a valid email address.");
  }
  if (u.display_name.empty() || u.display_name.size() > 100) {
    co_return again(400, "Enter a display name (up to 100 characters).");
  }
  if (password.size() < 8 || password.size() > 1024) {
    co_return again(400, "Choose a password of at least 8 characters.");
  }
  if (settings_.signup_max_per_ip > 0) {
    if (int64_t wait = signup_throttle_.reserve_ip(ip, s_.clock.now()); wait > 0) {
      log::event("warn", "sign-up throttled", {{"ip", ip}});
      auto r = again(429, "Too many new accounts from your network. Try again in " +
                              std::to_string((wait + 59) / 60) + " minute(s).");
      r.header("Retry-After", std::to_string(wait));
      co_return r;
    }
  }
  auto find_owner = [&] { return stores_.users.find_user_by_email(u.email); };
  auto owner = co_await http::offload(store_pool_, find_owner);
  if (!owner && owner.error().code != ErrorCode::kNotFound) {
    co_return again(503, "The service is busy. Try again in a moment.");
  }
  // Hashed either way, so a taken email answers no sooner than a new one.
  auto hash_password = [&] { return crypto::password_hash(password); };
  u.password_hash = co_await http::offload(cpu_pool_, hash_password);
  u.id = s_.random.id22();
  u.created_at = s_.clock.now();
  auto create = [&]() -> bool {
    if (owner) {
      if (s_.audit) s_.audit({0, 0, "sign_up_taken", owner->id, "", ip, user_agent, ""});
      return true;
    }
    auto r = stores_.users.create_user(u);
    if (!r) return r.error().code == ErrorCode::kConflict;  // taken meanwhile: the same answer
    if (on_user_created_) on_user_created_(u);
    if (s_.audit) s_.audit({0, 0, "sign_up", u.id, "", ip, user_agent, ""});
    return true;
  };
  if (!co_await http::offload(store_pool_, create)) {
    co_return again(503, "The service is busy. Try again in a moment.");
  }
  auto r = http::Response::redirect("/login?signed_up=1&continue=" + percent_encode(next));
  r.header("Cache-Control", "no-store");
  co_return r;
}

Site::Awaitable Site::logout(http::Request& req) {
  auto form = posted_form(req);
  if (!form) {
    co_return error_page(403, "Please try again", "The sign-out form was not sent by this site.",
                         req);
  }
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.session_hash.empty()) {
    std::string hash = v.session_hash;
    auto end_session = [&] {
      if (s_.audit && v.user) s_.audit({0, 0, "sign_out", v.user->id, "", req.remote_ip, "", ""});
      return stores_.sessions.delete_session(hash).ok();
    };
    co_await http::offload(store_pool_, end_session);
  }
  co_return signed_out_redirect();
}

const std::string& Site::dummy_password_hash() {
  static const std::string hash = crypto::password_hash("stagepass-dummy-password");
  return hash;
}

}  // namespace stagepass::web
