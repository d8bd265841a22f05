// Store conformance, RefreshTokenStore with keys of the family shape (issue17:family,
// store/refresh_family_key.hpp): the same decisions as for per-token keys, whether a backend
// keeps one row per chain (SQLite: refresh_families) or one per token (PostgreSQL).
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "store/conformance/conformance_fixture.hpp"
#include "store/refresh_family_key.hpp"
#include "store/refresh_family_test_keys.hpp"

namespace stagepass::conformance {
namespace {

class RefreshFamilyConformance : public StoreConformance {
 protected:
  // A token of chain `chain` ('a'-'z'), keyed as TokenIssuer keys them.
  static std::string key(char chain, int n, char variant = 't') {
    return test_family_key(chain, n, variant);
  }
  static std::string k(int n) { return key('f', n); }
  // k(0) issued and rotated to k(1) at 110, then presented again at 111, inside a 10 s grace:
  // the retry's successor, key('f', 1, 'u'), supersedes k(1).
  void rotate_then_retry() {
    ASSERT_TRUE(issue_refresh(k(0)));
    ASSERT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 110, 10))->outcome,
              RotateOutcome::kRotated);
    ASSERT_EQ(store_->rotate_refresh_token(k(0), rotation(key('f', 1, 'u'), 111, 10))->outcome,
              RotateOutcome::kReuseGrace);
  }
};

TEST_P(RefreshFamilyConformance, TheKeysAreOfTheFamilyShape) {
  ASSERT_TRUE(split_family_key(k(0)));
  EXPECT_EQ(split_family_key(k(0))->family, split_family_key(k(1))->family);
  EXPECT_NE(split_family_key(k(0))->family, split_family_key(key('g', 0))->family);
}

// Each rotation spends the presented token; the chain's earlier tokens stay spent, and one
// presented again, however far back, is reuse: the grant is revoked.
TEST_P(RefreshFamilyConformance, AChainRotatesAndAnEarlierTokenIsReuse) {
  ASSERT_TRUE(issue_refresh(k(0)));
  auto first = store_->find_refresh_token(k(0));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->grant_id, "g1");
  EXPECT_EQ(first->client_id, "c1");
  EXPECT_EQ(first->user_id, "u1");
  EXPECT_EQ(first->scope.str(), "streaming");
  EXPECT_EQ(first->created_at, 100);
  EXPECT_EQ(first->expires_at, 1000);
  EXPECT_EQ(first->idle_expires_at, 1000);
  EXPECT_FALSE(first->rotated_at || first->revoked);

  auto r1 = store_->rotate_refresh_token(k(0), rotation(k(1), 110, 5));
  ASSERT_EQ(r1->outcome, RotateOutcome::kRotated);
  EXPECT_EQ(r1->token.user_id, "u1");
  EXPECT_EQ(r1->grant.id, "g1");
  ASSERT_EQ(store_->rotate_refresh_token(k(1), rotation(k(2), 120, 5))->outcome,
            RotateOutcome::kRotated);
  auto current = store_->find_refresh_token(k(2));
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->created_at, 120);
  EXPECT_EQ(current->expires_at, 1000);  // the chain's absolute end
  EXPECT_FALSE(current->rotated_at || current->revoked);
  auto spent = store_->find_refresh_token(k(1));
  ASSERT_TRUE(spent.ok());
  EXPECT_EQ(spent->rotated_at, 120);
  EXPECT_EQ(spent->created_at, 110);
  // Spent earlier: found, and not usable (rotated, or revoked as a superseded token is).
  auto first_again = store_->find_refresh_token(k(0));
  ASSERT_TRUE(first_again.ok());
  EXPECT_TRUE(first_again->rotated_at.has_value() || first_again->revoked);
  EXPECT_EQ(first_again->grant_id, "g1");
  EXPECT_EQ(first_again->client_id, "c1");

  auto reused = store_->rotate_refresh_token(k(0), rotation(k(3), 130, 5));
  EXPECT_EQ(reused->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(reused->token.user_id, "u1");
  EXPECT_EQ(reused->token.client_id, "c1");
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_TRUE(store_->find_refresh_token(k(2))->revoked);
  EXPECT_EQ(store_->rotate_refresh_token(k(2), rotation(k(4), 131, 5))->outcome,
            RotateOutcome::kNotFound);
}

