#include "tokens/keyring.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "core/base64url.hpp"
#include "crypto/crypto.hpp"

namespace stagepass {

std::shared_ptr<const Keyring> Keyring::load_or_create(KeyStore& store, const Secret& master_key,
                                                       Random& random, const Clock& clock) {
  auto stored = store.list_signing_keys();
  if (!stored) throw std::runtime_error("cannot read signing keys: " + stored.error().message);
  if (stored->empty()) {
    auto kp = crypto::ed25519_generate();
    SigningKey k{random.id22(), "EdDSA", kp.public_key, crypto::seal(master_key, kp.secret_key.reveal()),
                 clock.now()};
    auto saved = store.save_signing_key(k);
    if (!saved) throw std::runtime_error("cannot store signing key: " + saved.error().message);
    stored->push_back(k);
  }
  std::vector<OpenKey> keys;
  for (const auto& k : *stored) {
    auto secret = crypto::open(master_key, k.sealed_private_key);
    if (!secret) {
      throw std::runtime_error("signing key " + k.kid +
                               " cannot be opened: wrong master key (STAGEPASS_MASTER_KEY/_FILE)?");
    }
    keys.push_back({k.kid, k.alg, k.public_key, std::move(*secret)});
  }
  return std::make_shared<const Keyring>(std::move(keys));
}

const OpenKey* Keyring::find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

std::string Keyring::jwks_json() const {
  boost::json::array keys;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    keys.push_back({{"kty", "OKP"},
                    {"crv", "Ed25519"},
                    {"x", base64url_encode(it->public_key)},
                    {"kid", it->kid},
                    {"alg", it->alg},
                    {"use", "sig"}});
  }
  return boost::json::serialize(boost::json::object{{"keys", std::move(keys)}});
}

}  // namespace stagepass
