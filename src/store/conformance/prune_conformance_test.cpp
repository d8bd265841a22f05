// Store conformance, PruneStore (issue17:prune): each kind goes at its time and not before,
// the decisions that read it (code replay, refresh-token reuse, sessions, the security log)
// still work up to then, the per-grant cap of rotated tokens, batches, and two stores
// pruning one database at once. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <atomic>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class PruneConformance : public StoreConformance {
 protected:
  // Rotates g1's chain from `from` through `n` successors <prefix>1..<prefix>n, at 200 + i.
  void rotate_chain(const std::string& from, const std::string& prefix, int n) {
    std::string at = from;
    for (int i = 1; i <= n; ++i) {
      auto r = store_->rotate_refresh_token(at, rotation(nth(prefix, i), 200 + i, 0));
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->outcome, RotateOutcome::kRotated) << i;
      at = nth(prefix, i);
    }
  }
  bool grant_revoked() { return store_->find_grant("g1")->revoked_at.has_value(); }
};

// After every rotation of these tests: the cap may take any rotated token.
constexpr int64_t kLongAfter = 1000000;

// A code is decided on until its expiry (160); a used one presented again before then is
// replay and revokes the grant, so pruning must keep it until after.
TEST_P(PruneConformance, CodesStayUntilTheirExpiryAndReplayStillRevokesTheGrant) {
  ASSERT_TRUE(store_->save_code(code("used")).ok());
  ASSERT_TRUE(store_->save_code(code("unused")).ok());
  ASSERT_EQ(store_->redeem_code("used", exchange("r1", 110))->outcome, RedeemOutcome::kRedeemed);
  EXPECT_EQ(*store_->prune_codes(160, 500), 0);  // expires_at 160 is not before 160
  EXPECT_EQ(store_->redeem_code("used", exchange("r2", 150))->outcome, RedeemOutcome::kReplayed);
  EXPECT_TRUE(grant_revoked());
  EXPECT_EQ(*store_->prune_codes(161, 500), 2);  // used or not
  EXPECT_EQ(store_->redeem_code("unused", exchange("r3", 150))->outcome, RedeemOutcome::kNotFound);
  EXPECT_EQ(*store_->prune_codes(161, 500), 0);  // idempotent
}

TEST_P(PruneConformance, CodesGoInBatchesOfTheLimit) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->save_code(code(nth("c", i))).ok());
  EXPECT_EQ(*store_->prune_codes(1000, 2), 2);
  EXPECT_EQ(*store_->prune_codes(1000, 2), 2);
  EXPECT_EQ(*store_->prune_codes(1000, 2), 1);
  EXPECT_EQ(*store_->prune_codes(1000, 2), 0);
}

// issue_refresh stores r0 at 100, idle and absolute end 1000 (its successors end then too).
TEST_P(PruneConformance, LiveRefreshTokensStayUntilTheirEndAndRotatedOnesAreNotTouched) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "r", 1);  // r0 rotated at 201, r1 live until 1000
  auto swept = store_->sweep_refresh_tokens(1000, 0, 500);
  EXPECT_EQ(swept->expired, 0);
  EXPECT_TRUE(swept->wrapped);
  EXPECT_TRUE(store_->find_refresh_token("r1").ok());
  EXPECT_EQ(store_->sweep_refresh_tokens(1001, 0, 500)->expired, 1);
  EXPECT_EQ(store_->find_refresh_token("r1").error().code, ErrorCode::kNotFound);
  // r0 idled out at 1000 too, but it is rotated: the reuse window decides, not its idle end.
  EXPECT_TRUE(store_->find_refresh_token("r0").ok());
}

TEST_P(PruneConformance, ARotatedTokenInsideTheWindowStillRevokesTheGrantWhenReused) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "r", 1);                                        // r0 rotated at 201
  EXPECT_EQ(store_->sweep_refresh_tokens(0, 201, 500)->rotated, 0);  // 201 is not before 201
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 500),
            0);  // one rotated: under the cap
  auto r = store_->rotate_refresh_token("r0", rotation("x", 300, 0));
  EXPECT_EQ(r->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(grant_revoked());
}

TEST_P(PruneConformance, ARotatedTokenPastTheWindowIsUnknownAndRevokesNothing) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "r", 2);                                        // r0 at 201, r1 at 202
  EXPECT_EQ(store_->sweep_refresh_tokens(0, 202, 500)->rotated, 1);  // r0 only
  EXPECT_EQ(store_->rotate_refresh_token("r0", rotation("x", 300, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_FALSE(grant_revoked());
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("y", 300, 0))->outcome,
            RotateOutcome::kReuseRevoked);  // still inside: reuse
}

// The sweep looks at `limit` tokens a step, in key order from where it stopped, and says when
// a round is over; the next round starts from the first key again.
TEST_P(PruneConformance, TheRefreshTokenSweepGoesInStepsAndStartsOver) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(issue_refresh(nth("t", i)));  // idle end 1000
  int64_t expired = 0;
  for (bool wrapped : {false, false, true}) {
    auto step = store_->sweep_refresh_tokens(1001, 0, 2);
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(step->wrapped, wrapped);
    expired += step->expired;
  }
  EXPECT_EQ(expired, 5);
  ASSERT_TRUE(issue_refresh("late"));
  auto again = store_->sweep_refresh_tokens(1001, 0, 2);  // a new round: from the first key
  EXPECT_EQ(again->expired, 1);
  EXPECT_TRUE(again->wrapped);
}

