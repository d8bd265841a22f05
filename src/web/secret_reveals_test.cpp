#include "web/secret_reveals.hpp"

#include <gtest/gtest.h>

namespace stagepass::web {
namespace {

SecretReveals::Reveal reveal(std::string secret) { return {Secret(std::move(secret)), "note"}; }

std::string taken(SecretReveals& r, const std::string& session, const std::string& app,
                  int64_t now) {
  auto got = r.take(session, app, now);
  return got ? std::string(got->secret.reveal()) : "";
}

TEST(SecretReveals, ShownOnceToTheSessionAndAppThatMadeIt) {
  SecretReveals r(600, 100);
  r.put("session-a", "app-1", reveal("sps_one"), 1000);
  EXPECT_EQ(taken(r, "session-b", "app-1", 1001), "");  // another browser
  EXPECT_EQ(taken(r, "session-a", "app-2", 1001), "");  // another app's page
  auto got = r.take("session-a", "app-1", 1001);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->secret.reveal(), "sps_one");
  EXPECT_EQ(got->notice, "note");
  EXPECT_EQ(taken(r, "session-a", "app-1", 1002), "");  // a reload: gone
  EXPECT_EQ(r.size(), 0u);
}

TEST(SecretReveals, ExpiresAfterItsTtl) {
  SecretReveals r(600, 100);
  r.put("s", "a", reveal("sps_late"), 1000);
  EXPECT_EQ(taken(r, "s", "a", 1600), "");
  r.put("s", "a", reveal("sps_in_time"), 1000);
  EXPECT_EQ(taken(r, "s", "a", 1599), "sps_in_time");
}

TEST(SecretReveals, TheNewerSecretOfAnAppReplacesTheOlder) {
  SecretReveals r(600, 100);
  r.put("s", "a", reveal("sps_first"), 1000);
  r.put("s", "a", reveal("sps_second"), 1001);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(taken(r, "s", "a", 1002), "sps_second");
}

TEST(SecretReveals, BoundedExpiredFirstThenTheOldest) {
  SecretReveals r(600, 3);
  r.put("s1", "a", reveal("one"), 1000);
  r.put("s2", "a", reveal("two"), 1100);
  r.put("s3", "a", reveal("three"), 1200);
  r.put("s4", "a", reveal("four"), 1650);  // full: "one" expired at 1600
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(taken(r, "s2", "a", 1650), "two");
  r.put("s5", "a", reveal("five"), 1651);
  r.put("s6", "a", reveal("six"), 1652);  // full, nothing expired: the oldest ("three") goes
  EXPECT_EQ(r.size(), 3u);
  EXPECT_EQ(taken(r, "s3", "a", 1653), "");
  EXPECT_EQ(taken(r, "s4", "a", 1653), "four");
  EXPECT_EQ(taken(r, "s5", "a", 1653), "five");
  EXPECT_EQ(taken(r, "s6", "a", 1653), "six");
}

// issue15-fix:reveals. One session looping create and delete fills only its own share: the
// pending secret of another developer stays.
TEST(SecretReveals, OneSessionCannotEvictAnotherSessionsSecret) {
  SecretReveals r(600, 30, 25);
  r.put("victim", "their-app", reveal("sps_victim"), 1000);
  for (int i = 0; i < 1000; i++) r.put("looper", "app-" + std::to_string(i), reveal("x"), 1001);
  EXPECT_EQ(r.size(), 26u);  // the looper's 25 newest, and the victim's
  EXPECT_EQ(taken(r, "victim", "their-app", 1002), "sps_victim");
  EXPECT_EQ(taken(r, "looper", "app-974", 1002), "");  // its own oldest went
  EXPECT_EQ(taken(r, "looper", "app-975", 1002), "x");
  EXPECT_EQ(taken(r, "looper", "app-999", 1002), "x");
}

TEST(SecretReveals, ADeletedAppsEntriesGo) {
  SecretReveals r(600, 100);
  r.put("s1", "gone", reveal("one"), 1000);
  r.put("s2", "gone", reveal("two"), 1000);
  r.put("s1", "kept", reveal("three"), 1000);
  r.forget_app("gone");
  EXPECT_EQ(r.size(), 1u);
  EXPECT_EQ(taken(r, "s1", "gone", 1001), "");
  EXPECT_EQ(taken(r, "s2", "gone", 1001), "");
  EXPECT_EQ(taken(r, "s1", "kept", 1001), "three");
}

}  // namespace
}  // namespace stagepass::web
