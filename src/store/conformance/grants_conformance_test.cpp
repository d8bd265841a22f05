// Store conformance, GrantStore and RevocationLog: consent, revocation of grants and access tokens,
// and what every node learns of them. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class GrantsConformance : public StoreConformance {};

TEST_P(GrantsConformance, ConsentWidensTheActiveGrant) {
  auto g = store_->record_consent("u1", "c1", ScopeSet::parse("user-read-email"), "g2", 200);
  EXPECT_EQ(g->id, "g1");
  EXPECT_EQ(g->scope.str(), "streaming user-read-email");
}

TEST_P(GrantsConformance, RefreshTokenOfRevokedGrantIsNotStored) {
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  EXPECT_FALSE(issue_refresh("r1"));
  EXPECT_FALSE(store_->find_refresh_token("r1").ok());
  // A new consent after revocation starts a fresh grant.
  auto g = store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g9", 160);
  EXPECT_EQ(g->id, "g9");
}

// Revocation reports whether it changed anything, so that the revocation endpoint writes one
// audit event per revocation, not one per request (a loop must not bury a person's log).
TEST_P(GrantsConformance, RevokingAGrantAgainReportsNoChange) {
  EXPECT_TRUE(*store_->revoke_grant("g1", 150));
  EXPECT_FALSE(*store_->revoke_grant("g1", 151));
  EXPECT_EQ(*store_->find_grant("g1")->revoked_at, 150);  // the first revocation stands
  EXPECT_FALSE(*store_->revoke_grant("no-such-grant", 152));
}

TEST_P(GrantsConformance, RevokingAnAccessTokenAgainReportsNoChange) {
  EXPECT_TRUE(*store_->revoke_access_token("j1", "c1", 1000, 150));
  EXPECT_FALSE(*store_->revoke_access_token("j1", "c1", 1000, 151));
  EXPECT_TRUE(*store_->revoke_access_token("j2", "c1", 1000, 152));
  auto since = store_->revoked_tokens_since(0);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
}

// A token the endpoint still accepts after its expiry (within the retention) keeps its row:
// revoking it again, even after other revocations purged the store, is still no change.
TEST_P(GrantsConformance, AnExpiredRevokedTokenWithinTheRetentionIsStillKnown) {
  const int64_t exp = 1000;
  EXPECT_TRUE(*store_->revoke_access_token("j1", "c1", exp, exp + 10));
  EXPECT_TRUE(*store_->revoke_access_token("j2", "c1", exp, exp + 20));  // purges expired rows
  EXPECT_FALSE(*store_->revoke_access_token("j1", "c1", exp, exp + 30));
  // Past the retention the row goes (the endpoint no longer accepts such a token).
  const int64_t later = exp + GrantStore::kRevokedTokenRetention + 1;
  EXPECT_TRUE(*store_->revoke_access_token("j3", "c1", later + 1000, later));
  auto since = store_->revoked_tokens_since(0);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].id, "j3");
}

TEST_P(GrantsConformance, AGrantReadsBackAsConsentedAndUnknownOnesAreNotFound) {
  auto g = store_->find_grant("g1");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->user_id, "u1");
  EXPECT_EQ(g->client_id, "c1");
  EXPECT_EQ(g->scope.str(), "streaming");
  EXPECT_EQ(g->created_at, 100);
  EXPECT_FALSE(g->revoked_at.has_value());
  EXPECT_EQ(store_->find_active_grant("u1", "c1")->id, "g1");
  EXPECT_EQ(store_->find_grant("nope").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->find_active_grant("u1", "c2").error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(*store_->revoke_grant("g1", 150));
  EXPECT_EQ(store_->find_active_grant("u1", "c1").error().code, ErrorCode::kNotFound);
}

TEST_P(GrantsConformance, APersonsGrantsAreListedNewestFirstWithoutRevokedOnes) {
  for (const char* id : {"c2", "c3"}) ASSERT_TRUE(store_->create_client(app(id)).ok());
  ASSERT_TRUE(store_->record_consent("u1", "c2", ScopeSet::parse("streaming"), "g2", 200).ok());
  ASSERT_TRUE(store_->record_consent("u1", "c3", ScopeSet::parse("streaming"), "g3", 300).ok());
  ASSERT_TRUE(*store_->revoke_grant("g2", 310));
  auto grants = store_->list_user_grants("u1");
  ASSERT_TRUE(grants.ok());
  std::vector<std::string> ids;
  for (const auto& g : *grants) ids.push_back(g.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"g3", "g1"}));
  EXPECT_TRUE(store_->list_user_grants("nobody")->empty());
}

// Grant usage is written in batches; a late batch never moves last use backwards.
TEST_P(GrantsConformance, GrantUsageOnlyMovesForward) {
  ASSERT_TRUE(store_->record_grant_usage({{"g1", 400}}).ok());
  EXPECT_EQ(*store_->find_grant("g1")->last_used_at, 400);
  ASSERT_TRUE(store_->record_grant_usage({{"g1", 300}, {"no-such-grant", 500}}).ok());
  EXPECT_EQ(*store_->find_grant("g1")->last_used_at, 400);
  ASSERT_TRUE(store_->record_grant_usage({}).ok());
}

// Revoking a grant takes its refresh tokens and unused codes with it, and every node learns
// it from the log by time, with the client it belongs to.
TEST_P(GrantsConformance, ARevokedGrantFeedsTheRevocationLogWithItsClient) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(store_->save_code(code("unused")).ok());
  ASSERT_TRUE(*store_->revoke_grant("g1", 150));
  EXPECT_TRUE(store_->find_refresh_token("r1")->revoked);
  EXPECT_EQ(store_->redeem_code("unused", exchange("r2", 151))->outcome, RedeemOutcome::kNotFound);
  auto log = store_->revoked_grants_since(150);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 1u);
  EXPECT_EQ((*log)[0].id, "g1");
  EXPECT_EQ((*log)[0].client_id, "c1");
  EXPECT_EQ((*log)[0].at, 150);
  EXPECT_TRUE(store_->revoked_grants_since(151)->empty());
  auto tokens = store_->revoked_tokens_since(0);
  ASSERT_TRUE(tokens.ok());
  EXPECT_TRUE(tokens->empty());
  ASSERT_TRUE(*store_->revoke_access_token("j1", "c1", 1000, 160));
  tokens = store_->revoked_tokens_since(160);
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].id, "j1");
  EXPECT_EQ((*tokens)[0].client_id, "c1");
  EXPECT_EQ((*tokens)[0].at, 160);
}

// Deleting an app revokes everything it holds, and the deletion itself is in the log.
TEST_P(GrantsConformance, DeletingAnAppRevokesItsGrantsAndFeedsTheLog) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(store_->delete_client("c1", 700).ok());
  EXPECT_EQ(store_->delete_client("c1", 701).error().code, ErrorCode::kNotFound);
  auto deleted = store_->deleted_clients_since(700);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, (std::vector<std::pair<std::string, int64_t>>{{"c1", 700}}));
  EXPECT_TRUE(store_->deleted_clients_since(701)->empty());
  auto r1 = store_->find_refresh_token("r1");
  EXPECT_TRUE(!r1.ok() || r1->revoked);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 710, 0))->outcome,
            RotateOutcome::kNotFound);
  EXPECT_EQ(store_->find_active_grant("u1", "c1").error().code, ErrorCode::kNotFound);
}

STAGEPASS_CONFORMANCE_SUITE(GrantsConformance, kGrants | kCodes | kRefreshTokens | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance
