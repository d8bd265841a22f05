// AbuseResponder over a real SQLite store: every finding becomes an audit event and a warning
// on its app; the automatic actions happen only when the operator turned them on.
#include "app/abuse_responder.hpp"

#include <gtest/gtest.h>

#include "store/sqlite/temp_store_test_support.hpp"

namespace stagepass {
namespace {

class AbuseResponderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Client c{"app", "App", false, "h", {"https://a/cb"}, ScopeSet::parse("streaming"), {}, 1};
    ASSERT_TRUE(store_->create_client(c).ok());
    ASSERT_TRUE(store_->create_user({"u1", "a@example.com", "A", "h", "SE", "premium", 1}).ok());
    grant_ = store_->record_consent("u1", "app", ScopeSet::parse("streaming"), "g1", 100)->id;
  }
  // Runs the responder once on `findings` (pushed through a detector with threshold 1).
  void respond(AbuseActions actions, void (*raise)(AbuseDetector&, int64_t)) {
    AbuseSettings s;
    s.invalid_client = {1, 600};
    s.token_ips = {1, 600};
    AbuseDetector detector(s);
    raise(detector, clock_.now());
    AbuseResponder responder(
        detector, *store_, *store_, revoker_, audit_, [this] { ++announced_; }, clock_, actions);
    EXPECT_EQ(responder.run(), 1u);
  }
  std::vector<std::string> event_types() {
    std::vector<std::string> out;
    auto events = store_->events_since(0, 100);
    for (const auto& e : *events) out.push_back(e.type);
    return out;
  }

  sqlite::TempSqliteStore store_{"sp-abuse-"};
  ManualClock clock_{100000};
  Metrics metrics_;
  AuditLog audit_{[this](const AuditEvent& e) { return store_->record_event(e).ok(); }, metrics_,
                  clock_};
  oauth::GrantRevoker revoker_{
      *store_, clock_, {}, [this](AuditEvent e) { audit_.record(std::move(e)); }};
  std::string grant_;
  int announced_ = 0;
};

void guess(AbuseDetector& d, int64_t now) { d.note_invalid_client("192.0.2.1", "app", now); }

TEST_F(AbuseResponderTest, RecordsTheEventAndTheWarningAndActsOnlyWhenEnabled) {
  respond(AbuseActions{}, guess);
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_secret_guessing"});
  auto warnings = store_->app_warnings("app", 10);
  ASSERT_EQ(warnings->size(), 1u);
  EXPECT_EQ((*warnings)[0].type, "abuse_secret_guessing");
  EXPECT_EQ(store_->find_client("app")->suspended_at, 0);  // off by default
  EXPECT_EQ(announced_, 0);
}

TEST_F(AbuseResponderTest, SuspendsTheAppWhenTheOperatorTurnedItOn) {
  AbuseActions on;
  on.suspend_on_secret_guessing = true;
  respond(on, guess);
  auto c = store_->find_client("app");
  EXPECT_EQ(c->suspended_at, clock_.now());
  EXPECT_NE(c->suspended_reason.find("abuse_secret_guessing"), std::string::npos);
  EXPECT_EQ(c->suspended_reason.find("192.0.2.1"), std::string::npos);  // no address in it
  EXPECT_EQ(event_types(), (std::vector<std::string>{"abuse_secret_guessing", "client_suspended"}));
  EXPECT_EQ(announced_, 1);  // this node's revocation set refreshed at once
  EXPECT_EQ(store_->app_warnings("app", 10)->size(), 2u);
}

TEST_F(AbuseResponderTest, RevokesTheTokensGrantWhenTheOperatorTurnedItOn) {
  static std::string grant;
  grant = grant_;
  AbuseActions on;
  on.revoke_on_token_ips = true;
  respond(on, [](AbuseDetector& d, int64_t now) {
    d.note_token_use("jti", "app", grant, "u1", "192.0.2.1", now);
  });
  EXPECT_TRUE(store_->find_grant(grant_)->revoked_at.has_value());
  EXPECT_EQ(store_->find_client("app")->suspended_at, 0);  // the app itself is not suspended
  auto types = event_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "grant_suspended"), types.end());
}

TEST_F(AbuseResponderTest, AFindingAboutAnUnknownAppIsOnlyAnEvent) {
  AbuseActions on;
  on.suspend_on_secret_guessing = true;
  respond(on,
          [](AbuseDetector& d, int64_t now) { d.note_invalid_client("192.0.2.1", "nope", now); });
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_secret_guessing"});
  EXPECT_TRUE(store_->app_warnings("nope", 10)->empty());
}

}  // namespace
}  // namespace stagepass
