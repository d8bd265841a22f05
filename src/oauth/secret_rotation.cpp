#include "oauth/secret_rotation.hpp"

#include <charconv>
#include <chrono>
#include <thread>

#include "core/text.hpp"
#include "oauth/client_auth.hpp"

namespace stagepass::oauth {

Result<SecretRotation::Rotated> SecretRotation::rotate(const std::string& client_id,
                                                       int64_t grace_seconds,
                                                       const AuditEvent& who) const {
  if (grace_seconds < 0 || grace_seconds > kMaxGraceSeconds) {
    return fail(Error{ErrorCode::kInvalid, "the grace period must be between 0 and 30 days"});
  }
  const int64_t now = clock_.now();
  Rotated out{client_id, random_.token("sps_"), 0};
  auto r = clients_.rotate_client_secret(client_id, client_secret_hash(out.client_secret), now,
                                         grace_seconds);
  if (!r) return fail(r.error());
  out.previous_secret_expires_at = r->previous_expires_at;
  const bool hard_cut = grace_seconds == 0;
  if (hard_cut) {
    if (announce_) announce_();
    // The cut refuses tokens issued through now + margin: hand the new secret out after that.
    const int64_t until = now + ClientStore::kHardCutMarginSeconds;
    if (wait_) {
      wait_(until);
    } else {
      while (clock_.now() <= until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (record_) {
    AuditEvent e = who;
    e.at = now;
    e.type = "client_secret_rotated";
    e.client_id = client_id;
    e.detail =
        hard_cut ? "hard cut: the previous secret and the app's access tokens issued "
                   "until now were revoked"
                 : "the previous secret works until " + iso8601_utc(out.previous_secret_expires_at);
    record_(std::move(e));
  }
  return out;
}

Result<std::vector<ClientStore::LiveSecret>> SecretRotation::live_secrets(
    const std::string& client_id) const {
  return clients_.list_live_secrets(client_id, clock_.now());
}

std::optional<int64_t> parse_grace(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      unit = 0;  // plain seconds
  }
  std::string_view number = unit ? text.substr(0, text.size() - 1) : text;
  if (!unit) unit = 1;
  if (number.empty() || number.size() > 9) return std::nullopt;
  int64_t n = 0;
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), n);
  if (ec != std::errc() || end != number.data() + number.size() || n < 0) return std::nullopt;
  const int64_t seconds = n * unit;
  if (seconds > SecretRotation::kMaxGraceSeconds) return std::nullopt;
  return seconds;
}

}  // namespace stagepass::oauth
