// Store conformance, UserStore: people, e-mail lookup, password changes (one write), and data that
// survives a restart. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class UsersConformance : public StoreConformance {};
// The cases that also hold refresh tokens (issued through a code exchange).
class UserTokensConformance : public StoreConformance {};

TEST_P(UsersConformance, EmailLookupIgnoresCaseAndRejectsDuplicates) {
  EXPECT_EQ(store_->find_user_by_email("a@example.COM")->id, "u1");
  auto dup = store_->create_user({"u2", "a@example.com", "B", "h", "SE", "premium", 1});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
}

// The same race on the change-password form: someone holding a stolen session and the old
// password keeps a change in flight (checked against the old password, hashing the new one);
// meanwhile the owner changes the password or signs out everywhere. The late change must
// write nothing: it would hand the account to whoever started it.
TEST_P(UsersConformance, APasswordChangeThatCheckedTheOldPasswordLosesToALaterChange) {
  auto read_by_attacker = store_->find_user("u1");
  ASSERT_TRUE(read_by_attacker.ok());
  ASSERT_TRUE(
      store_->change_password(change("owner-hash", read_by_attacker->credential_generation)).ok());
  ASSERT_TRUE(store_
                  ->create_session({"owner", "u1", 100, 1000, 100,
                                    store_->find_user("u1")->credential_generation})
                  .ok());
  Session attacker{"attacker", "u1", 100, 1000, 100, 0};
  auto late = store_->change_password(
      change("attacker-hash", read_by_attacker->credential_generation, true, attacker));
  ASSERT_FALSE(late.ok());
  EXPECT_EQ(late.error().code, ErrorCode::kConflict);
  // Nothing of it was written: not the hash, not its session, no session ended, no grant
  // revoked.
  EXPECT_EQ(store_->find_user("u1")->password_hash, "owner-hash");
  EXPECT_FALSE(store_->find_session("attacker", 101).ok());
  EXPECT_TRUE(store_->find_session("owner", 101).ok());
  EXPECT_TRUE(store_->find_active_grant("u1", "c1").ok());
  // After "sign out everywhere" too.
  auto read_again = store_->find_user("u1");
  ASSERT_TRUE(store_->delete_user_sessions("u1", "").ok());
  EXPECT_EQ(store_->change_password(change("attacker-hash", read_again->credential_generation))
                .error()
                .code,
            ErrorCode::kConflict);
  EXPECT_EQ(store_->find_user("u1")->password_hash, "owner-hash");
  PasswordChange nobody = change("h", 0);
  nobody.user_id = "nobody";
  EXPECT_EQ(store_->change_password(nobody).error().code, ErrorCode::kNotFound);
}

// A password change that removes every app is ONE write (sqlite_store_test.cpp counts the
// commits): the hash and the generation move,
// every session ends, this browser's new session begins, every grant of the person (and so
// their refresh tokens) is revoked and shows in the revocation log; nobody else's is touched.
TEST_P(UserTokensConformance, APasswordChangeEndsSessionsAndRevokesEveryGrantInOneWrite) {
  ASSERT_TRUE(issue_refresh("r1"));
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->record_consent("u1", "c2", ScopeSet::parse("streaming"), "g2", 100).ok());
  ASSERT_TRUE(store_->create_user({"u2", "b@example.com", "B", "h", "SE", "premium", 1}).ok());
  ASSERT_TRUE(store_->record_consent("u2", "c1", ScopeSet::parse("streaming"), "g3", 100).ok());
  for (const char* h : {"s1", "s2"}) ASSERT_TRUE(store_->create_session({h, "u1", 100, 1000}).ok());
  ASSERT_TRUE(store_->create_session({"other", "u2", 100, 1000}).ok());

  Session fresh{"fresh", "someone-else", 400, 2000, 400, 42};  // person and generation: the store's
  auto done = store_->change_password(change("new-hash", 0, true, fresh));

  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->generation, 1);
  EXPECT_EQ(done->sessions_ended, 2);
  EXPECT_EQ(done->grants_revoked, 2);
  auto user = store_->find_user("u1");
  EXPECT_EQ(user->password_hash, "new-hash");
  EXPECT_EQ(user->credential_generation, done->generation);
  EXPECT_FALSE(store_->find_session("s1", 401).ok());
  EXPECT_FALSE(store_->find_session("s2", 401).ok());
  auto kept = store_->find_session("fresh", 401);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->user_id, "u1");
  EXPECT_EQ(kept->generation, done->generation);
  EXPECT_EQ(kept->expires_at, 2000);
  EXPECT_TRUE(store_->list_user_grants("u1")->empty());
  EXPECT_TRUE(store_->find_refresh_token("r1")->revoked);
  auto revoked = store_->revoked_grants_since(500);
  ASSERT_TRUE(revoked.ok());
  std::vector<std::string> ids;
  for (const auto& r : *revoked) {
    ids.push_back(r.id);
    EXPECT_EQ(r.at, 500);
  }
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"g1", "g2"}));
  // Someone else's session and grant are untouched.
  EXPECT_TRUE(store_->find_session("other", 401).ok());
  EXPECT_EQ(store_->list_user_grants("u2")->size(), 1u);
}

