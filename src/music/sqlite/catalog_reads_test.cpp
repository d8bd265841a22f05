// The catalog reads SqliteMusicStore answers from memory (CatalogCache) are exactly those of
// the plain SQL they replace: search pages in bm25 order with their totals, artists' album
// pages; and playlist search (user data) is never answered from memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "music/sqlite/temp_music_store_test_support.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::music {
namespace {

class CatalogReadsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { store_ = new TempMusicStore("sp-catalog-reads-", 0.05); }
  static void TearDownTestSuite() { delete store_; }

  // Every match of `words` (each a word prefix, all required) in the plain ranking: bm25 with
  // the name weighted 10 to 1, then popularity, then id.
  static std::vector<std::string> ranked(const std::string& type,
                                         const std::vector<std::string>& words) {
    std::string match;
    for (const auto& w : words) match += (match.empty() ? "\"" : " \"") + w + "\"*";
    const std::string table = type == "track" ? "tracks" : type == "album" ? "albums" : "artists";
    const std::string weights = type == "artist" ? "" : ", 10.0, 1.0";
    sqlite::Connection db(store_->path());
    const std::string sql = "SELECT x.id FROM " + type + "_fts CROSS JOIN " + table +
                            " x ON x.rowid = " + type + "_fts.rowid WHERE " + type +
                            "_fts MATCH ? ORDER BY bm25(" + type + "_fts" + weights +
                            "), x.popularity DESC, x.id";
    auto s = db.prepare(sql.c_str());
    s.bind(1, match);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.text(0));
    return out;
  }

  static SqliteMusicStore& music() { return **store_; }

  static inline TempMusicStore* store_ = nullptr;
};

TEST_F(CatalogReadsTest, SearchPagesAreThoseOfThePlainBm25Ranking) {
  const std::vector<std::vector<std::string>> queries = {
      {"midnight"},          {"mid"},       {"heart"}, {"a"}, {"s", "m"}, {"silver", "river"},
      {"midnight", "heart"}, {"gol", "he"}, {"zzqqxx"}};
  int64_t long_lists = 0;
  for (const std::string type : {"track", "album", "artist"}) {
    for (const auto& words : queries) {
      const auto all = ranked(type, words);
      if (all.size() > 60) ++long_lists;
      std::string q;
      for (const auto& w : words) q += (q.empty() ? "" : " ") + w;
      for (int limit : {1, 5, 50}) {
        for (int64_t offset : {0, 3, 17, 49}) {
          const auto end = std::min<size_t>(all.size(), static_cast<size_t>(offset + limit));
          const std::vector<std::string> want(
              all.begin() + std::min<size_t>(all.size(), static_cast<size_t>(offset)),
              all.begin() + static_cast<std::ptrdiff_t>(end));
          for (int call = 0; call < 2; ++call) {  // read, then from memory
            auto page = music().search(type, q, limit, offset);
            ASSERT_TRUE(page.ok());
            EXPECT_EQ(page->items, want) << type << " '" << q << "' " << limit << "@" << offset;
            EXPECT_EQ(page->total, static_cast<int64_t>(all.size())) << type << " '" << q << "'";
            if (words.size() == 1) {
              EXPECT_EQ(page->scanned, page->total);
            } else {
              EXPECT_GE(page->scanned, page->total);
            }
          }
        }
      }
    }
  }
  EXPECT_GE(long_lists, 6);  // the pages cut long rankings, not only whole short ones
}

TEST_F(CatalogReadsTest, RepeatedSearchKeepsTheCostFigures) {
  auto first = music().search("track", "silver river", 5, 0);
  auto again = music().search("track", "silver river", 5, 0);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(again->total, first->total);
  EXPECT_EQ(again->scanned, first->scanned);
  EXPECT_GT(first->scanned, first->total);  // both words' postings
}

