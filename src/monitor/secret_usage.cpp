#include "monitor/secret_usage.hpp"

#include <functional>

namespace stagepass {

SecretUsage::Shard& SecretUsage::shard_for(std::string_view ip) {
  return shards_[std::hash<std::string_view>{}(ip) % shards_.size()];
}

void SecretUsage::note_locked(Shard& s, int64_t secret_id, std::string_view ip, int64_t now) {
  Key key{secret_id, std::string(ip)};
  auto it = s.last.find(key);
  if (it == s.last.end() && s.last.size() >= kMaxPairsPerShard) {
    // Full until the next drain: the use still counts for the secret's last use.
    key.ip.clear();
    it = s.last.find(key);
  }
  if (it == s.last.end()) {
    s.last.emplace(std::move(key), now);
  } else if (it->second < now) {
    it->second = now;
  }
}

bool SecretUsage::note(int64_t secret_id, std::string_view ip, int64_t now, bool retiring) {
  Shard& s = shard_for(ip);
  std::lock_guard lk(s.mu);
  note_locked(s, secret_id, ip, now);
  if (!retiring) return false;
  Key key{secret_id, std::string(ip)};
  auto it = s.audited.find(key);
  if (it != s.audited.end()) {
    if (now < it->second + kAuditWindowSeconds) return false;
    it->second = now;
    return true;
  }
  if (s.audited.size() >= kMaxAuditKeysPerShard && s.swept_at != now) {
    s.swept_at = now;
    std::erase_if(s.audited,
                  [&](const auto& kv) { return now >= kv.second + kAuditWindowSeconds; });
  }
  if (s.audited.size() >= kMaxAuditKeysPerShard) {
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  s.audited.emplace(std::move(key), now);
  return true;
}

std::vector<ClientSecretUse> SecretUsage::drain() {
  std::vector<ClientSecretUse> out;
  for (Shard& s : shards_) {
    std::unordered_map<Key, int64_t, KeyHash> taken;
    {
      std::lock_guard lk(s.mu);
      taken.swap(s.last);
    }
    for (auto& [key, at] : taken) out.push_back({key.secret_id, key.ip, at});
  }
  return out;
}

void SecretUsage::restore(const std::vector<ClientSecretUse>& uses) {
  for (const auto& u : uses) {
    Shard& s = shard_for(u.ip);
    std::lock_guard lk(s.mu);
    note_locked(s, u.secret_id, u.ip, u.at);
  }
}

}  // namespace stagepass