TEST_P(PruneConformance, AGrantKeepsItsNewestRotatedTokensUpToTheCap) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "r", 30);  // r0..r29 rotated, r30 live
  // Batches of 4: the grant stays remembered while a call deletes its limit.
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 4), 4);
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 4), 4);
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 4), 2);
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 4), 0);
  for (int i = 0; i < 10; ++i) {  // the oldest ten: unknown, nothing revoked
    EXPECT_EQ(store_->find_refresh_token(nth("r", i)).error().code, ErrorCode::kNotFound) << i;
  }
  EXPECT_EQ(store_->rotate_refresh_token("r9", rotation("x", 300, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_FALSE(grant_revoked());
  EXPECT_EQ(store_->rotate_refresh_token("r30", rotation("r31", 301, 0))->outcome,
            RotateOutcome::kRotated);                                      // the chain goes on
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, kLongAfter, 500), 1);  // r10, now 21st newest
  EXPECT_EQ(store_->rotate_refresh_token("r11", rotation("y", 302, 0))->outcome,
            RotateOutcome::kReuseRevoked);  // the newest twenty still detect reuse
  EXPECT_TRUE(grant_revoked());
}

TEST_P(PruneConformance, ExpiredSessionsGoAndLiveOnesStay) {
  ASSERT_TRUE(store_->create_session({"old", "u1", 100, 1000}).ok());
  ASSERT_TRUE(store_->create_session({"new", "u1", 100, 5000}).ok());
  EXPECT_EQ(*store_->prune_sessions(1000, 500), 0);
  EXPECT_TRUE(store_->find_session("old", 999).ok());
  EXPECT_EQ(*store_->prune_sessions(1001, 500), 1);
  EXPECT_EQ(*store_->prune_sessions(1001, 500), 0);
  EXPECT_TRUE(store_->find_session("new", 1001).ok());
}

TEST_P(PruneConformance, OldAuditEventsGoOldestFirstAndTheSecurityLogKeepsTheRest) {
  for (int64_t at : {100, 200, 300}) {
    ASSERT_TRUE(store_->record_event({0, at, "sign_in", "u1", "", "", "", ""}).ok());
  }
  EXPECT_EQ(*store_->prune_events(100, 500), 0);
  EXPECT_EQ(*store_->prune_events(250, 1), 1);  // the oldest, at 100
  EXPECT_EQ(store_->user_events("u1", 0, 10)->size(), 2u);
  EXPECT_EQ(*store_->prune_events(250, 500), 1);
  auto left = store_->user_events("u1", 0, 10);
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].at, 300);
}

// Two nodes pruning one database together delete every expired code exactly once between
// them, and neither fails.
TEST_P(PruneConformance, TwoStoresPruningTogetherDeleteEachRowOnce) {
  for (int i = 0; i < 60; ++i) ASSERT_TRUE(store_->save_code(code(nth("c", i))).ok());
  auto other = instance_->open_another();
  Store* stores[] = {store_, other.get()};
  std::atomic<int64_t> total{0};
  std::atomic<bool> failed{false};
  race(2, [&](int i) {
    for (;;) {
      auto r = stores[i]->prune_codes(1000, 7);
      if (!r) {
        failed = true;
        return;
      }
      total += *r;
      if (*r == 0) return;
    }
  });
  EXPECT_FALSE(failed);
  EXPECT_EQ(total.load(), 60);
  EXPECT_EQ(*store_->prune_codes(1000, 500), 0);
}

// The review's attack: a thief rotates a stolen token 21 times at once. The token the app
// still holds is then the grant's 21st newest rotated token, but it was rotated moments ago:
// the cap leaves it, so the app presenting it still revokes the grant (RFC 9700 §4.14.2).
TEST_P(PruneConformance, ACapNeverTakesATokenRotatedAfterTheFloor) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "t", 21);  // the thief: r0 rotated at 201, t1..t20 too, t21 live
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, 201, 500), 0);  // none before 201
  EXPECT_EQ(store_->rotate_refresh_token("r0", rotation("x", 500, 0))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(grant_revoked());
}

// Past the floor the cap counts every rotated token of the grant, the recent ones included,
// and takes the old ones beyond the newest `keep`.
TEST_P(PruneConformance, TheCapCountsRecentTokensAndTakesOnlyOldOnes) {
  ASSERT_TRUE(issue_refresh("r0"));
  rotate_chain("r0", "r", 30);  // r0..r29 rotated at 201..230
  // Before 211: r0..r9 (rotated 201..210) may go; all ten are beyond the newest twenty.
  EXPECT_EQ(*store_->cap_rotated_refresh_tokens(20, 211, 500), 10);
  EXPECT_EQ(store_->find_refresh_token(nth("r", 9)).error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->find_refresh_token(nth("r", 10)).ok());
}

STAGEPASS_CONFORMANCE_SUITE(PruneConformance, kCodes | kRefreshTokens | kSessions | kEvents);

}  // namespace
}  // namespace stagepass::conformance
