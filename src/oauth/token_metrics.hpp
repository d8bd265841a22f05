// TokenRequestMetrics: stagepass_token_requests_total{grant_type,status}, the token endpoint's
// answers by grant type and HTTP status (docs/operations.md). The labels stay bounded:
// grant_type is one of the endpoint's grant types, "other" or "none" (FormCall::metric_label),
// and status one of the few the endpoint answers.
// Thread safety: count() from any thread. Lifetime: keeps a reference to `metrics`, which must
// outlive it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "monitor/metrics.hpp"

namespace stagepass::oauth {

class TokenRequestMetrics {
 public:
  // Declares the family and resolves the common series (each grant type, "other" and "none",
  // with 200, 400 and 401) once, so counting one builds no string.
  TokenRequestMetrics(Metrics& metrics, const std::vector<std::string>& grant_types);
  void count(std::string_view grant_label, int status) const;

 private:
  struct Series {
    std::string grant;
    int status = 0;
    std::atomic<uint64_t>* counter = nullptr;
  };
  Metrics& metrics_;
  std::vector<Series> series_;
};

}  // namespace stagepass::oauth
