// SecretUsage (issue15:secrets): which client secret was used, from which IP, noted on the
// token endpoint's hot path (client authentication, after the secret matched) in memory only,
// so that "last used" and "distinct IPs in the last day" of every live secret reach the store
// in batches every few seconds (ClientStore::record_secret_usage) instead of one write per
// request - like UsageAggregator does for grants. It also decides when a use of a *retiring*
// secret deserves an audit event: at most one per (secret, IP) per minute, so a busy backend
// still on the old secret cannot flood the audit stream.
//
// Memory is bounded (16 shards, each with at most kMaxPairsPerShard (secret, IP) pairs between
// two drains and kMaxAuditKeysPerShard remembered audit keys: about 16 x (1024 + 1024) small
// entries, roughly 3 MB at worst):
//  - a use whose pair does not fit still counts for its secret's last use (one entry per
//    secret, and secrets are few: at most two live per client), only its IP goes uncounted
//    until the next drain;
//  - an audit key that does not fit (even after forgetting keys older than the window) means
//    no event for that use: suppressed() counts them.
// Thread safety: every method may be called from any thread concurrently; note() never
// blocks on I/O (one short mutex per shard).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "domain/models.hpp"

namespace stagepass {

class SecretUsage {
 public:
  static constexpr size_t kShards = 16;
  static constexpr size_t kMaxPairsPerShard = 1024;
  static constexpr size_t kMaxAuditKeysPerShard = 1024;
  static constexpr int64_t kAuditWindowSeconds = 60;

  // Records that secret `secret_id` authenticated a request from `ip` at `now` (seconds).
  // `retiring`: the secret is the one a rotation is phasing out. Returns true when the caller
  // should write a "retiring_secret_used" audit event for this use: retiring, and the first
  // use of this secret from this IP in kAuditWindowSeconds (the window starts at that event).
  bool note(int64_t secret_id, std::string_view ip, int64_t now, bool retiring);
  // Every use noted since the previous drain, one per (secret, IP) with its latest time, and
  // one with an empty IP for a secret whose pair did not fit; forgets them. Order unspecified.
  // A note() racing a drain() lands in this drain or the next.
  std::vector<ClientSecretUse> drain();
  // Puts uses back (after a failed flush); like note() for each, without audit decisions.
  void restore(const std::vector<ClientSecretUse>& uses);
  // Audit events not written because the audit-key table was full.
  uint64_t suppressed() const { return suppressed_.load(std::memory_order_relaxed); }

 private:
  struct Key {
    int64_t secret_id;
    std::string ip;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return std::hash<std::string>{}(k.ip) ^
             (std::hash<int64_t>{}(k.secret_id) * 0x9e3779b97f4a7c15ULL);
    }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<Key, int64_t, KeyHash> last;     // latest use per pair
    std::unordered_map<Key, int64_t, KeyHash> audited;  // when the last event was written
    int64_t swept_at = 0;  // the full audit table is swept at most once a second
  };
  // A shard by the IP alone, so a pair and its secret's fallback entry share a lock.
  Shard& shard_for(std::string_view ip);
  void note_locked(Shard& s, int64_t secret_id, std::string_view ip, int64_t now);

  std::array<Shard, kShards> shards_;
  std::atomic<uint64_t> suppressed_{0};
};

}  // namespace stagepass
