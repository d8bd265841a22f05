// Key schedule: the life of a signing key, decided from its stored times and the clock only.
//
//   next      published in the JWKS, not signing yet: signs_from is still to come. A key is
//             published at least the JWKS cache lifetime (Cache-Control max-age) before it
//             signs, so every verifier holding a fresh-enough copy of the JWKS knows it.
//   active    signing: the last key, in signing order, whose signs_from has come.
//   retiring  a newer key signs; still published until retire_at, which is when the last
//             token it signed has expired (plus the clock skew allowed) and every cached
//             JWKS copy that lacked its successor has gone stale.
//   retired   past retire_at: no longer published; deleted by the next maintenance.
//
// Keys are in signing order (KeyStore::list_signing_keys: by signs_from, created_at, kid).
// Pure functions: no I/O, no clock of their own. Thread safety: none needed.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

enum class KeyState { kNext, kActive, kRetiring, kRetired };

// "next", "active", "retiring", "retired" (admin keys list).
std::string_view key_state_name(KeyState state);

struct KeyPolicy {
  // How long after a key stops signing one of its tokens may still be presented: the access
  // token lifetime plus the clock skew verifiers allow on exp.
  int64_t token_lifetime = 3600 + 10;
  // Cache-Control max-age of the JWKS: how long a verifier may use its copy.
  int64_t jwks_max_age = 300;
  // A key that stops signing at t stays published until t + retention().
  int64_t retention() const { return token_lifetime + jwks_max_age; }
  // The publish-ahead of a rotation that names none: twice the max-age, so a verifier that
  // refreshes its copy when it goes stale has a whole max-age to spare.
  int64_t default_publish_ahead() const { return 2 * jwks_max_age; }
};

// Running servers reread the keys every second (the accounts role's background tick): a
// rotation starts signing this much later than its publish-ahead asks, so that the servers
// have published the key for the whole publish-ahead. A server never relies on it: it signs
// with a key only once it has published it for its own max-age, and keeps a retiring key
// for its own retention (SigningKeys, issue15-fix:keys).
inline constexpr int64_t kKeyPickupSeconds = 1;

// The state of each of `keys` (in signing order) at `now`. With no key past its signs_from
// (a clock set back), the first key counts as active: some key always signs.
std::vector<KeyState> key_states(const std::vector<SigningKey>& keys, int64_t now);

// The first time after `now` at which a key changes state (a signs_from or a retire_at),
// or nullopt when none will without a new rotation.
std::optional<int64_t> next_key_change(const std::vector<SigningKey>& keys, int64_t now);

// A rotation at `now` with `publish_ahead` seconds: the new key's signs_from and its
// predecessor's retire_at. kInvalid, with a sentence for the operator, when publish_ahead
// is shorter than the JWKS max-age; kConflict when a next key is already waiting.
struct RotationPlan {
  int64_t signs_from = 0;
  int64_t predecessor_retire_at = 0;
};
Result<RotationPlan> plan_rotation(const std::vector<SigningKey>& keys, int64_t now,
                                   int64_t publish_ahead, const KeyPolicy& policy);

// The scheduled rotation (STAGEPASS_KEY_ROTATION = `period` seconds, > 0): due when no next
// key waits and the active key has signed for at least period - publish_ahead - one tick, so
// that its successor starts signing when it is `period` old even if the tick that finds it due
// comes a second late (or publish_ahead from now, when the server was not running then).
// nullopt when not due.
std::optional<RotationPlan> scheduled_rotation(const std::vector<SigningKey>& keys, int64_t now,
                                               int64_t period, const KeyPolicy& policy);

}  // namespace stagepass
