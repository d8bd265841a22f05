// FormEndpoint: what one POST form endpoint of the authorization server - token (RFC 6749
// §3.2), revocation (RFC 7009), introspection (RFC 7662) - adds to the steps they share
// (FormPipeline, form_pipeline.hpp, runs them). An endpoint is told the parsed form twice:
// once on the I/O thread to choose its work (cheap, no store), once on a worker thread (or,
// for work that needs no store and a client known from memory, the I/O thread), after the
// client authenticated, to answer.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/text.hpp"
#include "http/message.hpp"
#include "oauth/client_auth.hpp"
#include "oauth/error.hpp"

namespace stagepass::oauth {

class GrantHandler;

// One request as it passes the steps. Written by one step at a time, each on the thread the
// pipeline runs it on (the hand-over between threads orders the writes).
struct FormCall {
  std::string authorization;  // the Authorization header (at most one), empty when none
  Form form;                  // the body, parsed once
  // Chosen on the I/O thread. The token endpoint's grant handler for grant_type (nullptr when
  // grant_type is missing or unsupported: answered after client authentication).
  const GrantHandler* grant = nullptr;
  bool commits = false;  // the work waits for a durable commit: run it on the commit pool
  // issue17:cc-inline. The work needs no store once the client authenticated from memory:
  // the pipeline tries it on the I/O thread first.
  bool from_memory = false;
  // The grant_type label of stagepass_token_requests_total: "none" until the token endpoint
  // dispatches, then the handler's grant type or "other" (a bounded set).
  std::string_view metric_label = "none";
  // issue15:secrets, issue15:abuse. The request's peer (after trusted proxies), for
  // client-secret usage and the abuse signals.
  std::string remote_ip;
  // Whether this is the token endpoint (its answers count in the app's usage).
  bool token_endpoint = false;
};

class FormEndpoint {
 public:
  virtual ~FormEndpoint() = default;
  // I/O thread, after the form is parsed: choose the work (FormCall::grant, ::commits,
  // ::from_memory). Cheap and refuses nothing, so errors keep RFC 6749's order (client
  // authentication first).
  virtual void choose(FormCall& call) const { (void)call; }
  // Worker thread (or the I/O thread when choose() set FormCall::from_memory and the client
  // authenticated from memory), once `client` authenticated: the endpoint's own step. The
  // pipeline adds the no-store headers and the access log's client id. `client` lives on the
  // thread that answers, for this call only, so the record is allocated and freed on one
  // thread (freed on the I/O thread after a worker allocated it, it cost glibc's allocator a
  // cross-thread slow path on every request: about 6 % of client-credentials throughput).
  virtual http::Response answer(FormCall& call, const AuthenticatedClient& client) const = 0;
  // I/O thread, last: told of every answer (metrics). Nothing by default.
  virtual void observe(const FormCall& call, int status) const {
    (void)call;
    (void)status;
  }
};

// RFC 6749 §3.2: the body is application/x-www-form-urlencoded, and (§3.1) no parameter is
// included more than once. Pure; also used by the pages' POST forms.
Result<Form, OAuthError> parse_form_body(std::string_view content_type, std::string_view body);

}  // namespace stagepass::oauth
