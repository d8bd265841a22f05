#include "music/sqlite/rank_keys.hpp"

#include <algorithm>
#include <cstring>

namespace stagepass::music {

std::shared_ptr<const RankKeys> RankKeys::load(sqlite::Connection& db, const std::string& table) {
  const char* sql = table == "tracks"   ? "SELECT rowid, popularity, id FROM tracks"
                    : table == "albums" ? "SELECT rowid, popularity, id FROM albums"
                                        : "SELECT rowid, popularity, id FROM artists";
  auto keys = std::make_shared<RankKeys>();
  auto s = db.prepare(sql);
  while (s.step()) {
    const int64_t rowid = s.i64(0);
    const int64_t popularity = s.i64(1);
    const std::string id = s.text(2);
    if (rowid < 0 || rowid > kMaxRowid || popularity < 0 || popularity > 255 ||
        id.size() != kIdSize || id[0] == '\0') {
      return nullptr;
    }
    const auto at = static_cast<size_t>(rowid);
    if (at >= keys->popularity_.size()) {
      keys->popularity_.resize(at + 1, 0);
      keys->ids_.resize((at + 1) * kIdSize, '\0');
    }
    keys->popularity_[at] = static_cast<uint8_t>(popularity);
    std::memcpy(&keys->ids_[at * kIdSize], id.data(), kIdSize);
  }
  keys->popularity_.shrink_to_fit();
  keys->ids_.shrink_to_fit();
  return keys;
}

std::optional<std::vector<std::string>> RankKeys::page(std::vector<Match>& matches, int64_t offset,
                                                       int limit) const {
  const size_t rows = popularity_.size();
  for (const auto& m : matches) {
    if (m.rowid < 0 || static_cast<size_t>(m.rowid) >= rows ||
        ids_[static_cast<size_t>(m.rowid) * kIdSize] == '\0') {
      return std::nullopt;
    }
  }
  const char* ids = ids_.data();
  auto before = [&](const Match& a, const Match& b) {
    if (a.score != b.score) return a.score < b.score;
    const auto ra = static_cast<size_t>(a.rowid), rb = static_cast<size_t>(b.rowid);
    if (popularity_[ra] != popularity_[rb]) return popularity_[ra] > popularity_[rb];
    return std::memcmp(ids + ra * kIdSize, ids + rb * kIdSize, kIdSize) < 0;
  };
  std::vector<std::string> out;
  const auto n = static_cast<int64_t>(matches.size());
  if (offset >= n || limit <= 0) return out;
  const int64_t end = std::min(n, offset + limit);
  std::partial_sort(matches.begin(), matches.begin() + end, matches.end(), before);
  for (int64_t i = offset; i < end; ++i) {
    out.emplace_back(ids + static_cast<size_t>(matches[i].rowid) * kIdSize, kIdSize);
  }
  return out;
}

}  // namespace stagepass::music
