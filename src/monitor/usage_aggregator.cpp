#include "monitor/usage_aggregator.hpp"

#include <functional>

namespace stagepass {

UsageAggregator::Shard& UsageAggregator::shard_for(const std::string& grant_id) {
  return shards_[std::hash<std::string>{}(grant_id) % shards_.size()];
}

void UsageAggregator::note(const std::string& grant_id, int64_t now) {
  Shard& s = shard_for(grant_id);
  std::lock_guard lk(s.mu);
  auto [it, inserted] = s.last.try_emplace(grant_id, now);
  if (!inserted && it->second < now) it->second = now;
}

UsageAggregator::Uses UsageAggregator::drain() {
  Uses out;
  for (Shard& s : shards_) {
    std::unordered_map<std::string, int64_t> taken;
    {
      std::lock_guard lk(s.mu);
      taken.swap(s.last);
    }
    for (auto& [id, at] : taken) out.emplace_back(id, at);
  }
  return out;
}

void UsageAggregator::restore(const Uses& uses) {
  for (const auto& [id, at] : uses) note(id, at);
}

}  // namespace stagepass
