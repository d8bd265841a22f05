// AppAccess (development mode and the allowlist) on the authorization server the node builds:
// a real SQLite store, the real revoker (announcements counted), the real grants. What the
// admin CLI and the dashboard rely on: lookup by email, the limit, the removal that cuts the
// person off at once, the audit events, error codes and messages fit for a form.
#include "oauth/app_access.hpp"

#include <gtest/gtest.h>

#include "oauth/oauth_test_support.hpp"

namespace stagepass::oauth::testing {
namespace {

class AppAccessTest : public ::testing::Test {
 protected:
  AppAccess access(int64_t limit = 25) {
    return AppAccess(*server_.store, *server_.store, server_.revoker, server_.clock, limit,
                     [this](AuditEvent e) { server_.events.push_back(std::move(e)); });
  }
  void add_user(const std::string& id, const std::string& email) {
    ASSERT_TRUE(server_.store->create_user({id, email, id, "h", "SE", "premium", kStart}).ok());
  }
  std::vector<std::string> event_types() {
    std::vector<std::string> out;
    for (const auto& e : server_.events) out.push_back(e.type);
    return out;
  }

  AuthorizationServer server_;
};

TEST_F(AppAccessTest, ModeNamesRoundTrip) {
  EXPECT_EQ(mode_name(true), "development");
  EXPECT_EQ(mode_name(false), "extended");
  EXPECT_EQ(parse_mode("development"), std::optional<bool>(true));
  EXPECT_EQ(parse_mode("extended"), std::optional<bool>(false));
  EXPECT_EQ(parse_mode("Development"), std::nullopt);
  EXPECT_EQ(parse_mode(""), std::nullopt);
}

// The one decision both grants use: no claim for an extended app; otherwise the list.
TEST_F(AppAccessTest, TheClaimFollowsTheModeAndTheList) {
  Client app;
  EXPECT_EQ(allowlist_claim(app, kUserId, true), std::nullopt);
  EXPECT_EQ(allowlist_claim(app, kUserId, false), std::nullopt);
  app.development = true;
  EXPECT_EQ(allowlist_claim(app, kUserId, true), std::optional<bool>(true));
  EXPECT_EQ(allowlist_claim(app, kUserId, false), std::optional<bool>(false));
  // The owner of a dashboard app is served without being listed; nobody else is, and an
  // operator's app (no owner) has no owner to match.
  app.owner_id = kUserId;
  EXPECT_EQ(allowlist_claim(app, kUserId, false), std::optional<bool>(true));
  EXPECT_EQ(allowlist_claim(app, "someone-else", false), std::optional<bool>(false));
  app.owner_id.clear();
  EXPECT_EQ(allowlist_claim(app, "", false), std::optional<bool>(false));
}

TEST_F(AppAccessTest, SetModeRecordsAChangeOnce) {
  auto a = access();
  EXPECT_EQ(*a.development(kConfId), false);
  ASSERT_TRUE(a.set_mode(kConfId, true).ok());
  ASSERT_TRUE(a.set_mode(kConfId, true).ok());  // no change, no second event
  EXPECT_EQ(*a.development(kConfId), true);
  EXPECT_EQ(event_types(), std::vector<std::string>{"client_mode_changed"});
  EXPECT_EQ(server_.events[0].client_id, kConfId);
  EXPECT_EQ(server_.events[0].detail, "\"conf-app\" is now in development mode");
  EXPECT_EQ(a.set_mode("nope", true).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(a.development("nope").error().code, ErrorCode::kNotFound);
}

// People are added by their account's email, whatever its case and surrounding blanks;
// adding someone twice changes nothing and records nothing.
TEST_F(AppAccessTest, AddsThePersonWithThisEmail) {
  auto a = access();
  auto added = a.add(kConfId, "  ADA@example.com ");
  ASSERT_TRUE(added.ok()) << added.error().message;
  EXPECT_TRUE(added->added);
  EXPECT_EQ(added->entry.user_id, kUserId);
  EXPECT_EQ(added->entry.email, kUserEmail);
  auto again = a.add(kConfId, kUserEmail);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->added);
  EXPECT_EQ(event_types(), std::vector<std::string>{"allowlist_added"});
  EXPECT_EQ(server_.events[0].user_id, kUserId);
  auto list = a.list(kConfId);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].email, kUserEmail);
}