TEST_F(CatalogReadsTest, ArtistAlbumPagesAreThoseOfTheSortedQuery) {
  sqlite::Connection db(store_->path());
  std::vector<std::string> artists;
  for (auto s = db.prepare("SELECT id FROM artists ORDER BY rowid LIMIT 12"); s.step();) {
    artists.push_back(s.text(0));
  }
  ASSERT_FALSE(artists.empty());
  const std::vector<std::vector<std::string>> group_sets = {
      {}, {"album", "single"}, {"appears_on"}, {"compilation"}};
  for (const auto& artist : artists) {
    struct Row {
      std::string id, group;
    };
    std::vector<Row> all;
    auto s = db.prepare(
        "SELECT al.id, al.album_type, al.release_date FROM album_artists x "
        "JOIN albums al ON al.id = x.album_id WHERE x.artist_id = ?1 "
        "UNION "
        "SELECT DISTINCT al.id, 'appears_on', al.release_date FROM track_artists x "
        "JOIN tracks t ON t.id = x.track_id JOIN albums al ON al.id = t.album_id "
        "WHERE x.artist_id = ?1 AND NOT EXISTS (SELECT 1 FROM album_artists y "
        "WHERE y.album_id = al.id AND y.artist_id = ?1) ORDER BY 3 DESC, 1");
    s.bind(1, artist);
    while (s.step()) all.push_back({s.text(0), s.text(1)});
    for (const auto& groups : group_sets) {
      std::vector<std::string> want;
      for (const auto& r : all) {
        if (groups.empty() || std::find(groups.begin(), groups.end(), r.group) != groups.end()) {
          want.push_back(r.id);
        }
      }
      for (int call = 0; call < 2; ++call) {  // read, then from memory
        std::vector<std::string> got;
        for (int64_t offset = 0; offset < static_cast<int64_t>(want.size()) + 2; offset += 2) {
          auto page = music().artist_albums(artist, groups, 2, offset);
          ASSERT_TRUE(page.ok());
          EXPECT_EQ(page->total, static_cast<int64_t>(want.size()));
          EXPECT_EQ(page->scanned, static_cast<int64_t>(all.size()));
          for (const auto& a : page->items) got.push_back(a.id);
        }
        EXPECT_EQ(got, want) << artist;
      }
    }
  }
  EXPECT_EQ(music().artist_albums("0000000000000000000000", {}, 5, 0).error().code,
            ErrorCode::kNotFound);
}

TEST_F(CatalogReadsTest, CachedRecordsEqualTheStoredOnes) {
  sqlite::Connection db(store_->path());
  auto s = db.prepare(
      "SELECT t.id, t.name, t.album_id, al.name FROM tracks t JOIN albums al ON al.id = "
      "t.album_id ORDER BY t.rowid LIMIT 3");
  while (s.step()) {
    for (int call = 0; call < 2; ++call) {
      auto t = music().tracks({s.text(0), "0000000000000000000000"});
      ASSERT_TRUE(t.ok());
      ASSERT_TRUE((*t)[0]);
      EXPECT_FALSE((*t)[1]);
      EXPECT_EQ((*t)[0]->name, s.text(1));
      EXPECT_EQ((*t)[0]->album.id, s.text(2));
      EXPECT_EQ((*t)[0]->album.name, s.text(3));
      EXPECT_FALSE((*t)[0]->artists.empty());
    }
  }
}

TEST_F(CatalogReadsTest, PlaylistSearchFollowsEveryChange) {
  auto p = music().create_playlist("u1", "quokkaplaylist00000001",
                                   {"Quokkazz Anthems", "", true, false}, 1'700'000'000'000);
  ASSERT_TRUE(p.ok());
  auto total = [](const std::string& q) { return music().search("playlist", q, 5, 0)->total; };
  EXPECT_EQ(total("quokkazz"), 1);
  ASSERT_TRUE(music().change_playlist(p->id, {std::nullopt, std::nullopt, false, std::nullopt}));
  EXPECT_EQ(total("quokkazz"), 0);  // private now
  ASSERT_TRUE(music().change_playlist(p->id, {"Wombatzz", std::nullopt, true, std::nullopt}));
  EXPECT_EQ(total("quokkazz"), 0);  // renamed
  EXPECT_EQ(total("wombatzz"), 1);
}

}  // namespace
}  // namespace stagepass::music
