// KeyStore: this issuer's signing keys, their private halves sealed under the master key, and
// their schedule (tokens/key_schedule.hpp: next, active, retiring). A role of the accounts
// store: store.hpp states what every backend promises for every role (threads, blocking,
// durability, atomicity, error codes).
// Used by SigningKeys (tokens/signing_keys.hpp: the accounts role, which rereads the keys
// while it runs) and by `stagepass admin keys`.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.hpp"
#include "domain/models.hpp"

namespace stagepass {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // Every stored key, in signing order: by signs_from, then created_at, then kid (at any
  // time, the last one whose signs_from has come signs).
  virtual Result<std::vector<SigningKey>> list_signing_keys() = 0;
  // kConflict when the kid exists.
  virtual Status<> save_signing_key(const SigningKey& key) = 0;
  // A rotation, in one transaction: stores `next` to sign after every stored key, and gives
  // the key that signs last until then retire_at = `predecessor_retire_at`. kConflict, and
  // nothing written, when a stored key starts signing after `now` (a next key is already
  // waiting), or at or after next.signs_from, or has next's kid.
  virtual Status<> add_next_signing_key(const SigningKey& next, int64_t now,
                                        int64_t predecessor_retire_at) = 0;
  // Deletes the keys whose retire_at is set and not after `now`; returns how many.
  virtual Result<int64_t> delete_retired_signing_keys(int64_t now) = 0;
};

}  // namespace stagepass
