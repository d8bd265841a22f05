#include "oauth/token_endpoint.hpp"

namespace stagepass::oauth {

Result<Form, OAuthError> parse_form_body(std::string_view content_type, std::string_view body) {
  // RFC 6749 §3.2: "application/x-www-form-urlencoded" format.
  auto media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (!iequals(media, "application/x-www-form-urlencoded")) {
    return fail(OAuthError::invalid_request("body must be application/x-www-form-urlencoded"));
  }
  auto form = Form::parse(body);
  if (!form) return fail(OAuthError::invalid_request("malformed form body"));
  // RFC 6749 §3.2: request parameters MUST NOT be included more than once.
  if (auto dup = form->duplicate()) {
    return fail(OAuthError::invalid_request("parameter repeated: " + quote_input(*dup)));
  }
  return std::move(*form);
}

void TokenEndpoint::add_grant(std::unique_ptr<GrantHandler> handler) {
  grants_.push_back(std::move(handler));
}

std::vector<std::string> TokenEndpoint::grant_types() const {
  std::vector<std::string> out;
  for (const auto& g : grants_) out.emplace_back(g->grant_type());
  return out;
}

bool TokenEndpoint::waits_for_commit(const TokenRequest& req) const {
  auto form = Form::parse(req.body);
  auto grant_type = form ? form->get("grant_type") : std::nullopt;
  if (!grant_type) return false;
  for (const auto& g : grants_) {
    if (g->grant_type() == *grant_type) return g->waits_for_commit();
  }
  return false;
}

http::Response TokenEndpoint::handle(const TokenRequest& req) const {
  std::string_view grant_label = "none";
  http::Response r = dispatch(req, grant_label);
  if (observe_) observe_(grant_label, r.status);
  return r;
}

http::Response TokenEndpoint::dispatch(const TokenRequest& req,
                                       std::string_view& grant_label) const {
  auto form = parse_form_body(req.content_type, req.body);
  if (!form) return form.error().to_response();

  auto client = authenticate_client(s_, req.authorization, *form);
  if (!client) return client.error().to_response();

  auto grant_type = form->get("grant_type");
  if (!grant_type) return OAuthError::invalid_request("grant_type is required").to_response();
  GrantHandler* handler = nullptr;
  grant_label = "other";
  for (const auto& g : grants_) {
    if (g->grant_type() == *grant_type) handler = g.get();
  }
  if (handler) grant_label = handler->grant_type();
  http::Response r;
  if (!handler) {
    r = OAuthError::unsupported_grant_type("unsupported grant_type").to_response();
  } else if (client->client.is_public && !handler->allows_public_clients()) {
    r = OAuthError::unauthorized_client("public clients cannot use this grant_type").to_response();
  } else {
    auto result = handler->handle(*form, *client);
    r = result ? result->to_response() : result.error().to_response();
  }
  r.log_client_id = client->client.id;
  return r;
}

}  // namespace stagepass::oauth
