// The admin CLI's commands against a real SQLite file.
#include "app/admin.hpp"

#include <gtest/gtest.h>

#include "store/sqlite/temp_store_test_support.hpp"

namespace stagepass {
namespace {

class AdminTest : public ::testing::Test {
 protected:
  sqlite::TempSqliteStore store_{"sp-admin-"};
};

// The client_deleted event quotes at most 100 bytes of the name, cut at a character boundary:
// a split UTF-8 character made `admin events` print invalid JSON text. (`admin client create`
// keeps names within 100 bytes; this row is written directly, as another tool or a future
// rename could.)
TEST_F(AdminTest, ClientDeletedEventCutsTheNameAtACharacterBoundary) {
  const std::string a99(99, 'a');
  Client c{
      "c1", a99 + "\xc3\xa9", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"), {},
      1};
  ASSERT_TRUE(store_->create_client(c).ok());
  ::testing::internal::CaptureStdout();
  ASSERT_EQ(admin::client_delete(*store_, "c1", false), 0);
  ::testing::internal::GetCapturedStdout();
  auto events = store_->events_since(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].type, "client_deleted");
  EXPECT_EQ((*events)[0].detail, "\"" + a99 + "\" deleted by an operator");
}

// issue15:devmode. `admin client allowlist add` past STAGEPASS_DEV_ALLOWLIST_LIMIT: exit code
// 1 and one clear line on standard error; the list keeps its limit.
TEST_F(AdminTest, AllowlistAddPastTheLimitFailsWithOneLine) {
  Client c{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"), {}, 1};
  c.development = true;
  ASSERT_TRUE(store_->create_client(c).ok());
  ASSERT_TRUE(store_->create_user({"u1", "a@x.test", "A", "h", "SE", "premium", 1}).ok());
  ASSERT_TRUE(store_->create_user({"u2", "b@x.test", "B", "h", "SE", "premium", 1}).ok());
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(admin::allowlist_add(*store_, 1, "c1", "a@x.test", true), 0);
  EXPECT_EQ(::testing::internal::GetCapturedStdout(),
            "{\"client_id\":\"c1\",\"user_id\":\"u1\",\"email\":\"a@x.test\",\"added\":true}\n");
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(admin::allowlist_add(*store_, 1, "c1", "b@x.test", true), 1);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "stagepass: the allowlist is full: an app in development mode serves at most 1 "
            "person\n");
  EXPECT_EQ(store_->list_allowlist("c1")->size(), 1u);
}

}  // namespace
}  // namespace stagepass
