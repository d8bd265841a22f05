#include "tokens/keyring.hpp"

#include <boost/json.hpp>

#include "core/base64url.hpp"

namespace stagepass {

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

Keyring::Keyring(std::vector<OpenKey> keys) : keys_(std::move(keys)) {
  for (OpenKey& k : keys_) {
    boost::json::object header{{"alg", k.alg}, {"typ", "at+jwt"}, {"kid", k.kid}};
    k.access_token_header = base64url_encode(boost::json::serialize(header));
  }
}

const OpenKey& Keyring::signing_key(int64_t now) const {
  const OpenKey* signing = &keys_.front();
  for (const auto& k : keys_)
    if (k.signs_from <= now) signing = &k;
  return *signing;
}

const OpenKey* Keyring::find(std::string_view kid) const {
  for (const auto& k : keys_) {
    if (k.kid == kid) return &k;
  }
  return nullptr;
}

const OpenKey* Keyring::verifying_key(std::string_view kid, int64_t now) const {
  const OpenKey* k = find(kid);
  return k && now < k->retire_at ? k : nullptr;
}

std::string Keyring::jwks_json(int64_t now) const {
  boost::json::array keys;
  for (auto it = keys_.rbegin(); it != keys_.rend(); ++it) {
    if (it->retire_at <= now) continue;
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
