// What only the SQLite store promises, on a real temporary file: the cases that look inside
// the file (SQL written behind the store's back) or at its group commit. Every behaviour of the
// roles is in the store conformance suite (src/store/conformance/), which runs against SQLite
// too; client secrets' upgrade and row bounds are in sqlite_client_secrets_test.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include "store/sqlite/connection.hpp"
#include "store/sqlite/temp_store_test_support.hpp"

namespace stagepass::sqlite {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(store_->create_user({"u1", "A@Example.com", "A", "h", "SE", "premium", 1}).ok());
    Client c{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"), {}, 1};
    ASSERT_TRUE(store_->create_client(c).ok());
    ASSERT_TRUE(store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g1", 100).ok());
  }
  TempSqliteStore store_{"sp-store-", 2};
};

// A session of an older generation is refused even if it was written (e.g. by an older
// server process during an upgrade): find_session compares it with the person's.
TEST_F(SqliteStoreTest, FindSessionRefusesASessionOfAnOlderGeneration) {
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000, 100, 0}).ok());
  ASSERT_TRUE(store_->find_session("s1", 101).ok());
  {
    // The person's credentials move on behind the session's back (no store method leaves a
    // session of an older generation behind).
    Connection db(store_.path());
    db.exec("UPDATE users SET credential_generation = credential_generation + 1 WHERE id = 'u1'");
  }
  EXPECT_FALSE(store_->find_session("s1", 101).ok());
}

// A password change that removes every app (the conformance case
// APasswordChangeEndsSessionsAndRevokesEveryGrantInOneWrite) is one write of the group commit.
TEST_F(SqliteStoreTest, APasswordChangeIsOneWrite) {
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000}).ok());
  const auto writes_before = store_->group_stats().writes;
  auto done = store_->change_password(
      {"u1", "new-hash", 0, Session{"fresh", "u1", 400, 2000, 400, 0}, true, 500});
  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(done->grants_revoked, 1);
  EXPECT_EQ(store_->group_stats().writes - writes_before, 1u);
}

}  // namespace
}  // namespace stagepass::sqlite
