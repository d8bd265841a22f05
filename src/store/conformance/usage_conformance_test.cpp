// Store conformance, UsageStore: usage buckets and abuse warnings per app.
// Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class UsageConformance : public StoreConformance {};

TEST_P(UsageConformance, UsageBucketsAreReplacedKeptAndDroppedWhenOld) {
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1000, "a"}, {"c1", 3600, 600, "b"}}, 2000, 1500).ok());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1000, "a2"}}, 2000, 1500).ok());  // replaced
  auto rows = store_->load_usage(0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  auto bucket = std::find_if(rows->begin(), rows->end(), [](auto& r) { return r.span == 60; });
  EXPECT_EQ(bucket->data, "a2");
  ASSERT_TRUE(store_->save_usage({}, 2600, 1500).ok());  // both start before 2600 - 1500
  rows = store_->load_usage(0);
  ASSERT_EQ(rows->size(), 0u);
}

TEST_P(UsageConformance, AppWarningsAreListedPerAppNewestFirst) {
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 10, "abuse_burst", "first"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c2", 11, "abuse_burst", "other app"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 12, "client_suspended", "second"}).ok());
  auto w = store_->app_warnings("c1", 10);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[0].detail, "second");
  EXPECT_EQ((*w)[1].type, "abuse_burst");
  EXPECT_EQ(store_->app_warnings("c1", 1)->size(), 1u);
}

// issue15-fix:abuse: a flood of findings cannot grow an app's warnings without bound, and a
// client id that names no app stores nothing.
TEST_P(UsageConformance, AppWarningsAreBoundedPerAppAndOnlyForExistingApps) {
  for (int i = 0; i < UsageStore::kMaxWarningsPerApp + 30; ++i) {
    ASSERT_TRUE(store_->record_app_warning({0, "c1", i, "abuse_secret_guessing", "x"}).ok());
  }
  auto w = store_->app_warnings("c1", 1000);
  ASSERT_EQ(w->size(), static_cast<size_t>(UsageStore::kMaxWarningsPerApp));
  EXPECT_EQ((*w)[0].at, UsageStore::kMaxWarningsPerApp + 29);  // the newest kept
  EXPECT_EQ(w->back().at, 30);
  ASSERT_TRUE(store_->record_app_warning({0, "no-such-app", 1, "abuse_burst", "x"}).ok());
  EXPECT_TRUE(store_->app_warnings("no-such-app", 10)->empty());
}

// issue15-fix:abuse: deleting an app deletes its usage and warnings; a save racing the
// deletion does not bring its buckets back.
TEST_P(UsageConformance, DeletingAnAppDeletesItsUsageAndWarnings) {
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1020, "a"}, {"c2", 60, 1020, "b"}}, 2000, 1500).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 10, "abuse_burst", "w"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c2", 10, "abuse_burst", "w"}).ok());
  ASSERT_EQ(store_->load_app_usage("c1", 0)->size(), 1u);
  ASSERT_TRUE(store_->delete_client("c1", 3000).ok());
  EXPECT_TRUE(store_->load_app_usage("c1", 0)->empty());
  EXPECT_TRUE(store_->app_warnings("c1", 10)->empty());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1080, "late"}}, 2000, 1500).ok());
  auto rows = store_->load_usage(0);
  ASSERT_EQ(rows->size(), 1u);  // c2's only
  EXPECT_EQ((*rows)[0].client_id, "c2");
  EXPECT_EQ(store_->app_warnings("c2", 10)->size(), 1u);
  EXPECT_TRUE(store_->load_app_usage("c2", 1021)->empty());  // since
}

// The same on several nodes: one node saves an app's buckets and warnings while another
// deletes the app; whichever commits first, nothing of the app is left behind.
TEST_P(UsageConformance, SavesRacingTheAppsDeletionOnAnotherNodeLeaveNothingBehind) {
  std::unique_ptr<Store> other = instance_->open_another();
  constexpr int kRounds = 8, kSaves = 30;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = nth("race", round);
    ASSERT_TRUE(store_->create_client(app(id)).ok());
    std::atomic<int> saved{0};
    std::thread node_b([&] {
      for (int i = 0; i < kSaves; ++i) {
        EXPECT_TRUE(other->save_usage({{id, 60, 1000 + i, "x"}}, 2000, 1500).ok());
        EXPECT_TRUE(other->record_app_warning({0, id, i, "abuse_burst", "w"}).ok());
        ++saved;
      }
    });
    while (saved.load() < round % 4) std::this_thread::yield();  // deleted at various points
    ASSERT_TRUE(store_->delete_client(id, 3000).ok());
    node_b.join();
    EXPECT_TRUE(store_->load_app_usage(id, 0)->empty()) << "round " << round;
    EXPECT_TRUE(store_->app_warnings(id, 100)->empty()) << "round " << round;
  }
}

STAGEPASS_CONFORMANCE_SUITE(UsageConformance, kClients | kUsage);

}  // namespace
}  // namespace stagepass::conformance
