// The app page's Secret, Allowlist and Usage sections (issue 15), for the app's owner only
// (Site::owned_app: any other id answers the dashboard's 404), and their forms:
//
// POST /developer/app/secret/rotate     client_id, grace ("1h", "24h", "7d", "0"): rotates the
//   secret (oauth::SecretRotation), then 303 to the app's page (&rotated=1), which shows the
//   new secret once (Post/Redirect/Get: a reload rotates nothing; the secret waits in memory
//   for that one GET of this session, web/secret_reveals.hpp): never in a URL or a log. A
//   refused choice answers the page with its message (nothing rotated). "0" is a hard cut (the
//   previous secret stops at once and every access token of the app is revoked): without
//   confirm=yes it answers a confirmation page (a POST, like delete: a link or a prefetch never
//   cuts).
// POST /developer/app/allowlist/add     client_id, email: puts the person on the app's
//   allowlist (oauth::AppAccess::add); an unknown email or a full list shows its message
//   next to the field, with the email as typed.
// POST /developer/app/allowlist/remove  client_id, email: takes the person off the list and
//   revokes their grant of the app (AppAccess::remove).
// Every POST checks the CSRF token. The mode itself is an operator's decision (`stagepass
// admin client set-mode`): the page shows it, and no form changes it.
#include "core/text.hpp"
#include "http/offload.hpp"
#include "web/page_helpers.hpp"
#include "web/site.hpp"
#include "web/usage_chart.hpp"

