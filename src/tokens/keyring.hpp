// Keyring: the signing keys of this issuer, opened with the master key, and their JWKS.
//
// Keys live in the store sealed under the master key; the newest signs, every stored key
// is published in the JWKS so tokens signed by an older key keep verifying until they
// expire. Thread safety: immutable after load(); share it by const reference.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/secret.hpp"
#include "store/key_store.hpp"

namespace stagepass {

struct OpenKey {
  std::string kid;
  std::string alg;         // "EdDSA"
  std::string public_key;  // raw Ed25519 public key
  Secret secret_key;       // empty for keys known only by their public half
};

class Keyring {
 public:
  // Loads the keys from the store, creating and storing a first key when there is none.
  // Throws when a stored key cannot be opened with this master key (wrong key file).
  static std::shared_ptr<const Keyring> load_or_create(KeyStore& store, const Secret& master_key,
                                                       Random& random, const Clock& clock);
  // The public keys of a JWKS document (verification only: signing_key() must not be used).
  // nullptr when the document holds no usable Ed25519 key.
  static std::shared_ptr<const Keyring> from_jwks(std::string_view jwks_json);
  explicit Keyring(std::vector<OpenKey> keys) : keys_(std::move(keys)) {}

  const OpenKey& signing_key() const { return keys_.back(); }
  const OpenKey* find(std::string_view kid) const;
  // {"keys":[{"kty":"OKP","crv":"Ed25519","x":...,"kid":...,"alg":"EdDSA","use":"sig"}]}
  std::string jwks_json() const;

 private:
  std::vector<OpenKey> keys_;  // oldest first
};

}  // namespace stagepass
