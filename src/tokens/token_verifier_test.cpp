#include "tokens/token_verifier.hpp"

#include <gtest/gtest.h>

#include <cstdint>

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
                                                rng_, revoked_, 1000);
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

// The cache entry is the verified claims: the app's rate limit ("rl") comes back on a hit too.
TEST_F(TokenVerifierTest, TheAppsRateLimitComesBackFromTheCache) {
  AccessClaims c{"iss", "u1", "aud", "c1", "streaming", 1000, 1100, rng_.id22(), "g1", 40};
  auto t = mint_access_token(*keys_, c);
  auto first = verifier_->verify(t);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*first)->rate_limit, 40);
  auto hit = verifier_->verify(t);
  ASSERT_TRUE(hit.ok());
  EXPECT_EQ(verifier_->stats().cache_hits.load(), 1u);
  EXPECT_EQ((*hit)->rate_limit, 40);
}

TEST_F(TokenVerifierTest, RevocationAppliesToCachedTokens) {
  auto t = mint("g1");
  ASSERT_TRUE(verifier_->verify(t).ok());
  revoked_.add("g1", "c1", 1001);
  auto r = verifier_->verify(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kRevoked);
  EXPECT_TRUE(verifier_->verify(mint("g2")).ok());
  revoked_.add_client("c1", 1002);  // a deleted client: even grant-less tokens die
  EXPECT_EQ(verifier_->verify(mint("")).error().code, ErrorCode::kRevoked);
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
  EXPECT_EQ(verifier_->verify(t).error().code, ErrorCode::kExpired);
}

TEST_F(TokenVerifierTest, CacheStaysBounded) {
  VerifiedTokenCache cache(64);
  for (int i = 0; i < 1000; ++i) {
    AccessClaims c;
    c.kid = "k1";
    cache.insert(VerifiedTokenCache::key_from(crypto::sha256(std::to_string(i))),
                 std::make_shared<const AccessClaims>(c), *keys_, 0);
  }
  EXPECT_LE(cache.size(), 64u);
}

// issue15-fix:rotation. A keyring of two keys: "old" retires at `retire_at`, "new" signs from
// 1000; tokens signed by either.
struct TwoKeys {
  crypto::Ed25519KeyPair old_pair = crypto::ed25519_generate();
  crypto::Ed25519KeyPair new_pair = crypto::ed25519_generate();
  std::shared_ptr<const Keyring> ring(int64_t retire_at) const {
    return std::make_shared<const Keyring>(std::vector<OpenKey>{
        {"old", "EdDSA", old_pair.public_key, old_pair.secret_key, 0, retire_at},
        {"new", "EdDSA", new_pair.public_key, new_pair.secret_key, 1000}});
  }
  // Only the new key (the old one was deleted, or left the JWKS).
  std::shared_ptr<const Keyring> new_only() const {
    return std::make_shared<const Keyring>(
        std::vector<OpenKey>{{"new", "EdDSA", new_pair.public_key, new_pair.secret_key, 1000}});
  }
  // A token signed by the old key (signing_key(500) is the old one).
  std::string old_token(Random& rng, int64_t exp = 5000) const {
    return mint_access_token(*ring(INT64_MAX),
                             {"iss", "u1", "aud", "c1", "streaming", 500, exp, rng.id22(), "g1"});
  }
};

// A key past its retire_at verifies nothing, even a token that has not expired (a token the
// issuer signed lives shorter than that; one that claims longer is no reason to trust a
// retired key), and even from the cache, with no key swap.
TEST_F(TokenVerifierTest, ARetiredKeyVerifiesNothingEvenFromTheCache) {
  TwoKeys k;
  TokenVerifier v(k.ring(1050), VerifyOptions{"iss", "aud", 0, 5}, clock_, rng_, revoked_, 1000);
  auto t = k.old_token(rng_);
  ASSERT_TRUE(v.verify(t).ok());  // 1000: the old key is retiring, still published
  ASSERT_TRUE(v.verify(t).ok());
  EXPECT_EQ(v.stats().cache_hits.load(), 1u);
  clock_.advance(50);  // 1050: its retire_at
  auto r = v.verify(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnknownKey);
  EXPECT_EQ(v.cache().size(), 0u);  // the entry went with it
  // Straight from verify_access_token too.
  EXPECT_EQ(verify_access_token(*k.ring(1050), t, {"iss", "aud", 1050, 5}).error().code,
            ErrorCode::kUnknownKey);
  EXPECT_TRUE(verify_access_token(*k.ring(1050), t, {"iss", "aud", 1049, 5}).ok());
}

// A key swap that removes a key (an api-only node's new copy of the JWKS, or a reload after
// the key was deleted) drops the verifications that key made: its tokens are refused at once;
// the other key's stay cached.
TEST_F(TokenVerifierTest, AKeySwapDropsTheVerificationsOfKeysNoLongerInForce) {
  TwoKeys k;
  TokenVerifier v(k.ring(INT64_MAX), VerifyOptions{"iss", "aud", 0, 5}, clock_, rng_, revoked_,
                  1000);
  auto old_t = k.old_token(rng_);
  auto new_t = mint_access_token(
      *k.ring(INT64_MAX), {"iss", "u1", "aud", "c1", "streaming", 1000, 5000, rng_.id22(), "g1"});
  ASSERT_TRUE(v.verify(old_t).ok());
  ASSERT_TRUE(v.verify(new_t).ok());
  ASSERT_EQ(v.cache().size(), 2u);
  v.set_keys(k.new_only());
  EXPECT_EQ(v.cache().size(), 1u);
  EXPECT_EQ(v.verify(old_t).error().code, ErrorCode::kUnknownKey);
  ASSERT_TRUE(v.verify(new_t).ok());
  EXPECT_EQ(v.stats().cache_hits.load(), 1u);  // the new key's entry stayed
}

// Same kid, another key (a JWKS that reuses a kid): what the old key verified is not trusted.
TEST_F(TokenVerifierTest, AKidNowNamingAnotherKeyVerifiesNothingFromTheCache) {
  TwoKeys k;
  TokenVerifier v(k.ring(INT64_MAX), VerifyOptions{"iss", "aud", 0, 5}, clock_, rng_, revoked_,
                  1000);
  auto old_t = k.old_token(rng_);
  ASSERT_TRUE(v.verify(old_t).ok());
  auto other = crypto::ed25519_generate();
  auto impostor = std::make_shared<const Keyring>(
      std::vector<OpenKey>{{"old", "EdDSA", other.public_key, other.secret_key}});
  // Swapped in without set_keys' purge being the one that matters: a hit is checked too.
  v.set_keys(impostor);
  EXPECT_EQ(v.verify(old_t).error().code, ErrorCode::kSignature);
}

// Whether the set still holds the grant's own entry: asked for a token of no client issued
// after every watermark, only that entry can cover it.
bool remembers(const RevocationSet& set, std::string_view grant_id) {
  return set.covers(grant_id, "", "", INT64_MAX);
}

// issue15:secrets. A hard cut of a client's secret refuses exactly its tokens issued at or
// before the cut, with no slack (a token minted after the cut carries a later iat), until no
// token it covers can be alive.
TEST(RevocationSetTest, AClientCutRefusesThatClientsTokensIssuedUpToIt) {
  RevocationSet set(100, 10, /*slack_seconds=*/30);
  set.add_client_cut("c1", 1000);
  EXPECT_TRUE(set.covers("g", "c1", "j", 1000));
  EXPECT_TRUE(set.covers("", "c1", "j", 900));
  EXPECT_FALSE(set.covers("", "c1", "j", 1001));  // no slack: minted after the cut
  EXPECT_FALSE(set.covers("", "c2", "j", 1000));  // another client
  set.add_client_cut("c1", 990);                  // an older cut read again: no step back
  EXPECT_TRUE(set.covers("", "c1", "j", 1000));
  set.expire(1100);  // 1000 + retention: a token issued at 1000 has just expired
  EXPECT_TRUE(set.covers("", "c1", "j", 1000));
  set.expire(1101);
  EXPECT_FALSE(set.covers("", "c1", "j", 1000));
}

