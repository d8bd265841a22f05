// RankKeys: a catalog table's popularity and id by rowid, in memory, so a search orders its
// matches without reading the table. A search ranks every match by bm25 (from the FTS
// index), then popularity (descending), then id; joining the table for the last two cost a
// B-tree lookup per match, most of a search of a common word. The catalog is read-only once
// loaded, so the keys are read once; a search then reads (rowid, bm25) from the index alone
// and sorts here, in the same order as SQLite's ORDER BY: the same bm25 doubles compared as
// numbers, popularity as integers, ids as bytes (BINARY collation).
// Thread safety: immutable once loaded.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite/connection.hpp"

namespace stagepass::music {

class RankKeys {
 public:
  static constexpr size_t kIdSize = 22;            // catalog ids (music_types.hpp)
  static constexpr int64_t kMaxRowid = 2'000'000;  // about 46 MiB of keys at most

  // Reads `table` ("tracks", "albums" or "artists"). Null when a key does not fit (a rowid
  // above kMaxRowid, an id not kIdSize long, a popularity outside 0..255): then rank in SQL.
  static std::shared_ptr<const RankKeys> load(sqlite::Connection& db, const std::string& table);

  struct Match {
    double score;  // bm25: lower ranks first
    int64_t rowid;
  };
  // Orders `matches` far enough to cut [offset, offset + limit) and answers that page's ids;
  // nullopt when a match's rowid has no keys (then rank in SQL).
  std::optional<std::vector<std::string>> page(std::vector<Match>& matches, int64_t offset,
                                               int limit) const;

  size_t bytes() const { return popularity_.capacity() + ids_.capacity(); }

 private:
  std::vector<uint8_t> popularity_;  // by rowid
  std::vector<char> ids_;            // kIdSize bytes by rowid; a leading '\0': no row
};

}  // namespace stagepass::music
