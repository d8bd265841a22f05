// The developer dashboard: the apps (OAuth clients) a signed-in person registered.
//
// GET  /developer                 the person's apps, and how many more they may create
// GET  /developer/apps/new        the "create an app" form
// POST /developer/apps/new        creates it - at most max_apps_per_user per person, counted
//                                 inside the store's write, and at most dev_changes_per_hour
//                                 creates and deletes per person per hour (429 with
//                                 Retry-After, the form kept) - then 303 to the app's page
//                                 (&created=1), which shows the client secret once
//                                 (Post/Redirect/Get: a reload creates nothing): the secret is
//                                 never in a URL or a log, stored only as its SHA-256, and
//                                 held in memory for that one GET only (web/secret_reveals.hpp)
// GET  /developer/app?id=ID       one app: its settings and its sections (Secret, Allowlist,
//                                 Usage: developer_app_sections.cpp, with their forms); the
//                                 new secret of this session's last create or rotation of the
//                                 app, once; &created=1 / &rotated=1 without it (a reload, or
//                                 over 10 min later): says it cannot be shown again
// GET  /developer/app/edit?id=ID  the edit form
// POST /developer/app/edit        saves it, or shows the form again as typed, each field with
//                                 its own message (app_registration.hpp)
// POST /developer/app/delete      without confirm=yes: the confirmation page (no GET, so a link
//                                 or a prefetch can never delete); with it: deletes the app and
//                                 revokes every grant and token of it (ClientStore::
//                                 delete_client, announced to this node before answering).
//                                 A suspended app answers 403: only an operator deletes it;
//                                 past dev_changes_per_hour, 429 with Retry-After
// An app is visible only to its owner: any other id - another person's app, an operator's
// app, no app - answers the same 404 page, so nobody learns which ids exist. Every POST
// checks the CSRF token; signed-out visitors are sent to sign in first; a failing store
// answers a 503 page, never a 500.
#include <algorithm>

#include "core/text.hpp"
#include "http/offload.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/token_endpoint.hpp"
#include "web/app_registration.hpp"
#include "web/page_helpers.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

constexpr const char* kDeveloperPath = "/developer";
constexpr const char* kNewAppPath = "/developer/apps/new";
// The app page after a create or a rotation whose secret was shown already (a reload).
constexpr const char* kSecretGone =
    "The new secret was shown once and cannot be shown again. If you did not copy it, rotate "
    "the secret to get another.";

http::Response sign_in_first(const std::string& back) {
  return http::Response::redirect("/login?continue=" + percent_encode(back));
}

// Client ids of dashboard apps: 32 hex digits (128 random bits), Spotify's shape.
std::string new_client_id(Random& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : random.bytes(16)) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Whether `id` can be a client id at all (operators choose theirs: letters, digits, - _ .).
bool plausible_client_id(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::string app_path(const std::string& id) { return "/developer/app?id=" + percent_encode(id); }

kainjow::mustache::list text_list(const std::vector<std::string>& values) {
  kainjow::mustache::list out;
  for (const auto& v : values) out.push_back(Data{"value", v});
  return out;
}

// What the list and the app page show of an app.
Data app_data(const Client& c) {
  Data d;
  d.set("client_id", c.id);
  d.set("name", c.name);
  if (!c.description.empty()) d.set("description", c.description);
  d.set("is_public", c.is_public);
  d.set("type", c.is_public ? "Public (PKCE, no secret)" : "Confidential (has a secret)");
  d.set("redirect_uris", text_list(c.redirect_uris));
  d.set("has_web_origins", !c.web_origins.empty());
  d.set("web_origins", text_list(c.web_origins));
  auto scopes = scope_list(c.allowed_scopes);
  d.set("has_scopes", !scopes.empty());
  d.set("scopes", scopes);
  auto [created, created_iso] = format_time(c.created_at);
  d.set("created", created);
  d.set("created_iso", created_iso);
  d.set("app_path", app_path(c.id));
  return d;
}

// The form's fields as typed (or as stored, to edit), and each field's message.
Data form_data(const AppFormInput& in, const AppFormErrors* errors) {
  Data d;
  d.set("name", in.name);
  d.set("description", in.description);
  d.set("redirect_uris", in.redirect_uris);
  d.set("web_origins", in.web_origins);
  d.set("type_public", in.type == "public");
  d.set("type_confidential", in.type != "public");
  kainjow::mustache::list scopes;
  for (const auto& info : known_scopes()) {
    Data s;
    s.set("name", std::string(info.name));
    s.set("description", std::string(info.description));
    s.set("checked", std::find(in.scopes.begin(), in.scopes.end(), info.name) != in.scopes.end());
    scopes.push_back(s);
  }
  d.set("scopes", scopes);
  if (errors) {
    auto set = [&](const char* key, const std::string& message) {
      if (!message.empty()) d.set(key, message);
    };
    set("name_error", errors->name);
    set("description_error", errors->description);
    set("redirect_uris_error", errors->redirect_uris);
    set("web_origins_error", errors->web_origins);
    set("scopes_error", errors->scopes);
    set("type_error", errors->type);
    if (errors->any()) d.set("error", std::string("Some fields need a change: see below."));
  }
  return d;
}

AppFormInput input_of(const Client& c) {
  AppFormInput in;
  in.name = c.name;
  in.description = c.description;
  in.redirect_uris = join(c.redirect_uris, "\n");
  in.web_origins = join(c.web_origins, "\n");
  in.scopes = c.allowed_scopes.names();
  in.type = c.is_public ? "public" : "confidential";
  return in;
}

AuditEvent app_event(std::string type, const std::string& user_id, const Client& c,
                     const http::Request& req) {
  // The app's name only (cut at a character boundary): never a secret in an event.
  return {0,
          0,
          std::move(type),
          user_id,
          c.id,
          req.remote_ip,
          std::string(utf8_prefix(req.header("User-Agent"), 200)),
          "\"" + std::string(utf8_prefix(c.name, 100)) + "\""};
}

}  // namespace

boost::asio::awaitable<Site::OwnedApp> Site::owned_app(const std::string& user_id,
                                                       const std::string& id) {
  if (!plausible_client_id(id)) co_return OwnedApp{OwnedApp::kMissing, {}};
  auto find = [&]() -> OwnedApp {
    auto c = stores_.clients.find_client(id);
    if (!c) {
      return {c.error().code == ErrorCode::kNotFound ? OwnedApp::kMissing : OwnedApp::kBusy, {}};
    }
    // An operator's app has no owner: it is nobody's on the dashboard.
    if (c->owner_id.empty() || c->owner_id != user_id) return {OwnedApp::kMissing, {}};
    return {OwnedApp::kFound, std::move(*c)};
  };
  co_return co_await http::offload(store_pool_, find);
}

http::Response Site::app_missing(const http::Request& req) {
  return error_page(404, "App not found", "You have no app with this id.", req);
}

http::Response Site::busy_page(const http::Request& req) {
  // page() gives every 503 its one Retry-After (a second one would make the field invalid).
  return error_page(503, "Please try again", "The service is busy. Try again in a moment.", req);
}

http::Response Site::app_form_page(int status, const User& user, const AppFormInput& in,
                                   const AppFormErrors* errors, const Client* editing,
                                   std::string error, const http::Request& req) {
  Data d = form_data(in, errors);
  d.set("user", user_nav(user));
  d.set("wide", true);
  if (!error.empty()) d.set("error", error);
  if (editing) {
    d.set("editing", true);
    d.set("client_id", editing->id);
    d.set("app_path", app_path(editing->id));
    d.set("type_label",
          editing->is_public ? "Public (PKCE, no secret)" : "Confidential (has a secret)");
    d.set("action", std::string("/developer/app/edit"));
    return page(status, "developer_app_form.html", "Edit " + editing->name, std::move(d), req);
  }
  d.set("action", std::string(kNewAppPath));
  return page(status, "developer_app_form.html", "Create an app", std::move(d), req);
}

Site::Awaitable Site::app_page(const User& user, const Client& c, AppPageState state,
                               const http::Request& req) {
  Data d = app_data(c);
  d.set("user", user_nav(user));
  d.set("wide", true);
  if (!state.new_secret.empty()) d.set("new_secret", state.new_secret);
  if (!state.notice.empty()) d.set("notice", state.notice);
  co_await app_sections(d, c, state);
  co_return page(state.status, "developer_app.html", c.name, std::move(d), req);
}

std::string Site::app_limit_message() const {
  return "You already have " + std::to_string(settings_.max_apps_per_user) +
         " apps, the most one person may have. Delete one to create another.";
}

Site::Awaitable Site::developer_home(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first(kDeveloperPath);
  const std::string user_id = v.user->id;
  auto load = [&] { return stores_.clients.list_owned_clients(user_id); };
  auto apps = co_await http::offload(store_pool_, load);
  if (!apps) co_return busy_page(req);
  Data d;
  d.set("user", user_nav(*v.user));
  d.set("wide", true);
  kainjow::mustache::list rows;
  for (const auto& c : *apps) rows.push_back(app_data(c));
  d.set("has_apps", !rows.empty());
  d.set("apps", rows);
  d.set("app_count", std::to_string(apps->size()));
  d.set("max_apps", std::to_string(settings_.max_apps_per_user));
  const bool can_create = static_cast<int64_t>(apps->size()) < settings_.max_apps_per_user;
  d.set("can_create", can_create);
  if (!can_create) d.set("limit_reached", app_limit_message());
  auto query = Form::parse(req.query()).value_or(Form{});
  if (query.get("deleted") == "1") {
    d.set("notice", std::string("App deleted. Every token it held stopped working, and every "
                                "person who had connected it lost access."));
  }
  co_return page(200, "developer.html", "Developer", std::move(d), req);
}

Site::Awaitable Site::developer_new(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first(kNewAppPath);
  AppFormInput in;
  in.type = "confidential";
  for (const auto& info : known_scopes()) in.scopes.emplace_back(info.name);
  co_return app_form_page(200, *v.user, in, nullptr, nullptr, "", req);
}

Site::Awaitable Site::developer_create(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first(kNewAppPath);
  const User& user = *v.user;
  const AppFormInput in = app_form_input(*form);
  auto valid = validate_app_form(in);
  if (!valid) co_return app_form_page(400, user, in, &valid.error(), nullptr, "", req);

  Client c;
  c.id = new_client_id(s_.random);
  c.name = valid->name;
  c.description = valid->description;
  c.is_public = valid->is_public;
  c.redirect_uris = valid->redirect_uris;
  c.web_origins = valid->web_origins;
  c.allowed_scopes = valid->scopes;
  c.created_at = s_.clock.now();
  c.owner_id = user.id;
  c.development = true;  // a dashboard app serves its allowlist (and its owner) until extended
  if (int64_t wait = change_wait(app_changes_, user.id, req.remote_ip); wait > 0) {
    auto r = app_form_page(429, user, in, nullptr, nullptr,
                           changes_message(wait, "created or deleted apps"), req);
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  std::string secret;  // shown once, on the page this request answers
  if (!c.is_public) {
    secret = s_.random.token("sps_");
    c.secret_hash = oauth::client_secret_hash(secret);
  }
  auto create = [&]() -> std::optional<ErrorCode> {
    auto r = stores_.clients.create_owned_client(c, settings_.max_apps_per_user);
    if (!r) return r.error().code;
    if (s_.audit) s_.audit(app_event("app_created", user.id, c, req));
    return std::nullopt;
  };
  const std::optional<ErrorCode> failed = co_await http::offload(store_pool_, create);
  if (failed && *failed == ErrorCode::kInvalid) {
    co_return app_form_page(403, user, in, nullptr, nullptr, app_limit_message(), req);
  }
  if (failed) co_return busy_page(req);
  // Post/Redirect/Get: the secret waits for this session's GET of the app page, once.
  if (!secret.empty()) {
    reveals_.put(v.session_hash, c.id, {Secret(std::move(secret)), "App created."}, s_.clock.now());
  }
  co_return http::Response::redirect(app_path(c.id) + "&created=1");
}

Site::Awaitable Site::developer_app(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  auto query = Form::parse(req.query()).value_or(Form{});
  const std::string id = query.get("id").value_or("");
  if (!v.user) co_return sign_in_first(app_path(id));
  auto app = co_await owned_app(v.user->id, id);
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound) co_return app_missing(req);
  AppPageState state;
  if (auto shown = reveals_.take(v.session_hash, app.client.id, s_.clock.now())) {
    state.new_secret = std::string(shown->secret.reveal());
    state.notice = std::move(shown->notice);
  } else if (query.get("created") == "1") {
    state.notice = app.client.is_public ? "App created." : kSecretGone;
  } else if (query.get("rotated") == "1") {
    state.notice = kSecretGone;
  }
  if (query.get("saved") == "1") state.notice = "Saved.";
  if (query.get("allowlist") == "added") {
    // issue15-fix:allowlist-oracle: the same notice whether or not the email has an account.
    state.notice =
        "Added to the allowlist, if a person with this email has an account: their next "
        "sign-in, or the app's next token refresh for them, is served.";
  }
  if (query.get("allowlist") == "removed") {
    state.notice = "Removed from the allowlist. Their access to the app was revoked.";
  }
  co_return co_await app_page(*v.user, app.client, std::move(state), req);
}

