// SigningKeys: the accounts role's signing keys as the store holds them while the server
// runs. `stagepass admin keys rotate` writes the database from another process and the
// schedule (STAGEPASS_KEY_ROTATION) rotates from inside: refresh() rereads the keys, runs
// the schedule and deletes retired keys, and swaps in a new Keyring when anything changed,
// so a new key is published (and later signs) without a restart. States and times:
// key_schedule.hpp; the snapshot applies signs_from and retire_at at their second.
//
// issue15-fix:keys. The times stored with a key are what the process that wrote it planned
// (`admin keys rotate` with its own settings); this node applies its own policy on top, so
// no other process's settings and no late pickup make it sign with a key verifiers may not
// know yet:
//  - a key this node first published during second t signs here from max(signs_from,
//    t + 1 + its jwks_max_age) at the earliest (until then the previous key keeps signing here).
//    Keys already signing when the node starts are taken as they are (the nodes running then
//    published them), and so is the only key;
//  - a key that stops signing here at s (its successor's signing time as this node applies
//    it) stays published and verifying here until max(retire_at, s + its retention()), even
//    if the store deleted it meanwhile (another node's maintenance): its secret stays in
//    memory until then.
// Blocking (store I/O): construct at startup, call refresh() from the Background thread.
// Thread safety: current() and slot() from any thread; refresh() from one thread at a time.
// Lifetime: `store`, `random` and `clock` must outlive it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"
#include "store/key_store.hpp"
#include "tokens/key_schedule.hpp"
#include "tokens/keyring.hpp"

namespace stagepass {

// A rotation at `now`, as `stagepass admin keys rotate` does it: a new Ed25519 key, sealed
// under `master_key`, stored as the next key per plan_rotation(). Errors: plan_rotation's
// (kInvalid: publish-ahead too short; kConflict: a next key waits) and the store's.
Result<SigningKey> rotate_signing_key(KeyStore& store, const Secret& master_key, Random& random,
                                      int64_t now, int64_t publish_ahead, const KeyPolicy& policy);

class SigningKeys {
 public:
  struct Settings {
    KeyPolicy policy;
    int64_t rotation_period = 0;  // seconds; 0: no scheduled rotation
  };
  // What one refresh() did, for the log and the audit stream.
  struct Refreshed {
    bool swapped = false;               // a new Keyring is in force
    std::optional<SigningKey> rotated;  // the schedule created this next key
    int64_t deleted = 0;                // retired keys deleted
    std::vector<std::string> states;    // "kid:state" of every key, when swapped
  };

  // Loads the keys, creating the first one (signing at once) when the store has none.
  // Throws std::runtime_error when the store fails or a key cannot be opened with
  // `master_key` (a wrong STAGEPASS_MASTER_KEY/_FILE): startup only.
  SigningKeys(KeyStore& store, Secret master_key, Random& random, const Clock& clock,
              Settings settings);

  std::shared_ptr<const Keyring> current() const { return slot_.get(); }
  const KeyringSlot& slot() const { return slot_; }
  const Settings& settings() const { return settings_; }

  // The Background chore. Errors: the store's (the current keyring stays), kInvalid when a
  // stored key cannot be opened (another master key wrote it; the current keyring stays).
  Result<Refreshed> refresh();

 private:
  struct Row {
    std::string kid;
    int64_t signs_from;
    int64_t retire_at;
    bool operator==(const Row&) const = default;
  };
  // Opens `stored` into a Keyring, reusing the secrets of the current one by kid, with this
  // node's times (issue15-fix:keys, above); notes when each kid was first published here.
  Result<std::shared_ptr<const Keyring>> open(const std::vector<SigningKey>& stored);

  KeyStore& store_;
  const Secret master_key_;
  Random& random_;
  const Clock& clock_;
  const Settings settings_;
  std::vector<Row> loaded_;  // what the current keyring was built from (refresh() only)
  // kid -> when this node first published it (INT64_MIN: taken as it was, at startup).
  std::unordered_map<std::string, int64_t> first_published_;
  KeyringSlot slot_;
};

}  // namespace stagepass
