// Account → Security: the person's own security log and the controls that go with it.
//
// GET  /account/security[?before=ID]        the audit stream of this person, newest first,
//                                           20 a page, with IP and user agent
// POST /account/security/sign-out-everywhere ends every session (this one too)
// POST /account/security/password           current password required; ends every session
//                                           and continues this browser in a new one;
//                                           optionally removes every app's access; then 303
//                                           to /account/security?changed=1 (2: apps removed
//                                           too), Post/Redirect/Get: a reload re-posts nothing
// Every POST checks the CSRF token; signed-out visitors are sent to sign in first.
#include <map>

#include "crypto/crypto.hpp"
#include "http/offload.hpp"
#include "oauth/token_endpoint.hpp"
#include "web/page_helpers.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

constexpr const char* kSecurityPath = "/account/security";
constexpr int kPageSize = 20;

std::string label_of(const std::string& type) {
  static const std::map<std::string, std::string> kLabels = {
      {"sign_in", "Signed in"},
      {"sign_in_failed", "Failed sign-in (wrong password)"},
      {"sign_up", "Account created"},
      {"sign_up_taken", "Someone tried to create an account with your email (nothing changed)"},
      {"sign_out", "Signed out"},
      {"signed_out_everywhere", "Signed out everywhere"},
      {"consent_granted", "Gave an app access"},
      {"app_removed", "Removed an app's access"},
      {"app_signed_out", "An app signed out"},
      {"access_token_revoked", "An app revoked one of its access tokens"},
      {"refresh_token_reuse", "Suspicious token reuse: the app's access was revoked"},
      {"authorization_code_replay",
       "An authorization code was used twice: the app's access was revoked"},
      {"password_changed", "Password changed"},
      {"password_change_failed", "Failed password change (wrong current password)"},
      // The developer dashboard (developer_pages.cpp).
      {"app_created", "Created an app on the developer dashboard"},
      {"app_updated", "Changed an app's settings on the developer dashboard"},
      {"app_deleted", "Deleted an app on the developer dashboard"},
      // issue15:wire-ui. The app page's sections (developer_app_sections.cpp).
      {"client_secret_rotated", "Rotated an app's client secret"},
      {"allowlist_added", "An app's developer put you on its allowlist"},
      {"allowlist_removed",
       "An app's developer took you off its allowlist: its access was revoked"},
  };
  auto it = kLabels.find(type);
  return it == kLabels.end() ? type : it->second;
}

http::Response sign_in_first() {
  return http::Response::redirect(std::string("/login?continue=") + percent_encode(kSecurityPath));
}

}  // namespace

Site::Awaitable Site::account_security(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first();
  auto query = Form::parse(req.query()).value_or(Form{});
  int64_t before = 0;
  if (auto b = query.get("before")) before = std::strtoll(b->c_str(), nullptr, 10);
  std::string notice;
  if (query.get("changed") == "1")
    notice = "Password changed. Your other sessions were signed out.";
  if (query.get("changed") == "2") {
    notice = "Password changed. Your other sessions were signed out and every app lost access.";
  }
  co_return co_await security_page(req, *v.user, before, std::move(notice), {});
}

boost::asio::awaitable<http::Response> Site::security_page(const http::Request& req,
                                                           const User& user, int64_t before,
                                                           std::string notice, std::string error) {
  struct Row {
    AuditEvent event;
    std::string app_name;
    bool developer_named = false;  // a dashboard app: its name is its developer's text
  };
  auto load = [&] {
    std::vector<Row> rows;
    auto events = stores_.events.user_events(user.id, before, kPageSize);
    if (!events) return rows;
    std::map<std::string, std::pair<std::string, bool>> names;  // id → name, developer's
    for (auto& e : *events) {
      std::pair<std::string, bool> name;
      if (!e.client_id.empty()) {
        if (!names.count(e.client_id)) {
          auto c = stores_.clients.find_client(e.client_id);
          names[e.client_id] = c ? std::make_pair(c->name, !c->owner_id.empty())
                                 : std::make_pair(std::string("a deleted app"), false);
        }
        name = names[e.client_id];
      }
      rows.push_back({std::move(e), std::move(name.first), name.second});
    }
    return rows;
  };
  auto rows = co_await http::offload(store_pool_, load);
  kainjow::mustache::list events;
  for (const auto& r : rows) {
    Data e;
    e.set("type", r.event.type);
    e.set("label", label_of(r.event.type));
    auto [at, at_iso] = format_time(r.event.at);
    e.set("at", at);
    e.set("at_iso", at_iso);
    if (!r.app_name.empty()) e.set("app_name", r.app_name);
    // issue15-fix:app-names. Anyone may register an app on the dashboard and name it as they
    // like ("Stagepass Security: verify at ..."): such a name is shown as its developer's
    // words, quoted, never as the platform's.
    e.set("developer_named", r.developer_named);
    if (!r.event.ip.empty()) e.set("ip", r.event.ip);
    if (!r.event.user_agent.empty()) e.set("user_agent", r.event.user_agent);
    events.push_back(e);
  }
  Data d;
  d.set("user", user_nav(user));
  d.set("has_events", !events.empty());
  d.set("events", events);
  if (rows.size() == static_cast<size_t>(kPageSize))
    d.set("older", std::to_string(rows.back().event.id));
  if (!notice.empty()) d.set("notice", notice);
  if (!error.empty()) d.set("error", error);
  co_return page(error.empty() ? 200 : 403, "security.html", "Security", std::move(d), req);
}

