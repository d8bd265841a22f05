// GrantRevoker on a real temporary SQLite store: every revocation is announced and recorded
// once, a repeat neither announces nor records.
#include "oauth/grant_revoker.hpp"

#include <gtest/gtest.h>

#include "store/sqlite/temp_store_test_support.hpp"

namespace stagepass::oauth {
namespace {

class GrantRevokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_->create_user({"u1", "a@example.com", "A", "h", "SE", "premium", 1}).ok());
    Client c{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"), {}, 1};
    ASSERT_TRUE(store_->create_client(c).ok());
    grant_ = *store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g1", 100);
  }
  AuditEvent event(std::string type) { return {0, 0, std::move(type), "u1", "c1", "", "", ""}; }

  sqlite::TempSqliteStore store_{"sp-revoker-"};
  ManualClock clock_{1000};
  int announced_ = 0;
  std::vector<std::string> recorded_;
  GrantRevoker revoker_{*store_, clock_, [this] { ++announced_; },
                        [this](AuditEvent e) { recorded_.push_back(e.type); }};
  Grant grant_;
};

TEST_F(GrantRevokerTest, RevokingAGrantAnnouncesAndRecordsOnceHoweverOftenItIsAsked) {
  auto first = revoker_.revoke_grant("g1", event("app_removed"));
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(*first);
  auto again = revoker_.revoke_grant("g1", event("app_removed"));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(announced_, 1);
  EXPECT_EQ(recorded_, std::vector<std::string>{"app_removed"});
  // The store saw it, at the revoker's clock.
  auto revoked = store_->revoked_grants_since(1000);
  ASSERT_TRUE(revoked.ok());
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].id, "g1");
  EXPECT_EQ((*revoked)[0].at, 1000);
}

TEST_F(GrantRevokerTest, AnUnknownGrantIsNeitherAnnouncedNorRecorded) {
  auto r = revoker_.revoke_grant("nope", event("app_removed"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_EQ(announced_, 0);
  EXPECT_TRUE(recorded_.empty());
}

TEST_F(GrantRevokerTest, RevokingAnAccessTokenAnnouncesAndRecordsOnce) {
  EXPECT_TRUE(*revoker_.revoke_access_token("jti-1", "c1", 4600, event("access_token_revoked")));
  EXPECT_FALSE(*revoker_.revoke_access_token("jti-1", "c1", 4600, event("access_token_revoked")));
  EXPECT_EQ(announced_, 1);
  EXPECT_EQ(recorded_, std::vector<std::string>{"access_token_revoked"});
}

TEST_F(GrantRevokerTest, ARevocationMadeInsideAnotherWriteIsAnnouncedAndRecorded) {
  revoker_.revoked(event("refresh_token_reuse"));
  EXPECT_EQ(announced_, 1);
  EXPECT_EQ(recorded_, std::vector<std::string>{"refresh_token_reuse"});
}

TEST(GrantRevokerWithoutHooks, RevokesWithNothingToTell) {
  sqlite::TempSqliteStore store{"sp-revoker-"};
  ManualClock clock{5};
  GrantRevoker revoker{*store, clock, {}, {}};
  revoker.revoked({});
  EXPECT_TRUE(revoker.revoke_access_token("j", "c", 10, {}).ok());
}

}  // namespace
}  // namespace stagepass::oauth
