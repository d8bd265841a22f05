#include "oauth/token_metrics.hpp"

namespace stagepass::oauth {
namespace {

std::string series_name(std::string_view grant, int status) {
  return "stagepass_token_requests_total{grant_type=\"" + std::string(grant) + "\",status=\"" +
         std::to_string(status) + "\"}";
}

}  // namespace

TokenRequestMetrics::TokenRequestMetrics(Metrics& metrics,
                                         const std::vector<std::string>& grant_types)
    : metrics_(metrics) {
  metrics.describe("stagepass_token_requests_total", "counter",
                   "Token endpoint answers by grant type and HTTP status");
  std::vector<std::string> labels = grant_types;
  labels.insert(labels.end(), {"other", "none"});
  for (const auto& g : labels) {
    for (int status : {200, 400, 401}) {
      series_.push_back({g, status, &metrics.counter(series_name(g, status))});
    }
  }
}

void TokenRequestMetrics::count(std::string_view grant_label, int status) const {
  for (const auto& s : series_) {
    if (s.status == status && s.grant == grant_label) {
      s.counter->fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  metrics_.inc(series_name(grant_label, status));
}

}  // namespace stagepass::oauth