Site::Awaitable Site::developer_edit_form(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  auto query = Form::parse(req.query()).value_or(Form{});
  const std::string id = query.get("id").value_or("");
  if (!v.user) co_return sign_in_first("/developer/app/edit?id=" + percent_encode(id));
  auto app = co_await owned_app(v.user->id, id);
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound) co_return app_missing(req);
  co_return app_form_page(200, *v.user, input_of(app.client), nullptr, &app.client, "", req);
}

Site::Awaitable Site::developer_edit(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first(kDeveloperPath);
  const User& user = *v.user;
  auto app = co_await owned_app(user.id, form->get("client_id").value_or(""));
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound) co_return app_missing(req);
  Client c = std::move(app.client);
  AppFormInput in = app_form_input(*form);
  in.type = c.is_public ? "public" : "confidential";  // fixed at creation
  auto valid = validate_app_form(in);
  if (!valid) co_return app_form_page(400, user, in, &valid.error(), &c, "", req);
  c.name = valid->name;
  c.description = valid->description;
  c.redirect_uris = valid->redirect_uris;
  c.web_origins = valid->web_origins;
  c.allowed_scopes = valid->scopes;
  auto save = [&]() -> int {  // 0 saved, 404 gone meanwhile, 503 store failed
    auto r = stores_.clients.update_owned_client(c);
    if (!r) return r.error().code == ErrorCode::kNotFound ? 404 : 503;
    if (s_.audit) s_.audit(app_event("app_updated", user.id, c, req));
    return 0;
  };
  const int failed = co_await http::offload(store_pool_, save);
  if (failed == 404) co_return app_missing(req);
  if (failed) co_return busy_page(req);
  co_return http::Response::redirect(app_path(c.id) + "&saved=1");
}

Site::Awaitable Site::developer_delete(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first(kDeveloperPath);
  const User& user = *v.user;
  auto app = co_await owned_app(user.id, form->get("client_id").value_or(""));
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound) co_return app_missing(req);
  const Client& c = app.client;
  // issue15-fix:suspended-delete. A suspended app is not deleted from the dashboard: deleting
  // it and creating a new one would shed the suspension. Its owner asks an operator (whose
  // `stagepass admin client delete` still works).
  if (c.suspended_at != 0) {
    co_return error_page(403, "This app is suspended",
                         "A suspended app cannot be deleted on the dashboard. Contact the "
                         "platform's operators about the suspension.",
                         req);
  }
  if (form->get("confirm") != "yes") {
    Data d = app_data(c);
    d.set("user", user_nav(user));
    d.set("wide", true);
    co_return page(200, "developer_delete.html", "Delete " + c.name, std::move(d), req);
  }
  if (int64_t wait = change_wait(app_changes_, user.id, req.remote_ip); wait > 0) {
    auto r =
        error_page(429, "Too many changes", changes_message(wait, "created or deleted apps"), req);
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  auto remove = [&]() -> bool {
    auto r = stores_.clients.delete_client(c.id, s_.clock.now());
    if (!r) return r.error().code == ErrorCode::kNotFound;  // a parallel confirmation did it
    // This node's revocation set reads the deletion back before the answer (every other
    // node's feed finds it in deleted_clients), and the owner's log gets the event.
    s_.revoker.revoked(app_event("app_deleted", user.id, c, req));
    return true;
  };
  if (!co_await http::offload(store_pool_, remove)) co_return busy_page(req);
  reveals_.forget_app(c.id);  // a secret of the app waiting to be shown is worth nothing now
  co_return http::Response::redirect(std::string(kDeveloperPath) + "?deleted=1");
}

}  // namespace stagepass::web
