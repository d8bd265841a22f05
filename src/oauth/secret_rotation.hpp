// SecretRotation (issue15:secrets): rotating a confidential client's secret without downtime,
// and the live secrets with their last use. What `stagepass admin client rotate-secret` and
// the developer dashboard's "Rotate secret" button and secret list call.
//
// A rotation makes a new secret (shown once: only its digest is stored) and keeps the previous
// one working for `grace` seconds (default 24 h), so every backend can move over; the page
// shows each live secret's last use to tell when they have. A second rotation while a secret
// is still retiring ends that one at once: at most two secrets are live. grace == 0 is a hard
// cut for a leaked secret: the previous one stops at once, and every access token of the app
// issued until then is refused on every node (the cut reaches this node's revocation set
// before rotate() returns, through `announce`; other nodes within one revocation-feed poll).
// Its refresh tokens stay valid, but only the new secret can use them. A request that authenticated
// with the old secret before the cut and signs after it is refused whatever the time between
// (issue15-fix:rotation: the token endpoint reconfirms the secret after its store write,
// oauth::reconfirm_client), or, when it authenticated from memory (client credentials,
// issue17:cc-inline), gets a token whose iat the cut covers: that read came after the iat was
// fixed. Tokens carry whole seconds (iat): the cut covers the tokens issued through the next second
// (ClientStore::kHardCutMarginSeconds); a token of the new secret is never caught, without any wait
// (issue15-fix:rotation-b): its grant reads the client after the cut committed and TokenIssuer
// gives it iat >= tokens_cut_at + 1.
//
// issue15-fix:rotation-b. Rotations are limited per app: at most kMaxRotationsPerWindow in
// kRotationWindowSeconds through one SecretRotation (a node's dashboard), so a developer
// cannot turn the button into a stream of store writes and revocation polls. The admin CLI
// (one rotation per process, the operator) is not limited by it.
//
// Blocking (store): call from worker threads only.
// Lifetime: keeps references to `clients`, `random` and `clock`; all must outlive it.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "domain/models.hpp"
#include "store/client_store.hpp"

namespace stagepass::oauth {

class SecretRotation {
 public:
  static constexpr int64_t kDefaultGraceSeconds = 24 * 3600;
  static constexpr int64_t kMaxGraceSeconds = 30 * 24 * 3600;
  // Reads revocations back into this node's RevocationSet (after a hard cut). May be empty
  // (the admin CLI: running nodes learn the cut from their feed).
  using Announce = std::function<void()>;
  // Writes a security event durably. May be empty.
  using Record = std::function<void(AuditEvent)>;
  static constexpr int kMaxRotationsPerWindow = 5;
  static constexpr int64_t kRotationWindowSeconds = 600;
  static constexpr size_t kMaxTrackedApps = 10000;

  SecretRotation(ClientStore& clients, Random& random, const Clock& clock, Announce announce,
                 Record record)
      : clients_(clients),
        random_(random),
        clock_(clock),
        announce_(std::move(announce)),
        record_(std::move(record)) {}

  struct Rotated {
    std::string client_id;
    std::string client_secret;               // the new secret: show it once, never log it
    int64_t previous_secret_expires_at = 0;  // unix seconds; the rotation's time for a hard cut
  };
  // Rotates the secret of `client_id`, keeping the previous one `grace_seconds` (0: hard cut).
  // Writes "client_secret_rotated" (with `who`'s user_id and ip, if given) to the audit stream.
  // Errors: kInvalid (grace outside 0..kMaxGraceSeconds), kNotFound (no such client),
  // kConflict (a public client: it has no secret; or the app's rotation limit is reached,
  // with a sentence for the developer; nothing written), kIo.
  Result<Rotated> rotate(const std::string& client_id, int64_t grace_seconds,
                         const AuditEvent& who = {}) const;

  // The client's live secrets now, current first, with their last use and the number of
  // distinct IPs in the last day (ClientStore::LiveSecret; figures lag by at most one
  // usage flush, a few seconds). Errors: kNotFound, kIo.
  Result<std::vector<ClientStore::LiveSecret>> live_secrets(const std::string& client_id) const;

 private:
  // Whether `client_id` may rotate at `now` (and counts it): the per-app limit above.
  bool admit(const std::string& client_id, int64_t now) const;

  ClientStore& clients_;
  Random& random_;
  const Clock& clock_;
  Announce announce_;
  Record record_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::vector<int64_t>> recent_;  // rotation times
};

// "24h", "30m", "3s", "7d" or plain seconds ("0": hard cut) as seconds; nullopt for anything
// else or beyond SecretRotation::kMaxGraceSeconds. For the CLI's --grace.
std::optional<int64_t> parse_grace(std::string_view text);

}  // namespace stagepass::oauth