// issue15:abuse. A suspension refuses the client's tokens issued up to it (plus the slack),
// and none issued after: the app works again once the suspension is lifted.
TEST(RevocationSetTest, ASuspensionRefusesTheClientsEarlierTokensOnly) {
  RevocationSet set(3600, 100, 10);
  set.add_suspension("app", 1000);
  EXPECT_TRUE(set.covers("g1", "app", "j1", 990));
  EXPECT_TRUE(set.covers("", "app", "j2", 1010));  // client credentials, within the slack
  EXPECT_FALSE(set.covers("g1", "app", "j3", 1011));
  EXPECT_FALSE(set.covers("g2", "other", "j4", 990));
  set.expire(1000 + 10 + 3600 + 1);  // every covered token has expired
  EXPECT_FALSE(set.covers("g1", "app", "j1", 990));
}

TEST(RevocationSetTest, ExpiresAndStaysBounded) {
  RevocationSet set(100, 3);
  set.add("a", "c1", 10);
  set.add("b", "c2", 20);
  set.add("c", "c3", 30);
  set.add("d", "c4", 40);  // evicts the oldest
  EXPECT_FALSE(remembers(set, "a"));
  EXPECT_TRUE(remembers(set, "d"));
  EXPECT_EQ(set.expire(125), 2u);  // b (20 + 100 < 125) is gone
  EXPECT_FALSE(remembers(set, "b"));
}

TEST(RevocationSetTest, AFullSetMakesRoomFromExpiredEntriesFirst) {
  RevocationSet set(100, 3);
  set.add("a", "c", 10);
  set.add("b", "c", 200);
  set.add("c", "c", 210);
  set.add("d", "c", 220);  // a expired (10 + 100 < 220): nothing alive is forgotten
  EXPECT_EQ(set.overflows(), 0u);
  EXPECT_FALSE(set.covers("", "", "", 15));
  EXPECT_TRUE(set.covers("b", "", "", 150));
}

TEST(RevocationSetTest, AFullSetFailsClosedForEveryKindOfRevocation) {
  RevocationSet set(1000, 3);
  for (auto [id, at] : {std::pair{"g1", 10}, {"g2", 20}, {"g3", 30}, {"g4", 40}}) {
    set.add(id, "c", at);
  }
  // Client c held the whole map and its revocations were forgotten: a token of g1 issued
  // before its revocation is still refused, and so is any token of c issued up to the newest
  // forgotten revocation; a later one is not, nor is another client's.
  EXPECT_FALSE(remembers(set, "g1"));
  EXPECT_TRUE(set.covers("g1", "c", "j", 5));
  EXPECT_TRUE(set.covers("other", "c", "j", 30));
  EXPECT_FALSE(set.covers("other", "c", "j", 31));
  EXPECT_FALSE(set.covers("other", "d", "j", 5));
  EXPECT_EQ(set.overflows(), 1u);

  // Deleted clients and revoked jtis used to stop being recorded once full.
  RevocationSet clients(1000, 2);
  clients.add_client("c1", 10);
  clients.add_client("c2", 20);
  clients.add_client("c3", 30);
  EXPECT_TRUE(clients.covers("", "c3", "j", 25));
  EXPECT_TRUE(clients.covers("", "c1", "j", 9));
  RevocationSet tokens(1000, 2);
  tokens.add_token("j1", "c", 10);
  tokens.add_token("j2", "c", 20);
  tokens.add_token("j3", "c", 30);
  EXPECT_TRUE(tokens.covers("", "c", "j3", 25));
  EXPECT_TRUE(tokens.covers("", "c", "j1", 9));
}

// issue15-fix:revocation-bound. Developers delete (and hard-cut) their own apps: a loop of
// creates and deletes past the bound must not refuse every other app's tokens.
TEST(RevocationSetTest, ManyDeletedOrCutClientsNeverRefuseOtherClientsTokens) {
  RevocationSet set(1000, 4, 10);
  for (int i = 0; i < 50; ++i) set.add_client("deleted-" + std::to_string(i), 100 + i);
  for (int i = 0; i < 50; ++i) set.add_client_cut("cut-" + std::to_string(i), 100 + i);
  EXPECT_FALSE(set.covers("", "bystander", "j", 50));  // another app's token, issued before
  EXPECT_FALSE(set.covers("g", "bystander", "j", 140));
  for (int i = 0; i < 50; ++i) {  // every deleted client stays refused, every cut stays cut
    EXPECT_TRUE(set.covers("", "deleted-" + std::to_string(i), "j", 5000)) << i;
    EXPECT_TRUE(set.covers("", "cut-" + std::to_string(i), "j", 100 + i)) << i;
    EXPECT_FALSE(set.covers("", "cut-" + std::to_string(i), "j", 101 + i)) << i;
  }
  EXPECT_GE(set.overflows(), 1u);   // seen by the metrics
  set.expire(100 + 10 + 1000 + 1);  // past the retention: the oldest go
  EXPECT_FALSE(set.covers("", "deleted-0", "j", 5000));
  EXPECT_TRUE(set.covers("", "deleted-49", "j", 5000));
}

