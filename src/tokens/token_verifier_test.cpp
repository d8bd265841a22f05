#include "tokens/token_verifier.hpp"

#include <gtest/gtest.h>

#include "core/random.hpp"
#include "crypto/crypto.hpp"

namespace stagepass {
namespace {

class TokenVerifierTest : public ::testing::Test {
 protected:
  TokenVerifierTest() : clock_(1000), revoked_(3700, 100) {
    auto kp = crypto::ed25519_generate();
    keys_ = std::make_shared<Keyring>(
        std::vector<OpenKey>{{"k1", "EdDSA", kp.public_key, kp.secret_key}});
    verifier_ = std::make_unique<TokenVerifier>(keys_, VerifyOptions{"iss", "aud", 0, 5}, clock_,
                                                revoked_, 1000);
  }
  std::string mint(std::string gid, int64_t exp = 1100) {
    return mint_access_token(*keys_,
                             {"iss", "u1", "aud", "c1", "streaming", 1000, exp, rng_.id22(), gid});
  }

  SystemRandom rng_;
  ManualClock clock_;
  RevocationSet revoked_;
  std::shared_ptr<Keyring> keys_;
  std::unique_ptr<TokenVerifier> verifier_;
};

TEST_F(TokenVerifierTest, SecondCallIsACacheHit) {
  auto t = mint("g1");
  ASSERT_TRUE(verifier_->verify(t).ok());
  ASSERT_TRUE(verifier_->verify(t).ok());
  EXPECT_EQ(verifier_->stats().cache_misses.load(), 1u);
  EXPECT_EQ(verifier_->stats().cache_hits.load(), 1u);
}

TEST_F(TokenVerifierTest, RevocationAppliesToCachedTokens) {
  auto t = mint("g1");
  ASSERT_TRUE(verifier_->verify(t).ok());
  revoked_.add("g1", 1001);
  auto r = verifier_->verify(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "revoked");
  EXPECT_TRUE(verifier_->verify(mint("g2")).ok());
  revoked_.add_client("c1", 1002);  // a deleted client: even grant-less tokens die
  EXPECT_EQ(verifier_->verify(mint("")).error().code, "revoked");
}

// The overflow fuzz/fuzz_jwt found in verify_access_token, at the verifier's own expiry check
// of cached claims: a far-future exp must neither overflow nor read as expired.
TEST_F(TokenVerifierTest, FarFutureExpiryIsNotExpired) {
  auto t = mint("g1", INT64_MAX);
  EXPECT_TRUE(verifier_->verify(t).ok());
  EXPECT_TRUE(verifier_->verify(t).ok());  // from the cache
}

TEST_F(TokenVerifierTest, ExpiryAppliesToCachedTokensWithBoundedSkew) {
  auto t = mint("g1", 1100);
  ASSERT_TRUE(verifier_->verify(t).ok());
  clock_.advance(104);
  EXPECT_TRUE(verifier_->verify(t).ok());  // 4 s past exp, inside the 5 s skew
  clock_.advance(2);
  EXPECT_EQ(verifier_->verify(t).error().code, "expired");
}

TEST_F(TokenVerifierTest, CacheStaysBounded) {
  VerifiedTokenCache cache(64);
  for (int i = 0; i < 1000; ++i) {
    auto claims = std::make_shared<const AccessClaims>();
    cache.insert(VerifiedTokenCache::key_from(crypto::sha256(std::to_string(i))), claims, 0);
  }
  EXPECT_LE(cache.size(), 64u);
}

TEST(RevocationSetTest, ExpiresAndStaysBounded) {
  RevocationSet set(100, 3);
  set.add("a", 10);
  set.add("b", 20);
  set.add("c", 30);
  set.add("d", 40);  // evicts the oldest
  EXPECT_FALSE(set.contains("a"));
  EXPECT_TRUE(set.contains("d"));
  EXPECT_EQ(set.expire(125), 2u);  // b (20 + 100 < 125) is gone
  EXPECT_FALSE(set.contains("b"));
}

TEST(RevocationSetTest, AFullSetMakesRoomFromExpiredEntriesFirst) {
  RevocationSet set(100, 3);
  set.add("a", 10);
  set.add("b", 200);
  set.add("c", 210);
  set.add("d", 220);  // a expired (10 + 100 < 220): nothing alive is forgotten
  EXPECT_EQ(set.overflows(), 0u);
  EXPECT_FALSE(set.covers("", "", "", 15));
  EXPECT_TRUE(set.covers("b", "", "", 150));
}

TEST(RevocationSetTest, AFullSetFailsClosedForEveryKindOfRevocation) {
  RevocationSet set(1000, 3);
  for (auto [id, at] : {std::pair{"g1", 10}, {"g2", 20}, {"g3", 30}, {"g4", 40}}) set.add(id, at);
  // g1 was forgotten: a token of it issued before its revocation is still refused, and so is
  // any token issued as early; a token issued after the forgotten revocation is not.
  EXPECT_FALSE(set.contains("g1"));
  EXPECT_TRUE(set.covers("g1", "c", "j", 5));
  EXPECT_TRUE(set.covers("other", "c", "j", 10));
  EXPECT_FALSE(set.covers("other", "c", "j", 11));
  EXPECT_EQ(set.overflows(), 1u);

  // Deleted clients and revoked jtis used to stop being recorded once full.
  RevocationSet clients(1000, 2);
  clients.add_client("c1", 10);
  clients.add_client("c2", 20);
  clients.add_client("c3", 30);
  EXPECT_TRUE(clients.covers("", "c3", "j", 25));
  EXPECT_TRUE(clients.covers("", "c1", "j", 9));
  RevocationSet tokens(1000, 2);
  tokens.add_token("j1", 10);
  tokens.add_token("j2", 20);
  tokens.add_token("j3", 30);
  EXPECT_TRUE(tokens.covers("", "c", "j3", 25));
}

}  // namespace
}  // namespace stagepass