TEST_F(AppAccessTest, ErrorsSayWhatIsWrongAndWriteNothing) {
  auto a = access();
  auto unknown = a.add(kConfId, "nobody@example.com");
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(unknown.error().message, "nobody has an account with this email");
  for (const std::string& bad :
       std::vector<std::string>{"", "   ", "not-an-email", std::string(300, 'a') + "@x.test"}) {
    EXPECT_EQ(a.add(kConfId, bad).error().code, ErrorCode::kInvalid) << bad;
  }
  EXPECT_EQ(a.add("nope", kUserEmail).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(a.list("nope").error().code, ErrorCode::kNotFound);
  auto not_listed = a.remove(kConfId, kUserEmail);
  EXPECT_EQ(not_listed.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(not_listed.error().message, "this person is not on the allowlist");
  EXPECT_TRUE(a.list(kConfId)->empty());
  EXPECT_TRUE(server_.events.empty());
}

// STAGEPASS_DEV_ALLOWLIST_LIMIT: beyond it, a clear refusal naming the limit.
TEST_F(AppAccessTest, TheListHoldsAtMostTheLimit) {
  add_user("u2", "bo@example.com");
  add_user("u3", "cy@example.com");
  auto a = access(2);
  EXPECT_EQ(a.limit(), 2);
  ASSERT_TRUE(a.add(kConfId, kUserEmail).ok());
  ASSERT_TRUE(a.add(kConfId, "bo@example.com").ok());
  auto full = a.add(kConfId, "cy@example.com");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code, ErrorCode::kConflict);
  EXPECT_EQ(full.error().message,
            "the allowlist is full: an app in development mode serves at most 2 people");
  EXPECT_EQ(a.list(kConfId)->size(), 2u);
  // Each app has its own list.
  EXPECT_TRUE(a.add(kOtherId, "cy@example.com").ok());
}

// Removal revokes the person's grant of the app in the same write and announces it (this
// node refuses their access tokens from the next request), so the refresh token is dead too;
// the person's security log says why.
TEST_F(AppAccessTest, RemovalRevokesThePersonsAccessAtOnce) {
  auto a = access();
  ASSERT_TRUE(a.set_mode(kConfId, true).ok());
  ASSERT_TRUE(a.add(kConfId, kUserEmail).ok());
  auto tokens = server_.conf_tokens();
  const int announced = server_.announced;
  auto removed = a.remove(kConfId, "Ada@Example.com");
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_TRUE(removed->grant_revoked);
  EXPECT_EQ(removed->user_id, kUserId);
  EXPECT_EQ(server_.announced, announced + 1);
  EXPECT_TRUE(server_.grant_revoked());
  auto refreshed = server_.token(
      form_encode({{"grant_type", "refresh_token"},
                   {"refresh_token", std::string(tokens.at("refresh_token").as_string())}}),
      basic(kConfId, kConfSecret));
  EXPECT_EQ(error_of(refreshed).first, "invalid_grant");
  ASSERT_FALSE(server_.events.empty());
  const AuditEvent& e = server_.events.back();
  EXPECT_EQ(e.type, "allowlist_removed");
  EXPECT_EQ(e.user_id, kUserId);
  EXPECT_EQ(e.client_id, kConfId);
  EXPECT_EQ(e.detail, "removed from the allowlist of \"conf-app\"; the app's access was revoked");
  EXPECT_TRUE(a.list(kConfId)->empty());
}

// issue15-fix:allowlist-oracle. Which emails have an account must not show: a full list is
// full for every email, and removing an unknown email answers like removing an unlisted one.
TEST_F(AppAccessTest, AFullListAndARemovalAnswerTheSameForUnknownEmails) {
  add_user("u2", "bo@example.com");
  add_user("u3", "cy@example.com");
  auto a = access(1);
  ASSERT_TRUE(a.add(kConfId, "bo@example.com").ok());
  auto known = a.add(kConfId, "cy@example.com");
  auto unknown = a.add(kConfId, "nobody@example.com");
  ASSERT_FALSE(known.ok());
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, known.error().code);
  EXPECT_EQ(unknown.error().message, known.error().message);
  auto again = a.add(kConfId, " BO@example.com ");  // listed already: not "full"
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->added);
  auto not_listed = a.remove(kConfId, "cy@example.com");
  auto no_account = a.remove(kConfId, "nobody@example.com");
  EXPECT_EQ(no_account.error().code, not_listed.error().code);
  EXPECT_EQ(no_account.error().message, not_listed.error().message);
}

// issue15-fix:allowlist-events. An owner looping add and remove writes to the person's
// security log once a day per kind, not once a loop; the next day it is recorded again.
TEST_F(AppAccessTest, RepeatedAllowlistEventsForOnePersonAreCoalescedPerDay) {
  auto a = access();
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(a.add(kConfId, kUserEmail).ok());
    ASSERT_TRUE(a.remove(kConfId, kUserEmail).ok());  // no grant: nothing revoked
  }
  EXPECT_EQ(event_types(), (std::vector<std::string>{"allowlist_added", "allowlist_removed"}));
  server_.clock.advance(24 * 3600);
  ASSERT_TRUE(a.add(kConfId, kUserEmail).ok());
  EXPECT_EQ(server_.events.size(), 3u);
  // Another app's list is its own.
  ASSERT_TRUE(a.add(kOtherId, kUserEmail).ok());
  EXPECT_EQ(server_.events.size(), 4u);
}

}  // namespace
}  // namespace stagepass::oauth::testing
