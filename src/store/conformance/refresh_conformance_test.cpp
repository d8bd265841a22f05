// Store conformance, RefreshTokenStore: rotation, reuse detection and the grace rules
// (refresh_rotation.hpp). Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class RefreshConformance : public StoreConformance {};

TEST_P(RefreshConformance, RotationDetectsReuseOutsideGrace) {
  ASSERT_TRUE(issue_refresh("r1"));
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 5))->outcome,
            RotateOutcome::kRotated);
  // Inside the grace window, by its own client, first retry: a new successor, the earlier
  // one is superseded.
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 112, 5))->outcome,
            RotateOutcome::kReuseGrace);
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(store_->find_refresh_token("r3")->revoked);
  // Outside: the grant and every token of it are revoked, and the reuse names its person.
  auto reused = store_->rotate_refresh_token("r1", rotation("r4", 120, 5));
  EXPECT_EQ(reused->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(reused->token.user_id, "u1");
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
  EXPECT_EQ(store_->rotate_refresh_token("r3", rotation("r5", 121, 5))->outcome,
            RotateOutcome::kNotFound);
}

TEST_P(RefreshConformance, ASupersededSuccessorPresentedAgainIsReuse) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  // Someone else replays r1 inside the window and gets r3; r2 is superseded.
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kReuseGrace);
  // The holder of r2 presents it: two parties hold the chain, the grant dies with r3.
  EXPECT_EQ(store_->rotate_refresh_token("r2", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_P(RefreshConformance, GraceAllowsOneRetryPerRotation) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kReuseGrace);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_P(RefreshConformance, GraceNeverAppliesOnceTheSuccessorWasUsed) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  ASSERT_EQ(store_->rotate_refresh_token("r2", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kRotated);
  // r1 again: the chain moved on, so this is not a lost response but a second holder.
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_P(RefreshConformance, ASpentTokenFromAnotherClientIsReuseNotARefusal) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  // Inside the window, but presented by another client: reuse, not a refusal.
  auto reused = store_->rotate_refresh_token("r1", rotation("r3", 111, 10, "other"));
  EXPECT_EQ(reused->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(reused->token.client_id, "c1");  // whose token it was, for the audit event
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(store_->find_refresh_token("r3").ok());
}

TEST_P(RefreshConformance, RotationShowsTheTokenAndGrantAndARefusalWritesNothing) {
  ASSERT_TRUE(issue_refresh("r1"));
  // Asking for a scope the token does not hold is a refusal by the policy.
  const auto wider = [](RefreshPolicy p) {
    p.requested_scope = ScopeSet::parse("streaming user-top-read");
    return p;
  };
  auto refused = store_->rotate_refresh_token("r1", wider(rotation("rx", 110, 5)));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->outcome, RotateOutcome::kRefused);
  EXPECT_EQ(refused->refusal, RefreshRefusal::kScopeExceeded);
  EXPECT_EQ(refused->token.user_id, "u1");
  EXPECT_EQ(refused->token.expires_at, 1000);
  EXPECT_EQ(refused->grant.id, "g1");
  EXPECT_EQ(refused->grant.created_at, 100);
  // Not spent: it still rotates, and with no grace a second use is a reuse.
  EXPECT_FALSE(store_->find_refresh_token("r1")->rotated_at.has_value());
  EXPECT_FALSE(store_->find_refresh_token("rx").ok());
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 111, 0))->outcome,
            RotateOutcome::kRotated);
  auto r2 = store_->find_refresh_token("r2");  // the successor keeps the chain's end
  EXPECT_EQ(r2->expires_at, 1000);
  EXPECT_EQ(r2->idle_expires_at, 1000);
  EXPECT_EQ(store_->rotate_refresh_token("r2", wider(rotation("r3", 112, 0)))->outcome,
            RotateOutcome::kRefused);
  EXPECT_EQ(store_->rotate_refresh_token("r9", wider(rotation("r3", 112, 0)))->outcome,
            RotateOutcome::kNotFound);
}

TEST_P(RefreshConformance, NoGraceMeansAnyReuseRevokesEvenWithinTheSameSecond) {
  ASSERT_TRUE(issue_refresh("r1"));
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 0))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 110, 0))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
}

TEST_P(RefreshConformance, TokensOfARevokedGrantReadAsRevokedAndDoNotRotate) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  EXPECT_TRUE(store_->find_refresh_token("r1")->revoked);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 151, 10))->outcome,
            RotateOutcome::kNotFound);
}

