// SqliteMusicStore on a real temporary file with a small generated catalog.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "music/catalog_generator.hpp"
#include "music/demo_library.hpp"
#include "music/ids.hpp"
#include "music/sqlite/sqlite_music_store.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::music {
namespace {

class MusicStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::filesystem::temp_directory_path() / ("sp-music-" + derived_id(::getpid(), "t", 0));
    std::filesystem::remove_all(dir_);
    store_ = new SqliteMusicStore((dir_ / "music.db").string(), 2);
    auto r = ensure_catalog(*store_, {42, 0.02});
    ASSERT_TRUE(r.ok());
  }
  static void TearDownTestSuite() {
    delete store_;
    std::filesystem::remove_all(dir_);
  }
  static std::string track(int i) { return derived_id(42, "track", i); }

  static inline std::filesystem::path dir_;
  static inline SqliteMusicStore* store_ = nullptr;
  const int64_t now_ = 1'700'000'000'000;
};

TEST_F(MusicStoreTest, SearchFindsByWordAndPrefix) {
  auto t = store_->tracks({track(5)});
  ASSERT_TRUE(t.ok() && (*t)[0]);
  std::string name = (*t)[0]->name;
  std::string word = name.substr(name.rfind(' ') + 1);
  auto full = store_->search("track", word, 50, 0);
  ASSERT_TRUE(full.ok());
  EXPECT_GT(full->total, 0);
  auto prefix = store_->search("track", word.substr(0, 3), 50, 0);
  ASSERT_TRUE(prefix.ok());
  EXPECT_GE(prefix->total, full->total);
  auto none = store_->search("artist", "zzqqxx", 10, 0);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->total, 0);
  EXPECT_EQ(store_->search("track", "\"*:()", 10, 0)->total, 0);  // FTS syntax is neutralised
}

TEST_F(MusicStoreTest, SearchUsesTheFullTextIndex) {
  sqlite::Connection db((dir_ / "music.db").string());
  auto s = db.prepare(
      "EXPLAIN QUERY PLAN SELECT t.id FROM track_fts CROSS JOIN tracks t ON t.rowid = "
      "track_fts.rowid "
      "WHERE track_fts MATCH '\"heart\"*'");
  std::string plan;
  while (s.step()) plan += s.text(3) + "\n";
  EXPECT_NE(plan.find("VIRTUAL TABLE INDEX"), std::string::npos) << plan;
  EXPECT_NE(plan.find("SEARCH t USING INTEGER PRIMARY KEY"), std::string::npos) << plan;
}

TEST_F(MusicStoreTest, PagingIsBoundedAndTotalsAreExact) {
  auto album = store_->tracks({track(0)});
  auto id = (*album)[0]->album.id;
  auto all = store_->album_tracks(id, 50, 0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(static_cast<int64_t>(all->items.size()), all->total);
  auto page = store_->album_tracks(id, 1, 1);
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].id, all->items[1].id);
  EXPECT_TRUE(store_->album_tracks(id, 5, 1000)->items.empty());
  EXPECT_EQ(store_->album_tracks(derived_id(1, "none", 1), 5, 0).error().code,
            ErrorCode::kNotFound);
}

TEST_F(MusicStoreTest, SnapshotIdsChangeWithEveryChange) {
  auto p = store_->create_playlist("u1", derived_id(9, "pl", 1), {"Mix", "", true, false}, now_);
  ASSERT_TRUE(p.ok());
  auto s1 =
      store_->add_playlist_items(p->id, {track(1), track(2), track(3)}, std::nullopt, "u1", now_);
  ASSERT_TRUE(s1.ok());
  EXPECT_NE(*s1, p->snapshot_id);
  auto s2 = store_->reorder_playlist_items(p->id, 0, 3, 1, *s1);
  ASSERT_TRUE(s2.ok());
  EXPECT_NE(*s2, *s1);
  auto items = store_->playlist_items(p->id, 10, 0);
  ASSERT_EQ(items->total, 3);
  EXPECT_EQ(items->items[2].track.id, track(1));
  EXPECT_EQ(store_->reorder_playlist_items(p->id, 0, 1, 1, "bogus").error().code,
            ErrorCode::kInvalid);
  auto s3 = store_->remove_playlist_items(p->id, {{track(2), {}}}, std::nullopt);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(store_->find_playlist(p->id)->snapshot_id, *s3);
  EXPECT_EQ(store_->find_playlist(p->id)->total_tracks, 2);
}

