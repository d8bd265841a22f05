// VerifiedTokenCache: access tokens whose signature and claims were already checked, keyed
// by SHA-256 of the token, so a repeat call costs one hash and one lookup instead of an
// Ed25519 verification. Expiry and revocation are still checked by the caller on every hit
// (the entry keeps exp and the grant id).
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
#include <unordered_map>

#include "tokens/access_token.hpp"

namespace stagepass {

class VerifiedTokenCache {
 public:
  explicit VerifiedTokenCache(size_t capacity);

  // `key` is the raw 32-byte SHA-256 of the token.
  std::shared_ptr<const AccessClaims> find(const std::string& key) const;
  void insert(const std::string& key, std::shared_ptr<const AccessClaims> claims, int64_t now);
  size_t size() const;
  bool enabled() const { return capacity_ > 0; }

 private:
  struct KeyHash {
    size_t operator()(const std::string& k) const;
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<const AccessClaims>, KeyHash> map;
  };
  Shard& shard(const std::string& key) const;

  size_t capacity_;
  size_t per_shard_;
  mutable std::array<Shard, 16> shards_;
};

}  // namespace stagepass