namespace stagepass::web {

namespace {

std::string app_path(const std::string& id) { return "/developer/app?id=" + percent_encode(id); }

// The rotation form's choices: value (oauth::parse_grace), label.
struct GraceChoice {
  const char* value;
  const char* label;
};
constexpr GraceChoice kGraceChoices[] = {
    {"1h", "1 hour"},
    {"24h", "24 hours (default)"},
    {"7d", "7 days"},
    {"0", "0 - hard cut (leaked secret): also revokes the app's access tokens"},
};

std::string when(int64_t t) { return format_time(t).first; }

Data time_data(int64_t t) {
  auto [text, iso] = format_time(t);
  Data d;
  d.set("text", text);
  d.set("iso", iso);
  return d;
}

// The totals of one usage window, as the table under the charts shows them.
Data window_totals(const UsageWindow& w, const char* label) {
  Data d;
  d.set("label", std::string(label));
  d.set("requests", std::to_string(w.total.total()));
  d.set("errors", std::to_string(w.total.errors));
  d.set("rate_limited", std::to_string(w.total.rate_limited));
  d.set("users", std::to_string(w.total.users.estimate()));
  d.set("grants", std::to_string(w.total.grants.estimate()));
  return d;
}

}  // namespace

boost::asio::awaitable<void> Site::app_sections(Data& d, const Client& c,
                                                const AppPageState& state) {
  struct Loaded {
    std::optional<Result<std::vector<ClientStore::LiveSecret>>> secrets;
    std::optional<Result<std::vector<AllowlistEntry>>> allowlist;
    std::optional<Result<std::vector<AppWarning>>> warnings;
    // issue15-fix:abuse: an app whose windows were evicted from memory (idle) is drawn from
    // the store.
    std::optional<Result<std::vector<AppUsageRow>>> history;
  };
  const bool has_secret = !c.is_public && developer_.rotation;
  auto load = [&] {
    Loaded out;
    if (has_secret) out.secrets = developer_.rotation->live_secrets(c.id);
    if (developer_.access) out.allowlist = developer_.access->list(c.id);
    if (developer_.usage) out.warnings = developer_.usage->app_warnings(c.id, 20);
    if (developer_.usage && s_.usage && !s_.usage->tracked(c.id)) {
      out.history =
          developer_.usage->load_app_usage(c.id, s_.clock.now() - AppUsage::retention_seconds());
    }
    return out;
  };
  Loaded loaded = co_await http::offload(store_pool_, load);
  const std::string unreadable = "This could not be read just now. Reload the page in a moment.";
  const int64_t now = s_.clock.now();

  if (c.suspended_at > 0) {
    d.set("suspended", true);
    d.set("suspended_at", time_data(c.suspended_at));
    d.set("suspended_reason",
          c.suspended_reason.empty() ? std::string("No reason was given.") : c.suspended_reason);
  }

  // Secret: each live secret with its last use, and the rotation form.
  if (has_secret) {
    d.set("can_rotate", true);
    if (loaded.secrets && *loaded.secrets) {
      kainjow::mustache::list rows;
      for (const auto& s : **loaded.secrets) {
        Data row;
        row.set("state", s.expires_at == 0 ? "Current" : "Retiring");
        row.set("created", time_data(s.created_at));
        if (s.expires_at != 0) row.set("expires", time_data(s.expires_at));
        if (s.last_used_at != 0) row.set("last_used", time_data(s.last_used_at));
        row.set("ips", std::to_string(s.distinct_ips_last_day));
        rows.push_back(row);
      }
      d.set("secrets", rows);
      d.set("has_secrets", !rows.empty());
    } else {
      d.set("secrets_error", unreadable);
    }
    const std::string chosen = state.grace.empty() ? "24h" : state.grace;
    kainjow::mustache::list choices;
    for (const auto& g : kGraceChoices) {
      Data choice;
      choice.set("value", std::string(g.value));
      choice.set("label", std::string(g.label));
      choice.set("selected", chosen == g.value);
      choices.push_back(choice);
    }
    d.set("grace_choices", choices);
    if (!state.grace_error.empty()) d.set("grace_error", state.grace_error);
  }

  // Allowlist: the mode, the people on the list, add and remove.
  if (developer_.access) {
    d.set("allowlist_section", true);
    d.set("development", c.development);
    d.set("allowlist_limit", std::to_string(developer_.access->limit()));
    d.set("allowlist_email", state.allowlist_email);
    if (!state.allowlist_error.empty()) d.set("allowlist_error", state.allowlist_error);
    if (loaded.allowlist && *loaded.allowlist) {
      kainjow::mustache::list people;
      for (const auto& e : **loaded.allowlist) {
        Data p;
        p.set("email", e.email);
        p.set("display_name", e.display_name);
        p.set("added", time_data(e.added_at));
        people.push_back(p);
      }
      d.set("allowlist_count", std::to_string(people.size()));
      d.set("has_people", !people.empty());
      d.set("people", people);
    } else {
      d.set("allowlist_read_error", unreadable);
    }
  }

  // Usage: the three windows as charts (inline SVG: no script, no style attribute) and totals.
  if (s_.usage) {
    d.set("usage_section", true);
    const AppUsageSeries series = loaded.history && *loaded.history
                                      ? AppUsage::series_from_rows(c.id, **loaded.history, now)
                                      : s_.usage->usage(c.id, now);
    static constexpr const char* kTitles[] = {"Last hour (per minute)", "Last day (per hour)",
                                              "Last 30 days (per day)"};
    static constexpr const char* kLabels[] = {"Last hour", "Last day", "Last 30 days"};
    kainjow::mustache::list charts;
    kainjow::mustache::list totals;
    for (size_t i = 0; i < series.windows.size() && i < 3; ++i) {
      Data chart;
      chart.set("svg", render_svg_chart(usage_chart(series.windows[i], kTitles[i])));
      charts.push_back(chart);
      totals.push_back(window_totals(series.windows[i], kLabels[i]));
    }
    d.set("charts", charts);
    d.set("totals", totals);
    kainjow::mustache::list groups;  // issue15-fix:groups: requests per endpoint group
    for (const GroupRow& g : requests_per_group(series)) {
      Data row;
      row.set("group", g.group);
      kainjow::mustache::list figures;
      for (uint64_t n : g.requests) figures.push_back(Data("n", std::to_string(n)));
      row.set("figures", figures);
      groups.push_back(row);
    }
    d.set("has_groups", !groups.empty());
    d.set("groups", groups);
  }
  if (developer_.usage) {
    d.set("warnings_section", true);
    if (loaded.warnings && *loaded.warnings) {
      kainjow::mustache::list rows;
      for (const auto& w : **loaded.warnings) {
        Data row;
        row.set("at", time_data(w.at));
        row.set("type", w.type);
        row.set("detail", w.detail);
        rows.push_back(row);
      }
      d.set("has_warnings", !rows.empty());
      d.set("warnings", rows);
    } else {
      d.set("warnings_error", unreadable);
    }
  }
}

Site::Awaitable Site::developer_rotate_secret(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return http::Response::redirect("/login?continue=%2Fdeveloper");
  const User& user = *v.user;
  auto app = co_await owned_app(user.id, form->get("client_id").value_or(""));
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound || !developer_.rotation) co_return app_missing(req);
  const Client& c = app.client;
  AppPageState state;
  state.grace = form->get("grace").value_or("");
  if (c.is_public) {
    state.status = 400;
    state.grace_error = "A public app has no secret to rotate.";
    co_return co_await app_page(user, c, std::move(state), req);
  }
  const auto grace = oauth::parse_grace(state.grace);
  if (!grace) {
    state.status = 400;
    state.grace_error = "Choose how long the current secret keeps working.";
    co_return co_await app_page(user, c, std::move(state), req);
  }
  if (*grace == 0 && form->get("confirm") != "yes") {
    Data d;
    d.set("user", user_nav(user));
    d.set("wide", true);
    d.set("name", c.name);
    d.set("client_id", c.id);
    d.set("app_path", app_path(c.id));
    co_return page(200, "developer_rotate_confirm.html", "Cut the secret of " + c.name,
                   std::move(d), req);
  }
  // issue15-fix:dashboard-throttle. Each rotation writes audit events, secret rows and (a
  // hard cut) a revocation watermark: a sibling of the create/delete loop.
  // A hard cut (a leaked secret) is never held back by this throttle: its per-IP budget is
  // shared with whoever sits behind the same address, who must not be able to block an
  // emergency cut. The per-app limit of SecretRotation still bounds hard cuts.
  int64_t wait = 0;
  if (*grace > 0) wait = change_wait(secret_rotations_, user.id, req.remote_ip);
  if (wait > 0) {
    state.status = 429;
    state.grace_error = changes_message(wait, "rotated secrets");
    auto r = co_await app_page(user, c, std::move(state), req);
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  // The audit event names the person and where they were; never a secret.
  const AuditEvent who{0,
                       0,
                       "",
                       user.id,
                       c.id,
                       req.remote_ip,
                       std::string(utf8_prefix(req.header("User-Agent"), 200)),
                       ""};
  const std::string client_id = c.id;
  const int64_t grace_seconds = *grace;
  auto rotate = [&] { return developer_.rotation->rotate(client_id, grace_seconds, who); };
  auto rotated = co_await http::offload(store_pool_, rotate);
  if (!rotated) {
    if (rotated.error().code == ErrorCode::kNotFound) co_return app_missing(req);
    if (rotated.error().code == ErrorCode::kIo) co_return busy_page(req);
    // kConflict: the per-app rotation limit (issue15-fix:rotation-b; public apps are above).
    state.status = rotated.error().code == ErrorCode::kConflict ? 429 : 400;
    state.grace_error = rotated.error().message;
    co_return co_await app_page(user, c, std::move(state), req);
  }
  std::string notice =
      grace_seconds == 0
          ? "Secret rotated. The previous secret stopped working, and every access token of "
            "the app was revoked."
          : "Secret rotated. The previous secret keeps working until " +
                when(rotated->previous_secret_expires_at) +
                ": move every backend to the new one before then.";
  // Post/Redirect/Get: the secret waits for this session's GET of the app page, once.
  reveals_.put(v.session_hash, client_id,
               {Secret(std::move(rotated->client_secret)), std::move(notice)}, s_.clock.now());
  co_return http::Response::redirect(app_path(client_id) + "&rotated=1");
}

namespace {

// The status an allowlist error answers with: 409 for a full list, else 400.
int allowlist_status(ErrorCode code) { return code == ErrorCode::kConflict ? 409 : 400; }

}  // namespace

Site::Awaitable Site::developer_allowlist_add(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return http::Response::redirect("/login?continue=%2Fdeveloper");
  const User& user = *v.user;
  auto app = co_await owned_app(user.id, form->get("client_id").value_or(""));
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound || !developer_.access) co_return app_missing(req);
  const std::string email = form->get("email").value_or("");
  const std::string client_id = app.client.id;
  if (int64_t wait = change_wait(allowlist_changes_, user.id, req.remote_ip); wait > 0) {
    AppPageState state;
    state.status = 429;
    state.allowlist_email = email;
    state.allowlist_error = changes_message(wait, "changed allowlists");
    auto r = co_await app_page(user, app.client, std::move(state), req);
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  auto add = [&] { return developer_.access->add(client_id, email); };
  auto added = co_await http::offload(store_pool_, add);
  // issue15-fix:allowlist-oracle. An email with no account answers as one that was added
  // (docs/security.md: one answer for known and unknown emails).
  if (!added && added.error().code == ErrorCode::kNotFound &&
      added.error().message == oauth::AppAccess::kNoAccount) {
    co_return http::Response::redirect(app_path(client_id) + "&allowlist=added");
  }
  if (!added) {
    if (added.error().code == ErrorCode::kIo) co_return busy_page(req);
    AppPageState state;
    state.status = allowlist_status(added.error().code);
    state.allowlist_email = email;
    state.allowlist_error = added.error().message;
    co_return co_await app_page(user, app.client, std::move(state), req);
  }
  co_return http::Response::redirect(app_path(client_id) + "&allowlist=added");
}

Site::Awaitable Site::developer_allowlist_remove(http::Request& req) {
  auto form = posted_form(req);
  if (!form) co_return expired_form(req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  if (!v.user) co_return http::Response::redirect("/login?continue=%2Fdeveloper");
  const User& user = *v.user;
  auto app = co_await owned_app(user.id, form->get("client_id").value_or(""));
  if (app.state == OwnedApp::kBusy) co_return busy_page(req);
  if (app.state != OwnedApp::kFound || !developer_.access) co_return app_missing(req);
  const std::string email = form->get("email").value_or("");
  const std::string client_id = app.client.id;
  if (int64_t wait = change_wait(allowlist_changes_, user.id, req.remote_ip); wait > 0) {
    AppPageState state;
    state.status = 429;
    state.allowlist_error = changes_message(wait, "changed allowlists");
    auto r = co_await app_page(user, app.client, std::move(state), req);
    r.header("Retry-After", std::to_string(wait));
    co_return r;
  }
  auto remove = [&] { return developer_.access->remove(client_id, email); };
  auto removed = co_await http::offload(store_pool_, remove);
  if (!removed) {
    if (removed.error().code == ErrorCode::kIo) co_return busy_page(req);
    AppPageState state;
    state.status = allowlist_status(removed.error().code);
    state.allowlist_error = removed.error().message;
    co_return co_await app_page(user, app.client, std::move(state), req);
  }
  co_return http::Response::redirect(app_path(client_id) + "&allowlist=removed");
}

}  // namespace stagepass::web
