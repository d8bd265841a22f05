// Store conformance, SessionStore: browser sessions, their ends, and the credential-generation
// races of sign-in. Runs against every backend (store_backends.hpp).
#include <gtest/gtest.h>

#include "store/conformance/conformance_fixture.hpp"

namespace stagepass::conformance {
namespace {

class SessionsConformance : public StoreConformance {};

TEST_P(SessionsConformance, SessionsKeepTheirLastUseAndEndAtTheirAbsoluteEnd) {
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000}).ok());
  auto s = store_->find_session("s1", 100);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->last_seen_at, 100);  // a new session was last used when it was created
  ASSERT_TRUE(store_->touch_session("s1", 400).ok());
  EXPECT_EQ(store_->find_session("s1", 401)->last_seen_at, 400);
  ASSERT_TRUE(store_->touch_session("s1", 300).ok());  // a late, older touch changes nothing
  EXPECT_EQ(store_->find_session("s1", 401)->last_seen_at, 400);
  EXPECT_EQ(store_->find_session("s1", 1000).error().code, ErrorCode::kNotFound);  // absolute end
}

TEST_P(SessionsConformance, EndingSessionsKeepsOnlyTheOneAsked) {
  for (const char* h : {"s1", "s2", "s3"}) {
    ASSERT_TRUE(store_->create_session({h, "u1", 100, 1000}).ok());
  }
  EXPECT_EQ(*store_->delete_user_sessions("u1", "s2"), 2);
  EXPECT_FALSE(store_->find_session("s1", 101).ok());
  EXPECT_TRUE(store_->find_session("s2", 101).ok());
  ASSERT_TRUE(store_->delete_session("s2").ok());
  EXPECT_FALSE(store_->find_session("s2", 101).ok());
}

// The race of a slow sign-in with a password change, step by step as the server runs it: the
// sign-in reads the person, checks the (old) password on another thread; meanwhile the
// password changes and every session ends; then the sign-in creates its session. That
// session must not exist (it would be a session of whoever knew the old password).
TEST_P(SessionsConformance, ASignInThatCheckedTheOldPasswordCreatesNoSessionAfterAChange) {
  auto read_at_sign_in = store_->find_user("u1");  // 1. sign-in reads the person
  ASSERT_TRUE(read_at_sign_in.ok());
  // 2. (the old password is verified on the cpu pool) ... meanwhile the password changes:
  ASSERT_TRUE(
      store_->change_password(change("new-hash", read_at_sign_in->credential_generation)).ok());
  // 3. the slow sign-in now creates its session with what it read in step 1.
  Session late{"late", "u1", 100, 1000, 100, read_at_sign_in->credential_generation};
  auto created = store_->create_session(late);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().code, ErrorCode::kConflict);
  EXPECT_FALSE(store_->find_session("late", 101).ok());
  // A sign-in with the new password (it reads the new generation) works.
  auto now_user = store_->find_user("u1");
  ASSERT_TRUE(
      store_->create_session({"ok", "u1", 100, 1000, 100, now_user->credential_generation}).ok());
  EXPECT_TRUE(store_->find_session("ok", 101).ok());
}

// The same race against "sign out everywhere" (no password change): the sign-in that began
// before it leaves no session after it, and the session the call keeps stays valid.
TEST_P(SessionsConformance, ASignInThatBeganBeforeSignOutEverywhereCreatesNoSession) {
  auto read_at_sign_in = store_->find_user("u1");
  ASSERT_TRUE(read_at_sign_in.ok());
  ASSERT_TRUE(store_->create_session({"kept", "u1", 100, 1000, 100, 0}).ok());
  ASSERT_TRUE(store_->delete_user_sessions("u1", "kept").ok());
  Session late{"late", "u1", 100, 1000, 100, read_at_sign_in->credential_generation};
  EXPECT_FALSE(store_->create_session(late).ok());
  EXPECT_FALSE(store_->find_session("late", 101).ok());
  EXPECT_TRUE(store_->find_session("kept", 101).ok());
}

STAGEPASS_CONFORMANCE_SUITE(SessionsConformance, kUsers | kSessions);

}  // namespace
}  // namespace stagepass::conformance
