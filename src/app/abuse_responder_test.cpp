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

TEST_F(AbuseResponderTest, SuspendsTheAppOnRefreshReuseWhenTheOperatorTurnedItOn) {
  AbuseActions on;
  on.suspend_on_refresh_reuse = true;
  on.suspend_on_burst = true;
  respond(on, guess);  // secret guessing: never a suspension, whatever is on
  EXPECT_EQ(store_->find_client("app")->suspended_at, 0);
  respond(on, [](AbuseDetector& d, int64_t now) {
    for (int i = 0; i < 3; ++i) d.note_refresh_reuse("app", "u1", now);
  });
  auto c = store_->find_client("app");
  EXPECT_EQ(c->suspended_at, clock_.now());
  EXPECT_NE(c->suspended_reason.find("abuse_refresh_reuse"), std::string::npos);
  EXPECT_EQ(event_types(), (std::vector<std::string>{"abuse_secret_guessing", "abuse_refresh_reuse",
                                                     "client_suspended"}));
  EXPECT_EQ(announced_, 1);  // this node's revocation set refreshed at once
  EXPECT_EQ(store_->app_warnings("app", 10)->size(), 3u);
}

// issue15-fix:abuse: the client id of a secret guess is public; sending wrong secrets under it
// must not get the app suspended, whatever the operator turned on.
TEST_F(AbuseResponderTest, SecretGuessingNeverSuspendsTheAppItNames) {
  AbuseActions all;
  all.suspend_on_refresh_reuse = all.suspend_on_burst = all.revoke_on_token_ips = true;
  respond(all, guess);
  EXPECT_EQ(store_->find_client("app")->suspended_at, 0);
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_secret_guessing"});
  EXPECT_EQ(announced_, 0);
  EXPECT_FALSE(store_->find_grant(grant_)->revoked_at.has_value());
}

// issue15-fix:burst: a burst from one or two grants (one person's tokens) is only a warning; a
// burst spread over several grants suspends the app when the operator turned that on.
TEST_F(AbuseResponderTest, ABurstSuspendsOnlyWhenSpreadOverSeveralGrants) {
  AbuseActions on;
  on.suspend_on_burst = true;
  static AppUsage* usage = nullptr;
  static int grants = 0;
  auto burst = [](AbuseDetector& d, int64_t now) {
    for (int i = 0; i < 1000; ++i) {
      usage->note("app", EndpointGroup::kSearch, 200, "u1", "g" + std::to_string(i % grants));
    }
    usage->fold(now - 61);
    d.check_bursts(*usage, now);
  };
  AppUsage one;
  usage = &one;
  grants = 1;
  respond(on, burst);
  EXPECT_EQ(store_->find_client("app")->suspended_at, 0);
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_burst"});
  EXPECT_EQ(store_->app_warnings("app", 10)->size(), 1u);  // the owner hears of it
  clock_.advance(7200);                                    // another period: recorded again
  AppUsage spread;
  usage = &spread;
  grants = 4;
  respond(on, burst);
  EXPECT_EQ(store_->find_client("app")->suspended_at, clock_.now());
}

// Any user of a public app holds its refresh tokens and can act as it: no automatic suspension.
TEST_F(AbuseResponderTest, APublicAppIsNeverSuspendedAutomatically) {
  Client pub{"pub", "Pub", true, "", {"https://a/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(pub).ok());
  AbuseActions on;
  on.suspend_on_refresh_reuse = true;
  respond(on, [](AbuseDetector& d, int64_t now) {
    for (int i = 0; i < 3; ++i) d.note_refresh_reuse("pub", "u1", now);
  });
  EXPECT_EQ(store_->find_client("pub")->suspended_at, 0);
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_refresh_reuse"});
  EXPECT_EQ(store_->app_warnings("pub", 10)->size(), 1u);  // the owner still hears of it
}

// One warning and at most two events per app and type per period, however many sources.
TEST_F(AbuseResponderTest, FindingsAboutOneAppAreCoalescedPerPeriod) {
  AbuseSettings s;
  s.invalid_client = {1, 600};
  AbuseDetector detector(s);
  AbuseActions actions;
  actions.coalesce_seconds = 3600;
  AbuseResponder responder(
      detector, *store_, *store_, revoker_, audit_, [] {}, clock_, actions);
  for (int i = 0; i < 50; ++i) {
    std::string ip = "192.0.2.";
    detector.note_invalid_client(ip.append(std::to_string(i)), "app", clock_.now());
  }
  EXPECT_EQ(responder.run(), 50u);
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_secret_guessing"});
  EXPECT_EQ(store_->app_warnings("app", 100)->size(), 1u);
  clock_.advance(3600);
  responder.run();  // the period ends: one event counts the rest
  auto events = store_->events_since(0, 100);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].client_id, "app");
  EXPECT_NE((*events)[1].detail.find("49 more abuse_secret_guessing"), std::string::npos);
  // A new period records again.
  detector.note_invalid_client("198.51.100.1", "app", clock_.now());
  responder.run();
  EXPECT_EQ(store_->app_warnings("app", 100)->size(), 2u);
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
  // A revocation, recorded as one (issue15-fix:revoke): grant_revoked with the reason abuse.
  auto events = store_->events_since(0, 100);
  auto revoked = std::find_if(events->begin(), events->end(),
                              [](const AuditEvent& e) { return e.type == "grant_revoked"; });
  ASSERT_NE(revoked, events->end());
  EXPECT_EQ(revoked->client_id, "app");
  EXPECT_EQ(revoked->detail.rfind("reason: abuse", 0), 0u) << revoked->detail;
  for (const auto& e : *events) EXPECT_NE(e.type, "grant_suspended");
}

// issue15-fix:abuse: the id a guesser presented is its own text: no app of that id, so the
// event names no client (and a long or non-UTF-8 id never reaches the store cut in half).
TEST_F(AbuseResponderTest, AFindingAboutAnUnknownAppIsOnlyAnEventWithoutItsId) {
  respond(AbuseActions{},
          [](AbuseDetector& d, int64_t now) { d.note_invalid_client("192.0.2.1", "nope", now); });
  EXPECT_EQ(event_types(), std::vector<std::string>{"abuse_secret_guessing"});
  auto events = store_->events_since(0, 100);
  EXPECT_EQ((*events)[0].client_id, "");
  EXPECT_EQ((*events)[0].ip, "192.0.2.1");
  EXPECT_TRUE(store_->app_warnings("nope", 10)->empty());
}

}  // namespace
}  // namespace stagepass
