// TokenSet: what an authorization server gave an app, as the SDK keeps it.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace stagepass::sdk {

using SystemTime = std::chrono::system_clock::time_point;

// The longest access-token lifetime the SDK believes: a larger `expires_in` from a server is
// read as this, and a refresh skew is capped at it. Keeps time arithmetic far from overflow.
inline constexpr std::chrono::seconds kMaxTokenLifetime{365 * 24 * 3600};

struct TokenSet {
  std::string access_token;
  std::string refresh_token;  // empty for client-credentials tokens
  std::string token_type = "Bearer";
  std::string scope;        // space-separated, as granted
  SystemTime expires_at{};  // when the access token stops working (client's clock)
  SystemTime issued_at{};   // when it was received; zero when unknown

  // True when the access token is missing or expires within `skew` of `now`. The skew is
  // taken within [0, kMaxTokenLifetime] and capped at half the token's lifetime, so
  // short-lived tokens are not refreshed on every use.
  bool needs_refresh(SystemTime now, std::chrono::seconds skew) const {
    if (access_token.empty()) return true;
    auto margin = std::chrono::duration_cast<SystemTime::duration>(
        std::clamp(skew, std::chrono::seconds{0}, kMaxTokenLifetime));
    if (issued_at != SystemTime{} && issued_at < expires_at) {
      margin = std::min(margin, (expires_at - issued_at) / 2);
    }
    return expires_at <= now + margin;
  }
};

}  // namespace stagepass::sdk
