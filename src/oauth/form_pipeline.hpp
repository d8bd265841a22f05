// FormPipeline: the steps the form endpoints of the authorization server share (token,
// revocation, introspection), run top to bottom like oidc-provider's compose([...]):
//   I/O thread
//     0. source_blocked               an address that was guessing secrets (AbuseDetector's
//                                     block, when on): 429 slow_down until its window ends
//     1. single_authorization_header  at most one Authorization header
//     2. parse_form                   the body, parsed once: media type, no repeated parameter
//     3. endpoint.choose              the work, so the pool (token: the grant handler, once)
//   worker thread: the commit pool when the work waits for a durable commit, else the store pool
//     4. authenticate_client          client_secret_basic, client_secret_post or none + PKCE
//     5. endpoint.answer              the endpoint's own step (token: grant dispatch)
//   I/O thread
//     6. no_store                     Cache-Control: no-store, Pragma: no-cache (RFC 6749 §5.1)
//     7. cors                         registered web origins only (CorsPolicy)
//     8. endpoint.observe             metrics
// A step that refuses answers its RFC 6749 §5.2 error and the answer goes on at step 6.
// issue17:cc-inline. Steps 4 and 5 stay on the I/O thread when the chosen work needs no store
// (FormCall::from_memory: client credentials) and the client authenticates from the store's
// memory (authenticate_client_in_memory); otherwise, or when that needs the store, they go to
// the worker thread as above, with no side effect twice (nothing is noted before that). The
// hand-off cost client credentials about as much as its signature.
// Thread safety: post() runs concurrently for many requests; the pipeline is immutable.
// Lifetime: keeps references to the services, the CORS policy and both pools; each must
// outlive it, and it and the mounted endpoints must outlive the router's use.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>
#include <optional>
#include <string>

#include "http/router.hpp"
#include "oauth/cors.hpp"
#include "oauth/form_endpoint.hpp"
#include "oauth/services.hpp"

namespace stagepass::oauth {

// Where the blocking steps run; the composition root chooses the pools.
struct WorkerPools {
  boost::asio::thread_pool& store;   // store reads and CPU work
  boost::asio::thread_pool& commit;  // work that mostly waits for a group commit
};

class FormPipeline {
 public:
  FormPipeline(Services& s, const CorsPolicy& cors, WorkerPools pools)
      : s_(s), cors_(cors), pools_(pools) {}

  // POST `path` runs the steps with `endpoint`; OPTIONS `path` answers the CORS preflight.
  void mount(http::Router& router, const std::string& path, const FormEndpoint& endpoint) const;
  // The steps, for one POST.
  boost::asio::awaitable<http::Response> post(const FormEndpoint& endpoint,
                                              http::Request& req) const;

 private:
  // Steps 4 and 5, on a worker thread.
  http::Response authenticate_and_answer(const FormEndpoint& endpoint, FormCall& call) const;
  // Steps 4 and 5 on the I/O thread, when the client authenticates from memory; nullopt
  // (nothing done) when that needs the store.
  std::optional<http::Response> answer_from_memory(const FormEndpoint& endpoint,
                                                   FormCall& call) const;
  // Step 5 and the refusals of step 4, for the outcome of client authentication.
  http::Response answer_as(const FormEndpoint& endpoint, FormCall& call,
                           Result<AuthenticatedClient, OAuthError> client) const;

  Services& s_;
  const CorsPolicy& cors_;
  WorkerPools pools_;
};

}  // namespace stagepass::oauth
