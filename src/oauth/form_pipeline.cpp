#include "oauth/form_pipeline.hpp"

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
  std::optional<OAuthError> refused = single_authorization_header(req, call);
  if (!refused) refused = parse_form(req, call);
  if (refused) {
    r = refused->to_response();
  } else {
    endpoint.choose(call);
    auto work = [&] { return authenticate_and_answer(endpoint, call); };
    r = co_await http::offload(call.commits ? pools_.commit : pools_.store, work);
  }
  add_no_store(r);
  cors_.add_headers(req, r);
  endpoint.observe(call, r.status);
  co_return r;
}

http::Response FormPipeline::authenticate_and_answer(const FormEndpoint& endpoint,
                                                     FormCall& call) const {
  auto client = authenticate_client(s_, call.authorization, call.form, call.remote_ip);
  if (!client) return client.error().to_response();
  http::Response r = endpoint.answer(call, *client);
  r.log_client_id = client->client.id;
  return r;
}

}  // namespace stagepass::oauth