// Without "remove every app" the apps keep their access; without a session to continue in,
// every session ends and none begins.
TEST_P(UserTokensConformance, APasswordChangeKeepsTheAppsUnlessAsked) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000}).ok());
  auto done = store_->change_password(change("new-hash", 0));
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->sessions_ended, 1);
  EXPECT_EQ(done->grants_revoked, 0);
  EXPECT_FALSE(store_->find_session("s1", 101).ok());
  EXPECT_TRUE(store_->find_active_grant("u1", "c1").ok());
  EXPECT_FALSE(store_->find_refresh_token("r1")->revoked);
  EXPECT_TRUE(store_->revoked_grants_since(0)->empty());
}

// A change that fails part-way (here: the new session's key is taken) leaves everything as it
// was: the password, the sessions, the grants.
TEST_P(UsersConformance, APasswordChangeThatFailsPartWayWritesNothing) {
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000}).ok());
  ASSERT_TRUE(store_->create_user({"u2", "b@example.com", "B", "h", "SE", "premium", 1}).ok());
  ASSERT_TRUE(store_->create_session({"taken", "u2", 100, 1000}).ok());
  auto failed =
      store_->change_password(change("new-hash", 0, true, Session{"taken", "u1", 100, 1000}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kConflict);
  auto user = store_->find_user("u1");
  EXPECT_EQ(user->password_hash, "h");
  EXPECT_EQ(user->credential_generation, 0);
  EXPECT_TRUE(store_->find_session("s1", 101).ok());
  EXPECT_EQ(store_->find_session("taken", 101)->user_id, "u2");
  EXPECT_TRUE(store_->find_active_grant("u1", "c1").ok());
}

TEST_P(UserTokensConformance, DataSurvivesReopening) {
  ASSERT_TRUE(issue_refresh("r1"));
  instance_->reopen();  // a restart
  store_ = &instance_->store();
  EXPECT_EQ(store_->find_refresh_token("r1")->grant_id, "g1");
}

TEST_P(UsersConformance, APersonReadsBackAsCreated) {
  User u{"u2", "b@x.test", "Bea", "argon-hash", "DE", "free", 42};
  ASSERT_TRUE(store_->create_user(u).ok());
  auto back = store_->find_user("u2");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->email, "b@x.test");
  EXPECT_EQ(back->display_name, "Bea");
  EXPECT_EQ(back->password_hash, "argon-hash");
  EXPECT_EQ(back->country, "DE");
  EXPECT_EQ(back->product, "free");
  EXPECT_EQ(back->created_at, 42);
  EXPECT_EQ(back->credential_generation, 0);
  EXPECT_EQ(store_->find_user("nobody").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->find_user_by_email("nobody@x.test").error().code, ErrorCode::kNotFound);
}

STAGEPASS_CONFORMANCE_SUITE(UsersConformance, kUsers | kSessions | kGrants | kRevocationLog);
STAGEPASS_CONFORMANCE_SUITE(UserTokensConformance, kUsers | kSessions | kGrants | kCodes |
                                                       kRefreshTokens | kRevocationLog);

}  // namespace
}  // namespace stagepass::conformance
