// Keyring: a snapshot of this issuer's signing keys, opened with the master key, with their
// schedule (tokens/key_schedule.hpp), and their JWKS.
//
// The snapshot answers for any time: the key that signs at `now` and the keys published at
// `now`, so a key starts signing exactly at its signs_from and leaves the JWKS exactly at
// its retire_at without a reload. SigningKeys (signing_keys.hpp) builds it from the store
// and swaps in a new one when the stored keys change. Verification finds a key by kid among
// those not past their retire_at (a next key too: another node may switch a moment earlier).
// Thread safety: immutable; share it through std::shared_ptr<const Keyring>.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret.hpp"

namespace stagepass {

struct OpenKey {
  std::string kid;
  std::string alg;         // "EdDSA"
  std::string public_key;  // raw Ed25519 public key
  Secret secret_key;       // empty for keys known only by their public half
  int64_t signs_from = 0;  // signs from then (published before, as the next key)
  int64_t retire_at = std::numeric_limits<int64_t>::max();  // published until then
  // The header of the access tokens it signs ({"alg","typ":"at+jwt","kid"}), base64url: the
  // same bytes in every token, so Keyring encodes it once (mint_access_token).
  std::string access_token_header = {};
};

class Keyring {
 public:
  // The public keys of a JWKS document (verification only: signing_key() must not be used).
  // nullptr when the document holds no usable Ed25519 key.
  static std::shared_ptr<const Keyring> from_jwks(std::string_view jwks_json);
  // `keys` in signing order (KeyStore::list_signing_keys); at least one to sign with.
  explicit Keyring(std::vector<OpenKey> keys);

  // The key that signs at `now`: the last whose signs_from has come (the first when none has).
  const OpenKey& signing_key(int64_t now) const;
  // The key named `kid`, whatever its state (SigningKeys reuses opened secrets by kid).
  const OpenKey* find(std::string_view kid) const;
  // issue15-fix:rotation. The key named `kid` that may verify a token at `now`: not past its
  // retire_at (a retired key is out of the JWKS, and whatever it signed has expired). A next
  // key verifies (another node may start signing with it a moment earlier). Null otherwise.
  const OpenKey* verifying_key(std::string_view kid, int64_t now) const;
  // The keys published at `now` (not past retire_at), newest signs_from first:
  // {"keys":[{"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}]}
  std::string jwks_json(int64_t now) const;
  const std::vector<OpenKey>& keys() const { return keys_; }

 private:
  std::vector<OpenKey> keys_;
};

// The keyring in force, replaced whole when the keys change: readers take the current
// snapshot and keep using it while a newer one is swapped in.
// Thread safety: get() and set() from any thread.
class KeyringSlot {
 public:
  explicit KeyringSlot(std::shared_ptr<const Keyring> keys) : keys_(std::move(keys)) {}
  std::shared_ptr<const Keyring> get() const { return keys_.load(); }
  void set(std::shared_ptr<const Keyring> keys) { keys_.store(std::move(keys)); }

 private:
  std::atomic<std::shared_ptr<const Keyring>> keys_;
};

}  // namespace stagepass
