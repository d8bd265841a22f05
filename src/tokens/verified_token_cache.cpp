#include "tokens/verified_token_cache.hpp"

#include <cstring>

namespace stagepass {

VerifiedTokenCache::Key VerifiedTokenCache::key_from(std::string_view digest16) {
  Key k{};
  std::memcpy(k.data(), digest16.data(), std::min(k.size(), digest16.size()));
  return k;
}

size_t VerifiedTokenCache::KeyHash::operator()(const Key& k) const {
  // The key is already a keyed pseudo-random digest: its first bytes are uniform.
  size_t h = 0;
  std::memcpy(&h, k.data(), sizeof h);
  return h;
}

VerifiedTokenCache::VerifiedTokenCache(size_t capacity)
    : capacity_(capacity), per_shard_(std::max<size_t>(1, capacity / 16)) {}

VerifiedTokenCache::Shard& VerifiedTokenCache::shard(const Key& key) const {
  return shards_[static_cast<unsigned char>(key.back()) % shards_.size()];
}

bool VerifiedTokenCache::still_verifies(const Entry& e, const Keyring& keys, int64_t now) {
  const OpenKey* k = keys.verifying_key(e.claims->kid, now);
  return k && k->public_key.size() == e.public_key.size() &&
         std::memcmp(k->public_key.data(), e.public_key.data(), e.public_key.size()) == 0;
}

std::shared_ptr<const AccessClaims> VerifiedTokenCache::find(const Key& key, const Keyring& keys,
                                                             int64_t now) const {
  if (!enabled()) return nullptr;
  auto& s = shard(key);
  std::lock_guard lk(s.mu);
  auto it = s.map.find(key);
  if (it == s.map.end()) return nullptr;
  if (!still_verifies(it->second, keys, now)) {
    s.map.erase(it);
    return nullptr;
  }
  return it->second.claims;
}

void VerifiedTokenCache::insert(const Key& key, std::shared_ptr<const AccessClaims> claims,
                                const Keyring& keys, int64_t now) {
  if (!enabled()) return;
  const OpenKey* k = keys.find(claims->kid);
  // Not verified with `keys` (or not an Ed25519 key): nothing to remember.
  if (!k || k->public_key.size() != sizeof(Entry::public_key)) return;
  Entry entry{std::move(claims), {}};
  std::memcpy(entry.public_key.data(), k->public_key.data(), entry.public_key.size());
  auto& s = shard(key);
  std::lock_guard lk(s.mu);
  if (s.map.size() >= per_shard_) {
    std::erase_if(s.map, [&](const auto& kv) { return kv.second.claims->exp < now; });
    size_t drop = s.map.size() >= per_shard_ ? per_shard_ / 8 + 1 : 0;
    for (auto it = s.map.begin(); drop > 0 && it != s.map.end(); --drop) it = s.map.erase(it);
  }
  s.map.insert_or_assign(key, std::move(entry));
}

size_t VerifiedTokenCache::drop_unverifiable(const Keyring& keys, int64_t now) {
  size_t dropped = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    dropped +=
        std::erase_if(s.map, [&](const auto& kv) { return !still_verifies(kv.second, keys, now); });
  }
  return dropped;
}

size_t VerifiedTokenCache::size() const {
  size_t n = 0;
  for (auto& s : shards_) {
    std::lock_guard lk(s.mu);
    n += s.map.size();
  }
  return n;
}

}  // namespace stagepass