Site::Awaitable Site::account_sign_out_everywhere(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first();
  auto end_all = [&] {
    auto ended = stores_.sessions.delete_user_sessions(v.user->id, "");
    if (s_.audit) {
      s_.audit({0, 0, "signed_out_everywhere", v.user->id, "", req.remote_ip,
                std::string(utf8_prefix(req.header("User-Agent"), 200)),
                ended ? std::to_string(*ended) + " session(s) ended" : ""});
    }
    return ended.ok();
  };
  co_await http::offload(store_pool_, end_all);
  co_return signed_out_redirect();
}

Site::Awaitable Site::account_password(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first();
  const User& user = *v.user;
  const std::string current = form->get("current_password").value_or("");
  const std::string next = form->get("new_password").value_or("");
  const bool disconnect = form->get("disconnect_apps") == "yes";
  const std::string ip = req.remote_ip;
  const std::string user_agent(utf8_prefix(req.header("User-Agent"), 200));
  if (next.size() < 8 || next.size() > 1024) {
    co_return co_await security_page(req, user, 0, {},
                                     "Choose a new password of at least 8 characters.");
  }
  // The same brute-force throttle as the sign-in form (this form also tests passwords), the
  // attempt counted before the check.
  const int64_t attempt_at = s_.clock.now();
  if (int64_t wait = throttle_.reserve(user.email, ip, attempt_at); wait > 0) {
    auto r = co_await security_page(req, user, 0, {},
                                    "Too many failed attempts. Try again in " +
                                        std::to_string((wait + 59) / 60) + " minute(s).");
    r.status = 429;
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  auto verify = [&] { return crypto::password_verify(user.password_hash, current); };
  if (!co_await http::offload(cpu_pool_, verify)) {
    auto note = [&] {
      if (s_.audit) s_.audit({0, 0, "password_change_failed", user.id, "", ip, user_agent, ""});
      return true;
    };
    co_await http::offload(store_pool_, note);
    co_return co_await security_page(req, user, 0, {}, "The current password is not correct.");
  }
  throttle_.succeeded(user.email, ip, attempt_at);
  auto hash_new = [&] { return crypto::password_hash(next); };
  std::string hash = co_await http::offload(cpu_pool_, hash_new);
  struct Applied {
    bool ok = false;
    std::string session_cookie;  // the new session of this browser
    bool lost_race = false;      // the credentials changed since this page's session was read
  };
  auto apply = [&]() -> Applied {
    // One write (UserStore::change_password), only over the generation this request's session
    // was read with: a change checked against the old password must not win over a later
    // change or "sign out everywhere". Whoever knew the old password may hold a session, or a
    // copy of this one's cookie: every session ends, this browser continues in a new one; with
    // "remove every app", every grant is revoked in the same write.
    const int64_t now = s_.clock.now();
    auto [session, cookie] = new_session(user.id, user.credential_generation);
    auto changed = stores_.users.change_password(
        {user.id, hash, user.credential_generation, std::move(session), disconnect, now});
    if (!changed) return {false, "", changed.error().code == ErrorCode::kConflict};
    AuditEvent event{
        0,
        0,
        "password_changed",
        user.id,
        "",
        ip,
        user_agent,
        disconnect ? std::to_string(changed->grants_revoked) + " app(s) disconnected" : ""};
    if (changed->grants_revoked > 0) {
      s_.revoker.revoked(std::move(event));  // this node's Web API refuses them at once
    } else if (s_.audit) {
      s_.audit(std::move(event));
    }
    return {true, std::move(cookie)};
  };
  const Applied applied = co_await http::offload(store_pool_, apply);
  if (applied.lost_race) co_return signed_out_redirect();  // this session ended meanwhile
  if (!applied.ok) {
    co_return error_page(503, "Please try again", "The service is busy. Try again in a moment.",
                         req);
  }
  // Post/Redirect/Get, in this browser's new session (and a fresh CSRF seed).
  co_return signed_in_redirect(applied.session_cookie, disconnect ? "/account/security?changed=2"
                                                                  : "/account/security?changed=1");
}

}  // namespace stagepass::web
