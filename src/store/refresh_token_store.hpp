// RefreshTokenStore: refresh tokens, by the SHA-256 of their value, and their rotation. A
// role of the accounts store: store.hpp states what every backend promises for every role
// (threads, blocking, durability, atomicity, error codes).
// Used by the refresh_token grant (rotation), RFC 7009 revocation and introspection (lookup).
// Tokens are stored by the authorization_code grant through CodeStore::redeem_code.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.hpp"
#include "domain/models.hpp"
#include "store/refresh_rotation.hpp"

namespace stagepass {

class RefreshTokenStore {
 public:
  virtual ~RefreshTokenStore() = default;
  // kNotFound; a token whose grant is revoked (or gone) reads back with `revoked` set.
  virtual Result<RefreshToken> find_refresh_token(const std::string& hash) = 0;
  // Rotates a refresh token in one write transaction: reads the token, its grant and (for a
  // spent token) its successor, decides with decide_rotation() (refresh_rotation.hpp: the
  // order of reuse detection and the policy checks, and what each outcome means), and writes
  // what it decided: nothing (kNotFound, kRefused); the grant revoked (kReuseRevoked); the
  // successor stored and the earlier successor superseded (kReuseGrace); the token spent and
  // the successor stored (kRotated). No separate read before the write. A store with a row
  // per chain (SQLite, keys of the family shape) also answers kInvalid when the successor's
  // key cannot follow the token's (the same family and the next generation, or the same one
  // for a grace retry: TokenIssuer's next_refresh_token), and refuses a rotation past the
  // last generation as kExpired; nothing written either way.
  virtual Result<Rotation> rotate_refresh_token(const std::string& old_hash,
                                                const RefreshPolicy& policy) = 0;
};

}  // namespace stagepass