// A reorder's bounds come straight from the request body: range_start + range_length used to
// overflow for huge values (UB, then iterators far out of range). Found while fuzzing the Web
// API's JSON bodies (fuzz/corpus/api_json/reorder_overflow).
TEST_F(MusicStoreTest, ReorderRefusesHugeBoundsWithoutOverflow) {
  auto p = store_->create_playlist("u1", derived_id(9, "pl", 2), {"Big", "", true, false}, now_);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(store_->add_playlist_items(p->id, {track(1), track(2)}, std::nullopt, "u1", now_));
  EXPECT_EQ(store_->reorder_playlist_items(p->id, INT64_MAX, 0, 1, std::nullopt).error().code,
            ErrorCode::kInvalid);
  EXPECT_EQ(store_->reorder_playlist_items(p->id, 1, 0, INT64_MAX, std::nullopt).error().code,
            ErrorCode::kInvalid);
  EXPECT_EQ(store_->playlist_items(p->id, 10, 0)->items[0].track.id, track(1));  // unchanged
}

TEST_F(MusicStoreTest, SavedTracksAndFollowsRoundTrip) {
  ASSERT_TRUE(store_->save_tracks("u2", {track(1), track(2)}, now_).ok());
  EXPECT_EQ(store_->save_tracks("u2", {derived_id(1, "x", 1)}, now_).error().code,
            ErrorCode::kNotFound);
  EXPECT_EQ(*store_->saved_tracks_contain("u2", {track(2), track(3)}),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(store_->saved_tracks("u2", 1, 0)->total, 2);
  auto a = store_->tracks({track(1)});
  ASSERT_TRUE(store_->follow_artists("u2", {(*a)[0]->artists[0].id}, now_).ok());
  auto f = store_->followed_artists("u2", "", 10);
  EXPECT_EQ(f->total, 1);
  EXPECT_FALSE(f->has_more);
}

TEST_F(MusicStoreTest, DemoLibraryIsIdempotentAndPlays) {
  ASSERT_TRUE(store_->upsert_profile({"demo", "Demo", "d@x", "SE", "premium", 0}).ok());
  ASSERT_TRUE(seed_demo_library(*store_, "demo", now_).ok());
  ASSERT_TRUE(seed_demo_library(*store_, "demo", now_).ok());
  EXPECT_EQ(store_->user_playlists("demo", true, 50, 0)->total, 3);
  auto state = store_->playback("demo", now_ + 1000);
  ASSERT_TRUE(state.ok() && state->has_value());
  EXPECT_TRUE((*state)->is_playing);
  EXPECT_EQ((*state)->device.name, "Stagepass Web Player");
  // Hours later it still plays (repeat context) and finished tracks became history.
  auto later = store_->playback("demo", now_ + 3 * 3600 * 1000);
  ASSERT_TRUE(later.ok() && later->has_value());
  EXPECT_TRUE((*later)->is_playing);
  EXPECT_GT(store_->recently_played("demo", std::nullopt, std::nullopt, 50)->total, 30);
  EXPECT_GT(store_->top_tracks("demo", "short_term", 10, 0, now_)->total, 0);
  EXPECT_GT(store_->top_artists("demo", "long_term", 10, 0, now_)->total, 0);
  ASSERT_TRUE(store_->pause("demo", now_ + 2000).ok());
  EXPECT_EQ(store_->pause("demo", now_ + 3000).error().code, ErrorCode::kRestricted);
  EXPECT_EQ(store_->pause("nobody", now_).error().code, ErrorCode::kNoDevice);
}

}  // namespace
}  // namespace stagepass::music
