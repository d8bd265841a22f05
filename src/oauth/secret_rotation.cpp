#include "oauth/secret_rotation.hpp"

#include <algorithm>
#include <charconv>

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
  if (!admit(client_id, now)) {
    return fail(Error{ErrorCode::kConflict,
                      "This app's secret was rotated " + std::to_string(kMaxRotationsPerWindow) +
                          " times in the last " + std::to_string(kRotationWindowSeconds / 60) +
                          " minutes: wait a few minutes before rotating it again."});
  }
  Rotated out{client_id, random_.token("sps_"), 0};
  auto r = clients_.rotate_client_secret(client_id, client_secret_hash(out.client_secret), now,
                                         grace_seconds);
  if (!r) return fail(r.error());
  out.previous_secret_expires_at = r->previous_expires_at;
  const bool hard_cut = grace_seconds == 0;
  // issue15-fix:rotation-b. No wait after a hard cut: a token of the new secret is never
  // caught by it, because the grant reads the client (secret and cut together) after the
  // commit and TokenIssuer gives it an iat after the cut (tokens_cut_at + 1).
  if (hard_cut && announce_) announce_();
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

bool SecretRotation::admit(const std::string& client_id, int64_t now) const {
  std::lock_guard lock(mu_);
  auto forget_old = [&](std::vector<int64_t>& times) {
    std::erase_if(times, [&](int64_t t) { return t <= now - kRotationWindowSeconds; });
  };
  if (recent_.size() >= kMaxTrackedApps) {
    // Bounded: apps with no rotation in the window hold no place.
    for (auto it = recent_.begin(); it != recent_.end();) {
      forget_old(it->second);
      it = it->second.empty() ? recent_.erase(it) : std::next(it);
    }
    if (recent_.size() >= kMaxTrackedApps && !recent_.contains(client_id)) return false;
  }
  auto& times = recent_[client_id];
  forget_old(times);
  if (times.size() >= static_cast<size_t>(kMaxRotationsPerWindow)) return false;
  times.push_back(now);
  return true;
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
