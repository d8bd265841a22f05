// The token endpoint (POST /api/token), RFC 6749 §3.2 and §5: its own steps in the form
// pipeline (form_pipeline.hpp runs the shared ones: one Authorization header, form body,
// client authentication, no-store, CORS, metrics):
//   choose (I/O thread): grant_type -> its handler, looked up once; the commit pool when the
//     handler writes; the I/O thread first when it needs no store (answers_from_memory);
//   answer (worker thread, or the I/O thread for a client authenticated from memory, after
//     client authentication): grant_type required -> supported -> may this client use it
//     (RFC 6749 §4.4: not a public client) -> the handler.
// Handlers are registered by the composition root, before serving, only when enabled.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "monitor/metrics.hpp"
#include "oauth/form_endpoint.hpp"
#include "oauth/grant_handler.hpp"
#include "oauth/token_metrics.hpp"

namespace stagepass::oauth {

class TokenEndpoint final : public FormEndpoint {
 public:
  void add_grant(std::unique_ptr<GrantHandler> handler);
  std::vector<std::string> grant_types() const;
  // Counts every answer in `metrics` (stagepass_token_requests_total). Call after the last
  // add_grant() and before serving; `metrics` must outlive this endpoint.
  void count_requests_in(Metrics& metrics);

  void choose(FormCall& call) const override;
  http::Response answer(FormCall& call, const AuthenticatedClient& client) const override;
  void observe(const FormCall& call, int status) const override;

 private:
  std::vector<std::unique_ptr<GrantHandler>> grants_;
  std::optional<TokenRequestMetrics> metrics_;
};

}  // namespace stagepass::oauth
