// Account → Apps: the apps a person authorized (their active grants) and "Remove access".
//
// GET  /account/apps          the list: app, scopes in plain words, granted, last used
// POST /account/apps/remove   without confirm=yes: the confirmation page (no GET, so a link
//                             or a prefetch can never remove anything); with confirm=yes:
//                             revokes the grant if it is the signed-in person's (404 page
//                             otherwise), refreshes this node's revocation set before
//                             answering, then 303 to /account/apps?removed=<grant id>.
// Every POST checks the CSRF token; signed-out visitors are sent to sign in first.
#include <ctime>

#include "domain/scope.hpp"
#include "http/offload.hpp"
#include "monitor/log.hpp"
#include "oauth/token_endpoint.hpp"
#include "web/page_helpers.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

constexpr const char* kAppsPath = "/account/apps";

http::Response sign_in_first() {
  return http::Response::redirect(std::string("/login?continue=") + percent_encode(kAppsPath));
}

// One row of the list, as the templates need it.
struct AppRow {
  Grant grant;
  std::string app_name;
};

Data app_data(const AppRow& row) {
  Data d;
  d.set("grant_id", row.grant.id);
  d.set("app_name", row.app_name);
  auto scopes = scope_list(row.grant.scope);
  d.set("has_scopes", !scopes.empty());
  d.set("scopes", scopes);
  auto [granted, granted_iso] = format_time(row.grant.created_at);
  d.set("granted", granted);
  d.set("granted_iso", granted_iso);
  d.set("used", row.grant.last_used_at.has_value());
  if (row.grant.last_used_at) {
    auto [used, used_iso] = format_time(*row.grant.last_used_at);
    d.set("last_used", used);
    d.set("last_used_iso", used_iso);
  }
  return d;
}

}  // namespace

Site::Awaitable Site::account_apps(http::Request& req) {
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first();
  const std::string user_id = v.user->id;
  auto query = Form::parse(req.query()).value_or(Form{});
  const std::string removed_id = query.get("removed").value_or("");

  struct Listing {
    bool ok = false;
    std::vector<AppRow> rows;
    std::string removed_app;  // the app just removed, named only if it was this person's
  };
  auto load = [&]() -> Listing {
    Listing out;
    auto grants = stores_.grants.list_user_grants(user_id);
    if (!grants) return out;
    out.ok = true;
    for (auto& g : *grants) {
      auto client = stores_.clients.find_client(g.client_id);
      std::string name = client ? client->name : g.client_id;
      out.rows.push_back({std::move(g), std::move(name)});
    }
    if (!removed_id.empty()) {
      auto g = stores_.grants.find_grant(removed_id);
      if (g && g->user_id == user_id && g->revoked_at) {
        auto client = stores_.clients.find_client(g->client_id);
        out.removed_app = client ? client->name : g->client_id;
      }
    }
    return out;
  };
  auto listing = co_await http::offload(store_pool_, load);
  if (!listing.ok) {
    co_return error_page(503, "Please try again", "The service is busy. Try again in a moment.",
                         req);
  }
  Data d;
  d.set("user", user_nav(*v.user));
  kainjow::mustache::list apps;
  for (const auto& row : listing.rows) apps.push_back(app_data(row));
  d.set("has_apps", !apps.empty());
  d.set("apps", apps);
  if (!listing.removed_app.empty()) {
    d.set("notice", listing.removed_app + " no longer has access to your account.");
  }
  co_return page(200, "apps.html", "Apps", std::move(d), req);
}

Site::Awaitable Site::account_apps_remove(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return sign_in_first();
  const std::string user_id = v.user->id;
  const std::string grant_id = form->get("grant_id").value_or("");
  const bool confirmed = form->get("confirm") == "yes";

  // The grant, only if it is this person's and still active (anything else: "not found",
  // so nobody learns whether someone else's grant id exists).
  auto find = [&]() -> std::optional<AppRow> {
    if (grant_id.empty() || grant_id.size() > 64) return std::nullopt;
    auto g = stores_.grants.find_grant(grant_id);
    if (!g || g->user_id != user_id) return std::nullopt;
    auto client = stores_.clients.find_client(g->client_id);
    std::string name = client ? client->name : g->client_id;
    return AppRow{std::move(*g), std::move(name)};
  };
  auto row = co_await http::offload(store_pool_, find);
  if (!row || (row->grant.revoked_at && !confirmed)) {
    co_return error_page(404, "App not found",
                         "This app is not connected to your account (or no longer is).", req);
  }
  if (!confirmed) {
    Data d = app_data(*row);
    d.set("user", user_nav(*v.user));
    co_return page(200, "remove_app.html", "Remove " + row->app_name, std::move(d), req);
  }

  // Revoking is idempotent: a second confirmation of the same grant just lands on the list.
  auto revoke = [&]() -> bool {
    if (row->grant.revoked_at) return true;
    // A concurrent confirmation that revoked it first wrote the one event.
    return s_.revoker
        .revoke_grant(grant_id, {0, 0, "app_removed", user_id, row->grant.client_id, req.remote_ip,
                                 std::string(utf8_prefix(req.header("User-Agent"), 200)), ""})
        .ok();
  };
  if (!co_await http::offload(store_pool_, revoke)) {
    co_return error_page(503, "Please try again", "The service is busy. Try again in a moment.",
                         req);
  }
  co_return http::Response::redirect(std::string(kAppsPath) +
                                     "?removed=" + percent_encode(grant_id));
}

}  // namespace stagepass::web
