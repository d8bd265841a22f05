#include "app/seq_gaps.hpp"

namespace stagepass {

bool SeqGaps::read(int64_t seq, int64_t now) {
  if (seq > last_) {
    // A jump larger than the table holds keeps only its highest numbers (the newest).
    int64_t from = last_ + 1;
    if (seq - from > static_cast<int64_t>(max_)) {
      dropped_ += static_cast<uint64_t>(seq - from - static_cast<int64_t>(max_));
      from = seq - static_cast<int64_t>(max_);
    }
    for (int64_t s = from; s < seq; ++s) holes_.emplace(s, now);
    last_ = seq;
    while (holes_.size() > max_) {
      holes_.erase(holes_.begin());
      ++dropped_;
    }
    return true;
  }
  return holes_.erase(seq) > 0;
}

void SeqGaps::expire(int64_t now) {
  for (auto it = holes_.begin(); it != holes_.end();) {
    it = it->second + keep_ < now ? holes_.erase(it) : std::next(it);
  }
}

std::vector<int64_t> SeqGaps::holes(size_t limit) const {
  std::vector<int64_t> out;
  for (auto it = holes_.begin(); it != holes_.end() && out.size() < limit; ++it) {
    out.push_back(it->first);
  }
  return out;
}

}  // namespace stagepass