// issue16: 16 threads present the same refresh token at once, with no grace period. Exactly
// one rotation wins; every other presentation is reuse of a spent token (the grant dies,
// RFC 9700 §4.14.2) or, once it is dead, a token of a revoked grant. No successor survives.
TEST_P(RefreshConformance, SixteenThreadsRotatingOneTokenWithoutGraceLeaveOneWinnerAndReuse) {
  ASSERT_TRUE(issue_refresh("r"));
  constexpr int kThreads = 16;
  open_connections(kThreads);
  std::vector<RotateOutcome> outcomes(kThreads, RotateOutcome::kRefused);
  std::vector<bool> failed(kThreads, false);
  race(kThreads, [&](int i) {
    auto r = store_->rotate_refresh_token("r", rotation(nth("s", i), 110, 0));
    if (r.ok()) {
      outcomes[i] = r->outcome;
    } else {
      failed[i] = true;
    }
  });
  int rotated = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_FALSE(failed[i]) << "thread " << i << ": the store failed";
    if (outcomes[i] == RotateOutcome::kRotated) {
      ++rotated;
    } else {
      EXPECT_TRUE(outcomes[i] == RotateOutcome::kReuseRevoked ||
                  outcomes[i] == RotateOutcome::kNotFound)
          << "thread " << i << ": outcome " << static_cast<int>(outcomes[i]);
    }
  }
  EXPECT_EQ(rotated, 1);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  for (int i = 0; i < kThreads; ++i) {
    auto s = store_->find_refresh_token(nth("s", i));
    if (s.ok()) {
      EXPECT_TRUE(s->revoked) << i;
    }
  }
}

// The same race inside a grace window: one rotation, at most one grace retry (a lost
// response), and the third presentation of the chain is reuse, so with 16 the grant dies.
TEST_P(RefreshConformance, SixteenThreadsRotatingOneTokenInsideTheGraceGetOneRotationAndOneRetry) {
  ASSERT_TRUE(issue_refresh("r"));
  constexpr int kThreads = 16;
  open_connections(kThreads);
  std::vector<RotateOutcome> outcomes(kThreads, RotateOutcome::kRefused);
  race(kThreads, [&](int i) {
    auto r = store_->rotate_refresh_token("r", rotation(nth("s", i), 110, 30));
    if (r.ok()) outcomes[i] = r->outcome;
  });
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), RotateOutcome::kRotated), 1);
  EXPECT_LE(std::count(outcomes.begin(), outcomes.end(), RotateOutcome::kReuseGrace), 1);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), RotateOutcome::kRefused), 0);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

// Rotations of different chains at once all land: one writer never loses another's rotation.
TEST_P(RefreshConformance, ConcurrentRotationsOfDistinctTokensAllLand) {
  constexpr int kThreads = 16;
  for (int i = 0; i < kThreads; ++i) ASSERT_TRUE(issue_refresh(nth("r", i)));
  std::atomic<int> rotated{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int step = 0; step < 5; ++step) {
        const std::string from =
            step == 0 ? nth("r", i) : "r" + std::to_string(i) + "." + std::to_string(step);
        const std::string to = "r" + std::to_string(i) + "." + std::to_string(step + 1);
        auto r = store_->rotate_refresh_token(from, rotation(to, 110 + step, 0));
        if (r.ok() && r->outcome == RotateOutcome::kRotated) ++rotated;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(rotated.load(), kThreads * 5);
  for (int i = 0; i < kThreads; ++i) {
    auto last = store_->find_refresh_token(nth(nth("r", i) + ".", 5));
    ASSERT_TRUE(last.ok()) << i;
    EXPECT_FALSE(last->revoked);
    EXPECT_FALSE(last->rotated_at.has_value());
  }
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
}

// A token past its idle end is refused and stays unspent; an unknown one is not found.
TEST_P(RefreshConformance, AnIdleTokenIsRefusedAndAnUnknownOneIsNotFound) {
  ASSERT_TRUE(issue_refresh("r1"));  // idle end 100 + 900
  auto idle = store_->rotate_refresh_token("r1", rotation("r2", 1000, 0));
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->outcome, RotateOutcome::kRefused);
  EXPECT_EQ(idle->refusal, RefreshRefusal::kExpired);
  EXPECT_FALSE(store_->find_refresh_token("r2").ok());
  EXPECT_EQ(store_->find_refresh_token("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->rotate_refresh_token("nope", rotation("r3", 110, 0))->outcome,
            RotateOutcome::kNotFound);
}

STAGEPASS_CONFORMANCE_SUITE(RefreshConformance, kGrants | kCodes | kRefreshTokens);

}  // namespace
}  // namespace stagepass::conformance
