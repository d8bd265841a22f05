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
    SigningKey k{random.id22(), "EdDSA", kp.public_key,
                 crypto::seal(master_key, kp.secret_key.reveal()), clock.now()};
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

std::shared_ptr<const Keyring> Keyring::from_jwks(std::string_view jwks_json) {
  boost::json::error_code ec;
  auto doc = boost::json::parse(jwks_json, ec);
  if (ec || !doc.is_object()) return nullptr;
  auto* keys = doc.as_object().if_contains("keys");
  if (!keys || !keys->is_array()) return nullptr;
  std::vector<OpenKey> out;
  for (const auto& k : keys->as_array()) {
    if (!k.is_object()) continue;
    const auto& o = k.as_object();
    auto field = [&](const char* name) -> std::string {
      auto* v = o.if_contains(name);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    if (field("kty") != "OKP" || field("crv") != "Ed25519" || field("kid").empty()) continue;
    auto x = base64url_decode(field("x"));
    if (!x || x->size() != 32) continue;
    out.insert(out.begin(),
               OpenKey{field("kid"), "EdDSA", *x, Secret()});  // JWKS lists newest first
  }
  if (out.empty()) return nullptr;
  return std::make_shared<const Keyring>(std::move(out));
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
