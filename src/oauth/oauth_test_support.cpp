#include "oauth/oauth_test_support.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>
#include <optional>
#include <stdexcept>

#include "core/base64url.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/grants/authorization_code.hpp"
#include "oauth/grants/client_credentials.hpp"
#include "oauth/grants/refresh_token.hpp"

namespace stagepass::oauth::testing {
namespace {

Client client(const std::string& id, const std::string& secret, bool is_public,
              const std::string& redirect) {
  Client c;
  c.id = id;
  c.name = id;
  c.is_public = is_public;
  if (!is_public) c.secret_hash = client_secret_hash(secret);
  c.redirect_uris = {redirect};
  c.allowed_scopes = ScopeSet::parse("streaming user-read-email user-read-private");
  c.created_at = kStart;
  return c;
}

void must(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test setup failed: ") + what);
}

}  // namespace

http::Request form_post(std::string body, const Headers& headers) {
  http::Request req;
  req.msg.method(http::beast_http::verb::post);
  req.msg.target("/api/token");
  bool typed = false;
  for (const auto& [name, value] : headers) {
    req.msg.insert(name, value);
    typed = typed || iequals(name, "Content-Type");
  }
  if (!typed) req.msg.set("Content-Type", "application/x-www-form-urlencoded");
  req.msg.body() = std::move(body);
  req.remote_ip = "127.0.0.1";
  return req;
}

Headers basic(std::string_view id, std::string_view secret) {
  return {{"Authorization",
           "Basic " + base64_encode(percent_encode(id) + ":" + percent_encode(secret))}};
}

boost::json::object json_of(const http::Response& r) {
  return boost::json::parse(r.body).as_object();
}

std::string header_of(const http::Response& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (iequals(n, name)) return v;
  }
  return {};
}

WireError error_of(const http::Response& r) {
  auto o = json_of(r);
  auto text = [&](const char* name) {
    return o.contains(name) ? std::string(o.at(name).as_string()) : std::string();
  };
  return {text("error"), text("error_description")};
}

AuthorizationServer::AuthorizationServer()
    : revoker(
          *store, clock, [this] { ++announced; },
          [this](AuditEvent e) { events.push_back(std::move(e)); }),
      keys(*store, Secret(std::string(32, 'k')), random, clock, {}),
      services{.clients = *store,
               .grants = *store,
               .codes = *store,
               .refresh_tokens = *store,
               .users = *store,
               .keys = keys.slot(),
               .clock = clock,
               .random = random,
               .settings = {"https://issuer.example", "https://issuer.example/v1", 3600,
                            kRefreshTtl, kRefreshIdleTtl, kRefreshGrace, kCodeTtl},
               .revoker = revoker,
               .audit = {}} {
  tokens.add_grant(std::make_unique<AuthorizationCodeGrant>(services));
  tokens.add_grant(std::make_unique<RefreshTokenGrant>(services));
  tokens.add_grant(std::make_unique<ClientCredentialsGrant>(services));
  tokens.count_requests_in(metrics);
  must(store->create_user({kUserId, kUserEmail, "Ada", "h", "SE", "premium", kStart}).ok(), "user");
  Client pub = client(kPublicId, "", true, kPublicRedirect);
  pub.web_origins = {kWebOrigin};
  Client rs = client(kResourceServerId, kResourceServerSecret, false, kRedirect);
  rs.introspect_any = true;
  for (const Client& c : {client(kConfId, kConfSecret, false, kRedirect),
                          client(kOtherId, kOtherSecret, false, kRedirect), pub, rs}) {
    must(store->create_client(c).ok(), "client");
  }
  cors.set_origins({kWebOrigin});
}

http::Response AuthorizationServer::post(const FormEndpoint& endpoint, std::string body,
                                         const Headers& headers) {
  http::Request req = form_post(std::move(body), headers);
  boost::asio::io_context io;
  std::optional<http::Response> answer;
  std::exception_ptr failure;
  boost::asio::co_spawn(io, pipeline.post(endpoint, req),
                        [&](std::exception_ptr e, http::Response r) {
                          failure = e;
                          answer = std::move(r);
                        });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*answer);
}

std::string AuthorizationServer::code_for(const std::string& client_id, const std::string& scope,
                                          const std::string& redirect_uri,
                                          const std::string& challenge) {
  auto found = store->find_client(client_id);
  must(found.ok(), "client for code");
  AuthorizeRequest req{*found, redirect_uri, "state-1", ScopeSet::parse(scope), challenge, false};
  std::string location = authorize.approve(req, kUserId);
  auto query = Form::parse(location.substr(location.find('?') + 1));
  must(query && query->get("code"), "code in redirect");
  return *query->get("code");
}

boost::json::object AuthorizationServer::conf_tokens(const std::string& scope) {
  std::string code = code_for(kConfId, scope, kRedirect);
  auto r = token(
      form_encode(
          {{"grant_type", "authorization_code"}, {"code", code}, {"redirect_uri", kRedirect}}),
      basic(kConfId, kConfSecret));
  must(r.status == 200, "code exchange");
  return json_of(r);
}

bool AuthorizationServer::grant_revoked() {
  auto grants = store->list_user_grants(kUserId);
  must(grants.ok(), "list grants");
  return grants->empty();
}

}  // namespace stagepass::oauth::testing
