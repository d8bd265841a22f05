#include "oauth/token_endpoint.hpp"

namespace stagepass::oauth {

void TokenEndpoint::add_grant(std::unique_ptr<GrantHandler> handler) {
  grants_.push_back(std::move(handler));
}

std::vector<std::string> TokenEndpoint::grant_types() const {
  std::vector<std::string> out;
  for (const auto& g : grants_) out.emplace_back(g->grant_type());
  return out;
}

void TokenEndpoint::count_requests_in(Metrics& metrics) {
  metrics_.emplace(metrics, grant_types());
}

void TokenEndpoint::choose(FormCall& call) const {
  auto grant_type = call.form.get("grant_type");
  if (!grant_type) return;
  for (const auto& g : grants_) {
    if (g->grant_type() == *grant_type) {
      call.grant = g.get();
      call.commits = g->waits_for_commit();
      call.from_memory = g->answers_from_memory();
      return;
    }
  }
}

http::Response TokenEndpoint::answer(FormCall& call, const AuthenticatedClient& client) const {
  // RFC 6749 §4.1.3, §4.4.2, §6: grant_type is REQUIRED.
  if (!call.form.has("grant_type")) {
    return OAuthError::invalid_request("grant_type is required").to_response();
  }
  if (!call.grant) {
    call.metric_label = "other";
    return OAuthError::unsupported_grant_type("unsupported grant_type").to_response();
  }
  call.metric_label = call.grant->grant_type();
  if (client.client.is_public && !call.grant->allows_public_clients()) {
    return OAuthError::unauthorized_client("public clients cannot use this grant_type")
        .to_response();
  }
  auto result = call.grant->handle(call.form, client);
  return result ? result->to_response() : result.error().to_response();
}

void TokenEndpoint::observe(const FormCall& call, int status) const {
  if (metrics_) metrics_->count(call.metric_label, status);
}

}  // namespace stagepass::oauth
