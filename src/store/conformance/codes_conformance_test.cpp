// Store conformance, CodeStore: authorization codes, their redemption, refusal and replay (RFC 6749
// §4.1.3, RFC 7636 §4.6). Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class CodesConformance : public StoreConformance {};

TEST_P(CodesConformance, CodeReplayRevokesTheGrant) {
  ASSERT_TRUE(store_
                  ->save_code({"k", "g1", "c1", "u1", "https://app/cb", grant_.scope, "", 500,
                               std::nullopt})
                  .ok());
  auto first = store_->redeem_code("k", exchange("r1", 101));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->outcome, RedeemOutcome::kRedeemed);
  EXPECT_EQ(first->code.used_at, 101);
  EXPECT_EQ(store_->find_refresh_token("r1")->grant_id, "g1");  // stored with the redemption
  auto again = store_->redeem_code("k", exchange("r2", 102));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, RedeemOutcome::kReplayed);
  EXPECT_EQ(again->code.user_id, "u1");  // for the audit event
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_FALSE(store_->find_refresh_token("r2").ok());
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 103, 0))->outcome,
            RotateOutcome::kNotFound);
}

TEST_P(CodesConformance, ARefusedCodeIsNeitherSpentNorAReplay) {
  ASSERT_TRUE(store_
                  ->save_code({"k", "g1", "c1", "u1", "https://app/cb", grant_.scope, "ch", 500,
                               std::nullopt})
                  .ok());
  // The code's challenge is "ch"; the policy carries the S256 of the verifier presented.
  CodePolicy wrong = exchange("r0", 101);
  wrong.verifier_s256 = "not-ch";
  auto refused = store_->redeem_code("k", wrong);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->outcome, RedeemOutcome::kRefused);
  EXPECT_EQ(refused->refusal, CodeRefusal::kVerifierMismatch);
  EXPECT_EQ(refused->code.code_challenge, "ch");  // the code and grant as the write read them
  EXPECT_EQ(refused->grant.id, "g1");
  EXPECT_FALSE(store_->find_refresh_token("r0").ok());
  // Whoever saw the code and presented it wrongly spent nothing: the holder still redeems it.
  CodePolicy right = exchange("r1", 102);
  right.verifier_s256 = "ch";
  auto redeemed = store_->redeem_code("k", right);
  ASSERT_TRUE(redeemed.ok());
  EXPECT_EQ(redeemed->outcome, RedeemOutcome::kRedeemed);
  auto r1 = store_->find_refresh_token("r1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->expires_at, 102 + 900);  // the policy's lifetimes
  // A wrong presentation of a used code revokes nothing either.
  EXPECT_EQ(store_->redeem_code("k", wrong)->outcome, RedeemOutcome::kRefused);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
}

TEST_P(CodesConformance, UnusedCodeOfARevokedGrantIsRefused) {
  AuthorizationCode c{"c1", "g1", "c1", "u1", "https://app/cb", grant_.scope, "", 1000, {}};
  ASSERT_TRUE(store_->save_code(c).ok());
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  auto used = store_->redeem_code("c1", exchange("r1", 151));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->outcome, RedeemOutcome::kNotFound);
  EXPECT_FALSE(store_->find_refresh_token("r1").ok());
}

// issue16: 16 threads present the same code at once, each with everything right. RFC 6749
// §4.1.2: a code is used once. Exactly one exchange wins and stores its refresh token; every
// other presentation is the replay of a used code (kReplayed, which revokes the grant) or,
// once that revocation is in, a code of a revoked grant (kNotFound). None stores a token.
TEST_P(CodesConformance, SixteenThreadsRaceToRedeemOneCodeAndExactlyOneWins) {
  ASSERT_TRUE(store_->save_code(code("k")).ok());
  constexpr int kThreads = 16;
  open_connections(kThreads);
  std::vector<RedeemOutcome> outcomes(kThreads, RedeemOutcome::kRefused);
  std::vector<bool> failed(kThreads, false);
  race(kThreads, [&](int i) {
    auto r = store_->redeem_code("k", exchange(nth("r", i), 101));
    if (r.ok()) {
      outcomes[i] = r->outcome;
    } else {
      failed[i] = true;
    }
  });
  int winner = -1, redeemed = 0;
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_FALSE(failed[i]) << "thread " << i << ": the store failed";
    if (outcomes[i] == RedeemOutcome::kRedeemed) {
      ++redeemed;
      winner = i;
    } else {
      EXPECT_TRUE(outcomes[i] == RedeemOutcome::kReplayed ||
                  outcomes[i] == RedeemOutcome::kNotFound)
          << "thread " << i << ": outcome " << static_cast<int>(outcomes[i]);
    }
  }
  ASSERT_EQ(redeemed, 1);
  // Only the winner's refresh token exists; the replays revoked the grant and it with it.
  int stored = 0;
  for (int i = 0; i < kThreads; ++i) {
    if (store_->find_refresh_token(nth("r", i)).ok()) ++stored;
  }
  EXPECT_EQ(stored, 1);
  EXPECT_TRUE(store_->find_refresh_token(nth("r", winner))->revoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

// Distinct codes redeemed at once by 16 threads all succeed: no exchange is lost to another.
TEST_P(CodesConformance, ConcurrentExchangesOfDistinctCodesAllLand) {
  constexpr int kThreads = 16;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_TRUE(store_->save_code(code(nth("k", i))).ok());
  }
  std::atomic<int> redeemed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto r = store_->redeem_code(nth("k", i), exchange(nth("r", i), 101));
      if (r.ok() && r->outcome == RedeemOutcome::kRedeemed) ++redeemed;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(redeemed.load(), kThreads);
  for (int i = 0; i < kThreads; ++i) {
    auto r = store_->find_refresh_token(nth("r", i));
    ASSERT_TRUE(r.ok()) << i;
    EXPECT_FALSE(r->revoked);
  }
}

TEST_P(CodesConformance, AnUnknownCodeIsNotFoundAndAnExpiredOneIsRefused) {
  EXPECT_EQ(store_->redeem_code("nope", exchange("r0", 101))->outcome, RedeemOutcome::kNotFound);
  ASSERT_TRUE(store_->save_code(code("k")).ok());  // valid until 160
  auto late = store_->redeem_code("k", exchange("r1", 160));
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->outcome, RedeemOutcome::kRefused);
  EXPECT_EQ(late->refusal, CodeRefusal::kExpired);
  EXPECT_FALSE(store_->find_refresh_token("r1").ok());
  CodePolicy other = exchange("r2", 101);
  other.client_id = "c2";
  EXPECT_EQ(store_->redeem_code("k", other)->refusal, CodeRefusal::kOtherClient);
  CodePolicy elsewhere = exchange("r2", 101);
  elsewhere.redirect_uri = "https://app/other";
  EXPECT_EQ(store_->redeem_code("k", elsewhere)->refusal, CodeRefusal::kRedirectUriMismatch);
  EXPECT_EQ(store_->redeem_code("k", exchange("r3", 102))->outcome, RedeemOutcome::kRedeemed);
}

STAGEPASS_CONFORMANCE_SUITE(CodesConformance, kGrants | kCodes | kRefreshTokens);

}  // namespace
}  // namespace stagepass::conformance
