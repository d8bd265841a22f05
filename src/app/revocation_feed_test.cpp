// RevocationFeed over a real SQLite store: what a node's revocation set learns, and when.
#include "app/revocation_feed.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "store/sqlite/temp_store_test_support.hpp"

namespace stagepass {
namespace {

class RevocationFeedTest : public ::testing::Test {
 protected:
  sqlite::TempSqliteStore store_{"sp-feed-", 2};
  ManualClock clock_{100000};
  RevocationSet set_{3700, 1000};
};

// A revocation stamped before its write committed (the write waited on the group commit, a
// busy database, or was made on a machine whose clock is behind) becomes visible after polls
// that already moved past its time: the feed still learns it.
TEST_F(RevocationFeedTest, LearnsARevocationStampedBeforeTheLastPoll) {
  RevocationFeed feed(*store_, set_, clock_, 3700, 40);
  feed.poll();
  clock_.advance(20);
  feed.poll();  // the last poll is now 20 s past the revocation's time below
  ASSERT_TRUE(
      store_->revoke_access_token("late-jti", "c1", clock_.now() + 3600, clock_.now() - 20).ok());
  feed.poll();
  EXPECT_TRUE(set_.covers("", "c1", "late-jti", clock_.now() - 30));
}

// When poll() returns, every revocation written before the call is in the set, however many
// threads revoke and poll at once (they may share one poll).
TEST_F(RevocationFeedTest, EveryCallerSeesItsOwnRevocationWhenPollReturns) {
  RevocationFeed feed(*store_, set_, clock_, 3700, 40);
  constexpr int kThreads = 8, kEach = 25;
  std::atomic<int> missing{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string jti = "j-" + std::to_string(t) + "-" + std::to_string(i);
        if (!store_->revoke_access_token(jti, "c1", clock_.now() + 3600, clock_.now()).ok()) {
          ++missing;
          continue;
        }
        feed.poll();
        if (!set_.covers("", "c1", jti, clock_.now())) ++missing;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(missing.load(), 0);
}

// issue15:secrets. A hard cut (`stagepass admin client rotate-secret --grace 0`, perhaps from
// another process) reaches the node's set on its next poll: the client's earlier tokens are
// refused.
TEST_F(RevocationFeedTest, LearnsAHardCutOfAClientSecret) {
  Client c;
  c.id = "c1";
  c.name = "App";
  c.secret_hash = "old-hash";
  c.redirect_uris = {"https://app/cb"};
  ASSERT_TRUE(store_->create_client(c).ok());
  RevocationFeed feed(*store_, set_, clock_, 3700, 40);
  feed.poll();
  const int64_t issued = clock_.now();
  EXPECT_FALSE(set_.covers("", "c1", "j", issued));
  ASSERT_TRUE(store_->rotate_client_secret("c1", "new-hash", clock_.now(), 0).ok());
  feed.poll();
  EXPECT_TRUE(set_.covers("", "c1", "j", issued));
  EXPECT_FALSE(set_.covers("", "c2", "j", issued));
}

// issue15:abuse. A suspension made by another process (the admin CLI) reaches the node's
// set with the next poll.
TEST_F(RevocationFeedTest, LearnsASuspension) {
  Client c{"app", "App", false, "h", {"https://a/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c).ok());
  RevocationFeed feed(*store_, set_, clock_, 3700, 40);
  feed.poll();
  EXPECT_FALSE(set_.covers("", "app", "j", clock_.now() - 5));
  ASSERT_TRUE(store_->set_client_suspension("app", clock_.now(), "review").ok());
  feed.poll();
  EXPECT_TRUE(set_.covers("", "app", "j", clock_.now() - 5));
}

// issue15-fix:suspension. Lifting a suspension does not bring back the tokens it refused: a
// node that starts after it was lifted (a restart, a new api-only node) still refuses the
// app's tokens issued before the suspension, and accepts those issued after the cut.
TEST_F(RevocationFeedTest, ALiftedSuspensionStillRefusesOldTokensAfterARestart) {
  Client c{"app", "App", false, "h", {"https://a/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c).ok());
  const int64_t before = clock_.now() - 5;  // a token issued before the suspension
  ASSERT_TRUE(store_->set_client_suspension("app", clock_.now(), "review", 10).ok());
  clock_.advance(60);
  ASSERT_TRUE(store_->set_client_suspension("app", 0, "").ok());
  const int64_t cut = store_->find_client("app")->tokens_cut_at;
  EXPECT_EQ(cut, clock_.now() - 60 + 10);
  RevocationSet restarted{3700, 1000};
  RevocationFeed feed(*store_, restarted, clock_, 3700, 40);
  feed.poll();
  EXPECT_TRUE(restarted.covers("", "app", "j", before));
  EXPECT_TRUE(restarted.covers("", "app", "j", cut));
  EXPECT_FALSE(restarted.covers("", "app", "j", cut + 1));  // minted after it (TokenIssuer)
  // A second suspension right away (even stamped earlier) covers the tokens minted since the
  // first was lifted, whose iat is cut + 1, ahead of the clock.
  ASSERT_TRUE(store_->set_client_suspension("app", cut - 30, "again", 0).ok());
  EXPECT_GE(store_->find_client("app")->tokens_cut_at, cut + 1);
}

// issue15-fix:revocation-bound. Developers delete apps on the dashboard: the deleted_clients
// rows go once no token of theirs can be alive (retention + lookback), never before.
TEST_F(RevocationFeedTest, PrunesDeletedClientsPastTheRetention) {
  for (const char* id : {"old", "new"}) {
    Client c{id, "App", false, "h", {"https://a/cb"}, ScopeSet::parse("streaming"), {}, 1};
    ASSERT_TRUE(store_->create_client(c).ok());
  }
  RevocationFeed feed(*store_, set_, clock_, 3700, 40);
  ASSERT_TRUE(store_->delete_client("old", clock_.now()).ok());
  feed.poll();
  clock_.advance(3700 + 40 - 10);
  ASSERT_TRUE(store_->delete_client("new", clock_.now()).ok());
  feed.poll();
  EXPECT_EQ(store_->deleted_clients_since(0)->size(), 2u);  // "old" may still have a live token
  clock_.advance(3600);  // the next prune, past "old"'s retention and lookback
  feed.poll();
  auto left = store_->deleted_clients_since(0);
  ASSERT_TRUE(left);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ(left->front().first, "new");
  EXPECT_TRUE(set_.covers("", "new", "j", clock_.now()));
  // issue16:revlog: the log's entries go with them, except the newest one before the cut,
  // which stays to mark where the pruned part ends (a node starting later makes no holes of
  // the numbers pruned): it goes once a newer one is past the cut too.
  auto log = store_->revocations_after(0, 100);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 2u);
  clock_.advance(3600);
  feed.poll();
  log = store_->revocations_after(0, 100);
  ASSERT_TRUE(log);
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ(log->front().id, "new");
}

}  // namespace
}  // namespace stagepass
