// Store conformance, ClientStore (issue15:devmode): development mode and the allowlist.
// Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class AllowlistConformance : public StoreConformance {};
// The cases that also hold codes and refresh tokens.
class AllowlistTokensConformance : public StoreConformance {};

TEST_P(AllowlistConformance, AnAppIsInExtendedModeUntilSetOtherwise) {
  EXPECT_FALSE(store_->find_client("c1")->development);
  ASSERT_TRUE(store_->set_client_mode("c1", true).ok());
  EXPECT_TRUE(store_->find_client("c1")->development);  // the cached copy is dropped
  EXPECT_TRUE(store_->list_clients()->front().development);
  EXPECT_EQ(store_->set_client_mode("nope", true).error().code, ErrorCode::kNotFound);
}

// The count and the insert are one write: the list never holds more than the limit, and
// adding someone listed already changes nothing (and takes no place).
TEST_P(AllowlistConformance, TheAllowlistHoldsAtMostItsLimit) {
  for (const char* id : {"u2", "u3"}) {
    ASSERT_TRUE(store_->create_user({id, std::string(id) + "@x.test", id, "h", "SE", "p", 1}).ok());
  }
  EXPECT_TRUE(*store_->add_to_allowlist("c1", "u1", 2, 10));
  EXPECT_FALSE(*store_->add_to_allowlist("c1", "u1", 2, 11));  // listed already
  EXPECT_TRUE(*store_->add_to_allowlist("c1", "u2", 2, 12));
  auto full = store_->add_to_allowlist("c1", "u3", 2, 13);
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(*store_->add_to_allowlist("c1", "u2", 2, 14));  // a listed person is no conflict
  EXPECT_EQ(store_->add_to_allowlist("nope", "u3", 2, 15).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->add_to_allowlist("c1", "nobody", 3, 15).error().code, ErrorCode::kNotFound);
  auto list = store_->list_allowlist("c1");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].user_id, "u1");
  EXPECT_EQ((*list)[0].email, "A@Example.com");
  EXPECT_EQ((*list)[0].added_at, 10);
  EXPECT_EQ((*list)[1].user_id, "u2");
}

// Removing a person revokes their grant of the app in the same write: its refresh tokens die
// with it, and the revocation reaches every node through revoked_grants_since.
TEST_P(AllowlistTokensConformance, RemovingAPersonFromTheAllowlistRevokesTheirGrant) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(*store_->add_to_allowlist("c1", "u1", 25, 10));
  auto removed = store_->remove_from_allowlist("c1", "u1", 200);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(removed->grant_revoked);
  EXPECT_TRUE(store_->list_allowlist("c1")->empty());
  EXPECT_TRUE(store_->find_refresh_token("r1")->revoked);
  auto feed = store_->revoked_grants_since(200);
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ((*feed)[0].id, "g1");
  EXPECT_EQ(store_->remove_from_allowlist("c1", "u1", 201).error().code, ErrorCode::kNotFound);
  // Listed again without a grant: removing revokes nothing.
  ASSERT_TRUE(*store_->add_to_allowlist("c1", "u1", 25, 202));
  EXPECT_FALSE(store_->remove_from_allowlist("c1", "u1", 203)->grant_revoked);
}

// The code exchange and every rotation read the allowlist in their own write when asked (a
// development-mode app), so each token minted says what the list said at that moment.
TEST_P(AllowlistTokensConformance, ExchangeAndRotationReadTheAllowlistWhenAsked) {
  AuthorizationCode c{"code-x", grant_.id, "c1", "u1", "https://app/cb", grant_.scope, "", 160, {}};
  ASSERT_TRUE(store_->save_code(c).ok());
  CodePolicy policy = exchange("r1", 100);
  policy.read_allowlist = true;
  auto redeemed = store_->redeem_code(c.hash, policy);
  ASSERT_EQ(redeemed->outcome, RedeemOutcome::kRedeemed);
  EXPECT_FALSE(redeemed->on_allowlist);

  ASSERT_TRUE(*store_->add_to_allowlist("c1", "u1", 25, 101));
  RefreshPolicy asked = rotation("r2", 102, 0);
  asked.read_allowlist = true;
  auto rotated = store_->rotate_refresh_token("r1", asked);
  ASSERT_EQ(rotated->outcome, RotateOutcome::kRotated);
  EXPECT_TRUE(rotated->on_allowlist);
  // Not asked (an extended app): not read, whatever the list says.
  auto unasked = store_->rotate_refresh_token("r2", rotation("r3", 103, 0));
  ASSERT_EQ(unasked->outcome, RotateOutcome::kRotated);
  EXPECT_FALSE(unasked->on_allowlist);
}

// An app's or a person's deletion takes their entries with it.
TEST_P(AllowlistConformance, DeletingTheAppEmptiesItsAllowlist) {
  ASSERT_TRUE(*store_->add_to_allowlist("c1", "u1", 25, 10));
  ASSERT_TRUE(store_->delete_client("c1", 20).ok());
  Client again{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"),
               {},   30};
  ASSERT_TRUE(store_->create_client(again).ok());
  EXPECT_TRUE(store_->list_allowlist("c1")->empty());
}

STAGEPASS_CONFORMANCE_SUITE(AllowlistConformance, kClients | kRevocationLog);
STAGEPASS_CONFORMANCE_SUITE(AllowlistTokensConformance,
                            kClients | kCodes | kRefreshTokens | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance
