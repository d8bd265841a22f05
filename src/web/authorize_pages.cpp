// GET/POST /authorize: the browser side of the authorization code flow. Validation and code
// issuance live in oauth::AuthorizeFlow; this file adds the session, consent page and CSRF.
#include "domain/scope.hpp"
#include "http/offload.hpp"
#include "monitor/log.hpp"
#include "oauth/token_endpoint.hpp"
#include "web/site.hpp"

namespace stagepass::web {

namespace {

// The parameters the consent form carries back (everything else is dropped).
constexpr const char* kCarried[] = {"client_id", "redirect_uri",   "response_type",        "scope",
                                    "state",     "code_challenge", "code_challenge_method"};

std::string origin_of(const std::string& uri) {
  size_t scheme_end = uri.find("://");
  if (scheme_end == std::string::npos) return uri.substr(0, uri.find(':') + 1);
  size_t path = uri.find_first_of("/?#", scheme_end + 3);
  return uri.substr(0, path);
}

}  // namespace

Site::Awaitable Site::authorize_get(http::Request& req) {
  auto params = Form::parse(req.query());
  if (!params) co_return error_page(400, "Invalid request", "The request could not be read.", req);
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  const std::optional<std::string> no_decision;
  co_return co_await authorize(req, *params, v, no_decision);
}

Site::Awaitable Site::authorize_post(http::Request& req) {
  auto form = Form::parse(req.body());
  if (!form || !csrf_ok(req, *form)) {
    co_return error_page(403, "Please try again",
                         "This consent form expired or was not sent by this site.", req);
  }
  auto decision = form->get("decision");
  if (!decision || (*decision != "allow" && *decision != "deny")) {
    co_return error_page(400, "Invalid request", "Choose Agree or Cancel.", req);
  }
  // Only the carried authorization parameters are re-validated, exactly as a GET would be.
  std::vector<std::pair<std::string, std::string>> carried;
  for (const auto& [k, val] : form->pairs()) {
    for (const char* name : kCarried) {
      if (k == name) carried.emplace_back(k, val);
    }
  }
  auto params = Form::parse(form_encode(carried));
  auto v = co_await visitor(req);
  if (v.unavailable) co_return unavailable_page(req);
  co_return co_await authorize(req, *params, v, decision);
}

Site::Awaitable Site::authorize(http::Request& req, const Form& params, const Visitor& v,
                                const std::optional<std::string>& decision) {
  auto validate = [&] { return flow_.validate(params); };
  auto outcome = co_await http::offload(store_pool_, validate);
  if (auto* e = std::get_if<oauth::ErrorPage>(&outcome)) {
    if (e->status == 503) co_return error_page(503, "Please try again", e->message, req);
    co_return error_page(400, "This link cannot be used", e->message, req);
  }
  // Sign in first, then come back to exactly this authorization request.
  auto sign_in_first = [&] {
    std::string back = "/authorize?" + form_encode(params.pairs());
    return http::Response::redirect("/login?continue=" + percent_encode(back));
  };
  if (auto* e = std::get_if<oauth::ErrorRedirect>(&outcome)) {
    // RFC 9700 §4.11.2: "The authorization server MUST always authenticate the user first
    // ... before redirecting the user": otherwise a deliberately wrong request (bad scope)
    // turns /authorize into a redirector to the client's URI for anyone following a link.
    if (!v.user) co_return sign_in_first();
    co_return http::Response::redirect(e->location);
  }
  auto& request = std::get<oauth::AuthorizeRequest>(outcome);
  if (!v.user) co_return sign_in_first();
  const std::string user_id = v.user->id;
  if (decision == "deny") co_return http::Response::redirect(flow_.deny(request));

  bool approved = decision == "allow";
  if (!approved && !request.show_dialog) {
    auto covered = [&] { return flow_.consent_covers(request, user_id); };
    approved = co_await http::offload(store_pool_, covered);
  }
  if (approved) {
    auto approve = [&] {
      if (decision && s_.audit) {
        s_.audit({0, 0, "consent_granted", user_id, request.client.id, req.remote_ip,
                  std::string(utf8_prefix(req.header("User-Agent"), 200)),
                  request.client.name + ": " + request.scope.str()});
      }
      return flow_.approve(request, user_id);
    };
    auto location = co_await http::offload(store_pool_, approve);
    auto r = http::Response::redirect(location);
    r.log_client_id = request.client.id;
    co_return r;
  }

  Data d;
  d.set("app_name", request.client.name);
  d.set("user_name", v.user->display_name);
  d.set("redirect_origin", origin_of(request.redirect_uri));
  kainjow::mustache::list scopes;
  for (const auto& info : known_scopes()) {
    if (!request.scope.contains(info.name)) continue;
    Data s;
    s.set("name", std::string(info.name));
    s.set("description", std::string(info.description));
    scopes.push_back(s);
  }
  d.set("has_scopes", !scopes.empty());
  d.set("scopes", scopes);
  kainjow::mustache::list hidden;
  for (const auto& [k, val] : params.pairs()) {
    for (const char* name : kCarried) {
      if (k != name) continue;
      Data h;
      h.set("name", k);
      h.set("value", val);
      hidden.push_back(h);
    }
  }
  d.set("hidden", hidden);
  Data u;
  u.set("display_name", v.user->display_name);
  d.set("user", u);
  co_return page(200, "consent.html", "Allow access", std::move(d), req);
}

}  // namespace stagepass::web
