// VerifiedTokenCache: access tokens whose signature and claims were already checked, keyed
// by a keyed 128-bit digest of the token, so a repeat call costs one short hash and one
// lookup instead of an Ed25519 verification. An entry is the verified claims themselves: exp
// and the grant id, which the caller checks again on every hit (expiry, revocation), and the
// app's rate limit ("rl"), which the Web API applies without asking any store.
//
// issue15-fix:rotation. An entry also remembers the key that verified it (kid and public
// key): find() returns it only while the keyring in force still holds that key and it is not
// past its retire_at, so a retired key, or one a key swap removed, verifies nothing even from
// the cache; drop_unverifiable() frees such entries when the keys are swapped.
//
// Bounded: at most `capacity` entries over 16 shards; a full shard first drops expired
// entries, then an arbitrary eighth of itself. Thread safety: safe from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "tokens/access_token.hpp"
#include "tokens/keyring.hpp"

namespace stagepass {

class VerifiedTokenCache {
 public:
  // A keyed digest of the token (TokenVerifier: SipHash-2-4-128 under a per-process key),
  // so nobody can craft a token that collides with another's entry.
  using Key = std::array<unsigned char, 16>;
  static Key key_from(std::string_view digest16);

  explicit VerifiedTokenCache(size_t capacity);

  // The cached claims, when the key that verified them still verifies at `now` in `keys`
  // (Keyring::verifying_key, the same public key); an entry that no longer does is dropped.
  std::shared_ptr<const AccessClaims> find(const Key& key, const Keyring& keys, int64_t now) const;
  // `claims` as verified_access_token returned them (claims->kid names the key) with `keys`.
  void insert(const Key& key, std::shared_ptr<const AccessClaims> claims, const Keyring& keys,
              int64_t now);
  // Drops every entry whose key no longer verifies in `keys` at `now` (after a key swap).
  // Returns how many were dropped.
  size_t drop_unverifiable(const Keyring& keys, int64_t now);
  size_t size() const;
  bool enabled() const { return capacity_ > 0; }

 private:
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Entry {
    std::shared_ptr<const AccessClaims> claims;  // claims->kid names the key
    std::array<unsigned char, 32> public_key;    // of the key that verified them (Ed25519)
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<Key, Entry, KeyHash> map;
  };
  static bool still_verifies(const Entry& e, const Keyring& keys, int64_t now);
  Shard& shard(const Key& key) const;

  size_t capacity_;
  size_t per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace stagepass