// A client that revokes its own access tokens (RFC 7009) by the thousand fills the jti map;
// the tokens it pays with are its own, not every other client's.
TEST(RevocationSetTest, AFloodOfOneClientsRevocationsCostsOnlyThatClient) {
  RevocationSet set(100000, 64);
  set.add_token("victim-jti", "victim", 100);
  for (int i = 0; i < 1000; ++i) set.add_token("flood-" + std::to_string(i), "flood", 200 + i);
  EXPECT_GE(set.overflows(), 1u);
  // The victim's other tokens, issued long before the flood, stay good; its revoked one stays
  // refused.
  EXPECT_FALSE(set.covers("", "victim", "victim-other", 50));
  EXPECT_TRUE(set.covers("", "victim", "victim-jti", 50));
  // Every flood token, remembered or forgotten, is refused.
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(set.covers("", "flood", "flood-" + std::to_string(i), 150)) << i;
  }
  // A token the flooding client gets after its last revocation is good.
  EXPECT_FALSE(set.covers("", "flood", "fresh", 1200));
}

// Many clients with a few revocations each: the oldest are forgotten, and only the clients
// that had one among them are watermarked.
TEST(RevocationSetTest, ForgettingTheOldestWatermarksOnlyTheirClients) {
  RevocationSet set(100000, 32);
  for (int i = 0; i < 33; ++i) set.add("g" + std::to_string(i), "c" + std::to_string(i), 10 + i);
  EXPECT_EQ(set.overflows(), 1u);
  EXPECT_FALSE(remembers(set, "g0"));
  EXPECT_TRUE(set.covers("g0", "c0", "j", 5));      // the forgotten grant's token
  EXPECT_TRUE(set.covers("other", "c0", "j", 10));  // its client's, as early
  EXPECT_FALSE(set.covers("other", "c0", "j", 11));
  EXPECT_FALSE(set.covers("other", "c20", "j", 5));  // a client with nothing forgotten
  EXPECT_TRUE(set.covers("g20", "c20", "j", 5));
}

// A token may carry an iat a little after its revocation's time (clock skew between nodes,
// a rotation committed just before the revocation and signed a moment after). Forgetting the
// revocation must not let it back in: the watermark reaches revoked_at + slack.
TEST(RevocationSetTest, AForgottenRevocationStillCoversATokenIssuedWithinTheSlack) {
  RevocationSet set(100000, 32, 10);
  set.add_token("late-iat", "victim", 998);  // the token's iat is 1000
  ASSERT_TRUE(set.covers("", "victim", "late-iat", 1000));
  for (int i = 0; i < 32; ++i) {
    set.add_token("other-" + std::to_string(i), "c" + std::to_string(i), 999 + i);
  }
  ASSERT_EQ(set.overflows(), 1u);  // the oldest sixteenth went: the victim's entry and c0's
  EXPECT_TRUE(set.covers("", "victim", "late-iat", 1000));
  EXPECT_TRUE(set.covers("", "victim", "late-iat", 1008));
  EXPECT_FALSE(set.covers("", "victim", "fresh", 1009));
}

// Watermarks expire with the tokens they refuse.
TEST(RevocationSetTest, WatermarksExpire) {
  RevocationSet set(100, 2);
  set.add_token("j1", "c", 10);
  set.add_token("j2", "c", 20);
  set.add_token("j3", "d", 30);
  EXPECT_TRUE(set.covers("", "c", "x", 15));
  set.expire(500);
  EXPECT_FALSE(set.covers("", "c", "x", 15));
}

}  // namespace
}  // namespace stagepass
