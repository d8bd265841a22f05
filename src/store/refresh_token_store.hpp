// RefreshTokenStore: refresh tokens, by the SHA-256 of their value, and their rotation. A
// role of the accounts store: store.hpp states what every backend promises for every role
// (threads, blocking, durability, atomicity, error codes).
// Used by the refresh_token grant (rotation), RFC 7009 revocation and introspection (lookup).
// Tokens are stored by the authorization_code grant through CodeStore::redeem_code.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

// What happened to a refresh token presented for rotation.
enum class RotateOutcome {
  kRotated,       // the old token is spent, the new one is stored
  kNotFound,      // unknown, or its grant is revoked
  kRefused,       // the caller's `successor` function refused it: nothing written
  kReuseGrace,    // its own client's first retry inside the grace window: new token stored,
                  // the earlier (still unused) successor superseded
  kReuseRevoked,  // reuse: the whole grant is revoked
};

// The outcome, and the token as the write read it (empty when kNotFound), so the caller can
// name the person and app in an audit event whatever the outcome.
struct Rotation {
  RotateOutcome outcome = RotateOutcome::kNotFound;
  RefreshToken token;
};

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  // kNotFound; a token whose grant is revoked (or gone) reads back with `revoked` set.
  virtual Result<RefreshToken> find_refresh_token(const std::string& hash) = 0;
  // Decides on the token and its grant, as they are inside the write: nullopt refuses
  // (kRefused), a record is the successor to store. Runs on the store's writer: no store
  // calls, nothing slow.
  using Successor =
      std::function<std::optional<RefreshToken>(const RefreshToken& old, const Grant& grant)>;
  // Atomically reads `old_hash` and its grant and decides, in this order (RFC 9700 §4.14.2;
  // docs/security.md, "Refresh token reuse"):
  //  1. unknown token, or its grant revoked: kNotFound;
  //  2. reuse detection, before any policy check: a token that was already rotated, or that a
  //     grace retry superseded, presented again revokes the whole grant (kReuseRevoked),
  //     unless it is the first retry of a rotated token, by the client it was issued to
  //     (`client_id`), within `grace_seconds` of its rotation, while its successor is still
  //     unused. A spent token presented by another client is reuse, never a mere refusal, so
  //     it cannot keep a leaked chain alive;
  //  3. `successor` (the grant type's policy: client, expiry, scope) refuses: kRefused,
  //     nothing written;
  //  4. a grace retry stores the new token and supersedes the earlier successor
  //     (kReuseGrace); otherwise the token is spent and its successor stored (kRotated).
  // One write transaction, no separate read before it.
  virtual Result<Rotation> rotate_refresh_token(const std::string& old_hash,
                                                const std::string& client_id, int64_t now,
                                                int64_t grace_seconds,
                                                const Successor& successor) = 0;
};

}  // namespace stagepass