// The grace rules: one retry of the rotated token by its client inside the window gets a new
// successor, of the same generation, and supersedes the first; a second retry is reuse.
TEST_P(RefreshFamilyConformance, GraceAllowsOneRetryAndSupersedesTheSuccessor) {
  ASSERT_TRUE(issue_refresh(k(0)));
  ASSERT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 110, 10))->outcome,
            RotateOutcome::kRotated);
  auto retry = store_->rotate_refresh_token(k(0), rotation(key('f', 1, 'u'), 111, 10));
  ASSERT_EQ(retry->outcome, RotateOutcome::kReuseGrace);
  EXPECT_TRUE(store_->find_refresh_token(k(1))->revoked);
  EXPECT_FALSE(store_->find_refresh_token(key('f', 1, 'u'))->revoked);
  EXPECT_EQ(store_->rotate_refresh_token(k(0), rotation(key('f', 1, 'v'), 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

TEST_P(RefreshFamilyConformance, ASupersededSuccessorPresentedAgainIsReuse) {
  ASSERT_NO_FATAL_FAILURE(rotate_then_retry());
  EXPECT_EQ(store_->rotate_refresh_token(k(1), rotation(k(2), 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

// After a grace retry, the superseded token stays spent once the chain moves on (it is then
// of the previous generation but not the previous token); a third value of the retry's
// generation was never issued: unknown.
TEST_P(RefreshFamilyConformance, ASupersededTokenStaysSpentAfterTheNextRotation) {
  ASSERT_NO_FATAL_FAILURE(rotate_then_retry());
  EXPECT_EQ(store_->rotate_refresh_token(key('f', 1, 'w'), rotation(k(2), 112, 10))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
  ASSERT_EQ(store_->rotate_refresh_token(key('f', 1, 'u'), rotation(k(2), 113, 10))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->rotate_refresh_token(k(1), rotation(k(3), 114, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

// A token of a later generation than the chain has reached, or of its current generation but
// neither its current token nor one a grace retry superseded, was never issued by this store
// (one restored from a backup meets the tokens issued after the backup, a grace retry's
// successor among them): unknown, and nothing is revoked.
TEST_P(RefreshFamilyConformance, ALaterGenerationIsUnknownAndRevokesNothing) {
  ASSERT_TRUE(issue_refresh(k(0)));
  ASSERT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 110, 0))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->find_refresh_token(k(2)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->rotate_refresh_token(k(2), rotation(k(3), 111, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_EQ(store_->rotate_refresh_token(k(5), rotation(k(6), 111, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_EQ(store_->rotate_refresh_token(key('f', 1, 'u'), rotation(k(2), 111, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_EQ(store_->rotate_refresh_token(k(1), rotation(k(2), 112, 0))->outcome,
            RotateOutcome::kRotated);
}

// Outside the window, by another client, or once the successor was used: reuse.
TEST_P(RefreshFamilyConformance, GraceNeedsTheWindowTheClientAndAnUnusedSuccessor) {
  ASSERT_TRUE(issue_refresh(k(0)));
  ASSERT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 110, 10))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->rotate_refresh_token(k(0), rotation(k(2), 111, 10, "other"))->outcome,
            RotateOutcome::kReuseRevoked);
  ASSERT_TRUE(store_->find_grant("g1")->revoked_at.has_value());

  // A second chain of a new grant: retried after the window.
  auto g2 = store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g2", 200);
  ASSERT_TRUE(g2.ok());
  AuthorizationCode c{"code-g2", "g2", "c1", "u1", "https://app/cb", g2->scope, "", 260, {}};
  ASSERT_TRUE(store_->save_code(c).ok());
  ASSERT_EQ(store_->redeem_code(c.hash, exchange(key('g', 0), 200))->outcome,
            RedeemOutcome::kRedeemed);
  ASSERT_EQ(store_->rotate_refresh_token(key('g', 0), rotation(key('g', 1), 210, 10))->outcome,
            RotateOutcome::kRotated);
  ASSERT_EQ(store_->rotate_refresh_token(key('g', 1), rotation(key('g', 2), 211, 10))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->rotate_refresh_token(key('g', 1), rotation(key('g', 3), 230, 10))->outcome,
            RotateOutcome::kReuseRevoked);  // the window (10 s) is over
  EXPECT_TRUE(store_->find_grant("g2")->revoked_at.has_value());
}

// A refusal spends nothing; a revoked grant's chain is as good as unknown.
TEST_P(RefreshFamilyConformance, ARefusalSpendsNothingAndARevokedGrantEndsTheChain) {
  ASSERT_TRUE(issue_refresh(k(0)));
  auto idle = store_->rotate_refresh_token(k(0), rotation(k(1), 1000, 0));
  ASSERT_EQ(idle->outcome, RotateOutcome::kRefused);
  EXPECT_EQ(idle->refusal, RefreshRefusal::kExpired);
  auto wider = rotation(k(1), 110, 0);
  wider.requested_scope = ScopeSet::parse("streaming user-read-email");
  EXPECT_EQ(store_->rotate_refresh_token(k(0), wider)->refusal, RefreshRefusal::kScopeExceeded);
  EXPECT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 110, 0, "c2"))->refusal,
            RefreshRefusal::kOtherClient);
  auto still = store_->find_refresh_token(k(0));
  EXPECT_FALSE(still->rotated_at || still->revoked);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());

  ASSERT_TRUE(store_->revoke_grant("g1", 120).ok());
  EXPECT_TRUE(store_->find_refresh_token(k(0))->revoked);
  EXPECT_EQ(store_->rotate_refresh_token(k(0), rotation(k(1), 121, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_EQ(store_->find_refresh_token(key('z', 0)).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->rotate_refresh_token(key('z', 0), rotation(key('z', 1), 121, 0))->outcome,
            RotateOutcome::kNotFound);
}

// Many presentations of the same token at once, no grace: one rotation; the others are
// reuse, which revokes the grant, or come after that and find a revoked grant's chain.
TEST_P(RefreshFamilyConformance, OnlyOneOfConcurrentPresentationsRotates) {
  ASSERT_TRUE(issue_refresh(k(0)));
  constexpr int kThreads = 8;
  open_connections(kThreads);
  std::atomic<int> rotated{0}, reused{0}, not_found{0}, failed{0};
  race(kThreads, [&](int i) {
    auto r = store_->rotate_refresh_token(k(0), rotation(key('f', 1, char('a' + i)), 110, 0));
    if (!r.ok()) {
      ++failed;
    } else if (r->outcome == RotateOutcome::kRotated) {
      ++rotated;
    } else if (r->outcome == RotateOutcome::kReuseRevoked) {
      ++reused;
    } else if (r->outcome == RotateOutcome::kNotFound) {
      ++not_found;
    }
  });
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(rotated.load(), 1);
  EXPECT_GE(reused.load(), 1);
  EXPECT_EQ(rotated + reused + not_found, kThreads);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  // Only the winner's successor was ever stored, and it died with the grant.
  int stored = 0;
  for (int i = 0; i < kThreads; ++i) {
    auto t = store_->find_refresh_token(key('f', 1, char('a' + i)));
    if (!t.ok()) {
      EXPECT_EQ(t.error().code, ErrorCode::kNotFound) << i;
      continue;
    }
    ++stored;
    EXPECT_TRUE(t->revoked) << i;
  }
  EXPECT_EQ(stored, 1);
}

STAGEPASS_CONFORMANCE_SUITE(RefreshFamilyConformance, kGrants | kCodes | kRefreshTokens);

}  // namespace
}  // namespace stagepass::conformance
