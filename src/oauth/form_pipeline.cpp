#include "oauth/form_pipeline.hpp"

#include "core/base64url.hpp"
#include "http/offload.hpp"

namespace stagepass::oauth {
namespace {

// 1. One client, one credential: two Authorization headers cannot be read unambiguously.
std::optional<OAuthError> single_authorization_header(const http::Request& req, FormCall& call) {
  if (req.header_count("Authorization") > 1) {
    return OAuthError::invalid_request("more than one Authorization header");
  }
  call.authorization = std::string(req.header("Authorization"));
  return std::nullopt;
}

// 2. The only parse of the body.
std::optional<OAuthError> parse_form(const http::Request& req, FormCall& call) {
  auto form = parse_form_body(req.header("Content-Type"), req.body());
  if (!form) return std::move(form.error());
  call.form = std::move(*form);
  return std::nullopt;
}

// The client id a refused request presented (Basic's user part or the form's client_id):
// attacker text, handed to the abuse detector, which keeps it only when short enough for an id
// (whole: never cut inside a UTF-8 character) and names an app only if one has that id.
std::string presented_client_id(std::string_view authorization, const Form& form) {
  std::string id;
  if (authorization.size() > 6 &&
      (authorization.starts_with("Basic ") || authorization.starts_with("basic "))) {
    if (auto decoded = base64_decode(authorization.substr(6))) {
      const size_t colon = decoded->find(':');
      if (colon != std::string::npos) {
        id = percent_decode(std::string_view(*decoded).substr(0, colon), true).value_or("");
      }
    }
  } else {
    id = form.get("client_id").value_or("");
  }
  return id;
}

// issue15-fix:abuse. A source that raised abuse_secret_guessing, with the block on, is refused
// before any secret is checked, until its window ends: 429 (RFC 6585 §4) with Retry-After,
// and "slow_down" (registered for token endpoint responses, RFC 8628 §3.5) rather than
// invalid_client, which would tell a backend that shares the address that its secret is wrong.
std::optional<OAuthError> source_blocked(const Services& s, const std::string& ip,
                                         int64_t& retry_after) {
  if (!s.abuse) return std::nullopt;
  retry_after = s.abuse->client_auth_wait(ip, s.clock.now());
  if (retry_after <= 0) return std::nullopt;
  return OAuthError{"slow_down",
                    "too many failed client authentications from this address; try again in " +
                        std::to_string(retry_after) + " s",
                    429};
}

}  // namespace

void FormPipeline::mount(http::Router& router, const std::string& path,
                         const FormEndpoint& endpoint) const {
  router.add("OPTIONS", path, [this](http::Request& req) -> boost::asio::awaitable<http::Response> {
    co_return cors_.preflight(req);
  });
  router.add("POST", path, [this, &endpoint](http::Request& req) { return post(endpoint, req); });
}

boost::asio::awaitable<http::Response> FormPipeline::post(const FormEndpoint& endpoint,
                                                          http::Request& req) const {
  FormCall call;
  call.remote_ip = req.remote_ip;
  http::Response r;
  int64_t retry_after = 0;
  std::optional<OAuthError> refused = source_blocked(s_, req.remote_ip, retry_after);
  if (!refused) refused = single_authorization_header(req, call);
  if (!refused) refused = parse_form(req, call);
  if (refused) {
    r = refused->to_response();
    if (retry_after > 0) r.header("Retry-After", std::to_string(retry_after));
  } else {
    endpoint.choose(call);
    call.remote_ip = req.remote_ip;
    call.token_endpoint = req.path() == "/api/token";
    std::optional<http::Response> answered;
    if (call.from_memory) answered = answer_from_memory(endpoint, call);
    if (answered) {
      r = std::move(*answered);
    } else {
      auto work = [&] { return authenticate_and_answer(endpoint, call); };
      r = co_await http::offload(call.commits ? pools_.commit : pools_.store, work);
    }
  }
  add_no_store(r);
  cors_.add_headers(req, r);
  endpoint.observe(call, r.status);
  co_return r;
}

http::Response FormPipeline::authenticate_and_answer(const FormEndpoint& endpoint,
                                                     FormCall& call) const {
  return answer_as(endpoint, call,
                   authenticate_client(s_, call.authorization, call.form, call.remote_ip));
}

std::optional<http::Response> FormPipeline::answer_from_memory(const FormEndpoint& endpoint,
                                                               FormCall& call) const {
  auto client = authenticate_client_in_memory(s_, call.authorization, call.form, call.remote_ip);
  if (!client) return std::nullopt;
  return answer_as(endpoint, call, std::move(*client));
}

http::Response FormPipeline::answer_as(const FormEndpoint& endpoint, FormCall& call,
                                       Result<AuthenticatedClient, OAuthError> client) const {
  if (!client) {
    if (s_.abuse && client.error().code == "invalid_client") {
      s_.abuse->note_invalid_client(
          call.remote_ip, presented_client_id(call.authorization, call.form), s_.clock.now());
    }
    return client.error().to_response();
  }
  if (auto suspended = suspended_refusal(client->client, !call.authorization.empty())) {
    if (s_.usage && call.token_endpoint) {
      s_.usage->note(client->client.id, EndpointGroup::kToken, 401, "", "");
    }
    return suspended->to_response();
  }
  http::Response r = endpoint.answer(call, *client);
  r.log_client_id = client->client.id;
  if (s_.usage && call.token_endpoint) {
    s_.usage->note(client->client.id, EndpointGroup::kToken, r.status, "", "");
  }
  return r;
}

}  // namespace stagepass::oauth
