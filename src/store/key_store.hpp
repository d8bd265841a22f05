// KeyStore: this issuer's signing keys, their private halves sealed under the master key. A
// role of the accounts store: store.hpp states what every backend promises for every role
// (threads, blocking, durability, atomicity, error codes).
// Used by the Keyring (tokens/keyring.hpp) only, at startup.
#pragma once

#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Every stored key, oldest first (the newest signs).
  virtual Result<std::vector<SigningKey>> list_signing_keys() = 0;
  // kConflict when the kid exists.
  virtual Status<> save_signing_key(const SigningKey& key) = 0;
};

}  // namespace stagepass
