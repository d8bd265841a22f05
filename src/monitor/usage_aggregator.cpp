#include "monitor/usage_aggregator.hpp"

#include <functional>

namespace stagepass {

UsageAggregator::Shard& UsageAggregator::shard_for(const std::string& grant_id) {
  return shards_[std::hash<std::string>{}(grant_id) % shards_.size()];
}

void UsageAggregator::note(const std::string& grant_id, int64_t now) {
  Shard& s = shard_for(grant_id);
  std::lock_guard lk(s.mu);
  Entry& e = s.grants[grant_id];
  if (e.latest < now) e.latest = now;
}

bool UsageAggregator::due(const Entry& e) const {
  if (e.latest <= e.handed) return false;
  if (e.handed == kNone) return true;
  return e.latest - e.handed >= resolution_;
}

UsageAggregator::Uses UsageAggregator::drain(int64_t now) { return sweep(now, false); }

UsageAggregator::Uses UsageAggregator::drain_all() { return sweep(0, true); }

UsageAggregator::Uses UsageAggregator::sweep(int64_t now, bool everything) {
  Uses out;
  for (Shard& s : shards_) {
    std::lock_guard lk(s.mu);
    for (auto it = s.grants.begin(); it != s.grants.end();) {
      Entry& e = it->second;
      const int64_t age = now - e.latest;
      const bool forget = everything || age >= resolution_ || age <= -resolution_;
      // A grant no longer in use leaves with its last use written (a restored use included).
      if (due(e) || (forget && e.latest > e.handed)) {
        out.emplace_back(it->first, e.latest);
        e.handed = e.latest;
      }
      if (forget) {
        it = s.grants.erase(it);
      } else {
        ++it;
      }
    }
  }
  return out;
}

void UsageAggregator::restore(const Uses& uses) {
  for (const auto& [id, at] : uses) {
    Shard& s = shard_for(id);
    std::lock_guard lk(s.mu);
    Entry& e = s.grants[id];
    if (e.latest < at) e.latest = at;
    e.handed = kNone;
  }
}

}  // namespace stagepass
