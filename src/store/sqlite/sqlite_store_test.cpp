// Behaviour of the SQLite store on a real temporary file.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "core/random.hpp"
#include "store/sqlite/connection.hpp"

namespace stagepass::sqlite {
namespace {

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sp-store-" + rng_.id22());
    store_ = std::make_unique<SqliteStore>((dir_ / "db.sqlite").string(), 2);
    ASSERT_TRUE(store_->create_user({"u1", "A@Example.com", "A", "h", "SE", "premium", 1}).ok());
    Client c{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"), {}, 1};
    ASSERT_TRUE(store_->create_client(c).ok());
    grant_ = *store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g1", 100);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // The authorization_code grant's policy for the codes of these tests (client c1, no PKCE)
  // at `now`, storing refresh token `refresh`, alive 900 s.
  static CodePolicy exchange(std::string refresh, int64_t now) {
    CodePolicy p;
    p.client_id = "c1";
    p.redirect_uri = "https://app/cb";
    p.now = now;
    p.refresh_hash = std::move(refresh);
    p.refresh_ttl = 900;
    p.refresh_idle_ttl = 900;
    return p;
  }
  // The refresh_token grant's policy: `client` rotates at `now` into `next`, with `grace`.
  static RefreshPolicy rotation(std::string next, int64_t now, int64_t grace,
                                std::string client = "c1") {
    RefreshPolicy p;
    p.client_id = std::move(client);
    p.now = now;
    p.grace_seconds = grace;
    p.successor_hash = std::move(next);
    p.idle_ttl = 900;
    return p;
  }
  // Puts refresh token `hash` in the store the way the server does: with the redemption of
  // an authorization code of grant g1. False if the store refused.
  bool issue_refresh(const std::string& hash) {
    AuthorizationCode c{"code-" + hash, grant_.id, "c1",     "u1", "https://app/cb",
                        grant_.scope,   "",        100 + 60, {}};
    if (!store_->save_code(c).ok()) return false;
    auto r = store_->redeem_code(c.hash, exchange(hash, 100));
    return r.ok() && r->outcome == RedeemOutcome::kRedeemed;
  }

  // A password change as the change-password page asks for it.
  PasswordChange change(std::string hash, int64_t expected, bool revoke_grants = false,
                        std::optional<Session> session = std::nullopt) {
    return {"u1", std::move(hash), expected, std::move(session), revoke_grants, 500};
  }

  SystemRandom rng_;
  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
  Grant grant_;
};

TEST_F(SqliteStoreTest, EmailLookupIgnoresCaseAndRejectsDuplicates) {
  EXPECT_EQ(store_->find_user_by_email("a@example.COM")->id, "u1");
  auto dup = store_->create_user({"u2", "a@example.com", "B", "h", "SE", "premium", 1});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
}

TEST_F(SqliteStoreTest, ConsentWidensTheActiveGrant) {
  auto g = store_->record_consent("u1", "c1", ScopeSet::parse("user-read-email"), "g2", 200);
  EXPECT_EQ(g->id, "g1");
  EXPECT_EQ(g->scope.str(), "streaming user-read-email");
}

TEST_F(SqliteStoreTest, CodeReplayRevokesTheGrant) {
  ASSERT_TRUE(store_
                  ->save_code({"k", "g1", "c1", "u1", "https://app/cb", grant_.scope, "", 500,
                               std::nullopt})
                  .ok());
  auto first = store_->redeem_code("k", exchange("r1", 101));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->outcome, RedeemOutcome::kRedeemed);
  EXPECT_EQ(first->code.used_at, 101);
  EXPECT_EQ(store_->find_refresh_token("r1")->grant_id, "g1");  // stored with the redemption
  auto again = store_->redeem_code("k", exchange("r2", 102));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->outcome, RedeemOutcome::kReplayed);
  EXPECT_EQ(again->code.user_id, "u1");  // for the audit event
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_FALSE(store_->find_refresh_token("r2").ok());
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 103, 0))->outcome,
            RotateOutcome::kNotFound);
}

TEST_F(SqliteStoreTest, ARefusedCodeIsNeitherSpentNorAReplay) {
  ASSERT_TRUE(store_
                  ->save_code({"k", "g1", "c1", "u1", "https://app/cb", grant_.scope, "ch", 500,
                               std::nullopt})
                  .ok());
  // The code's challenge is "ch"; the policy carries the S256 of the verifier presented.
  CodePolicy wrong = exchange("r0", 101);
  wrong.verifier_s256 = "not-ch";
  auto refused = store_->redeem_code("k", wrong);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->outcome, RedeemOutcome::kRefused);
  EXPECT_EQ(refused->refusal, CodeRefusal::kVerifierMismatch);
  EXPECT_EQ(refused->code.code_challenge, "ch");  // the code and grant as the write read them
  EXPECT_EQ(refused->grant.id, "g1");
  EXPECT_FALSE(store_->find_refresh_token("r0").ok());
  // Whoever saw the code and presented it wrongly spent nothing: the holder still redeems it.
  CodePolicy right = exchange("r1", 102);
  right.verifier_s256 = "ch";
  auto redeemed = store_->redeem_code("k", right);
  ASSERT_TRUE(redeemed.ok());
  EXPECT_EQ(redeemed->outcome, RedeemOutcome::kRedeemed);
  auto r1 = store_->find_refresh_token("r1");
  ASSERT_TRUE(r1.ok());
  EXPECT_EQ(r1->expires_at, 102 + 900);  // the policy's lifetimes
  // A wrong presentation of a used code revokes nothing either.
  EXPECT_EQ(store_->redeem_code("k", wrong)->outcome, RedeemOutcome::kRefused);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
}

TEST_F(SqliteStoreTest, RotationDetectsReuseOutsideGrace) {
  ASSERT_TRUE(issue_refresh("r1"));
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 5))->outcome,
            RotateOutcome::kRotated);
  // Inside the grace window, by its own client, first retry: a new successor, the earlier
  // one is superseded.
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 112, 5))->outcome,
            RotateOutcome::kReuseGrace);
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(store_->find_refresh_token("r3")->revoked);
  // Outside: the grant and every token of it are revoked, and the reuse names its person.
  auto reused = store_->rotate_refresh_token("r1", rotation("r4", 120, 5));
  EXPECT_EQ(reused->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(reused->token.user_id, "u1");
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
  EXPECT_EQ(store_->rotate_refresh_token("r3", rotation("r5", 121, 5))->outcome,
            RotateOutcome::kNotFound);
}

TEST_F(SqliteStoreTest, ASupersededSuccessorPresentedAgainIsReuse) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  // Someone else replays r1 inside the window and gets r3; r2 is superseded.
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kReuseGrace);
  // The holder of r2 presents it: two parties hold the chain, the grant dies with r3.
  EXPECT_EQ(store_->rotate_refresh_token("r2", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_F(SqliteStoreTest, GraceAllowsOneRetryPerRotation) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kReuseGrace);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_F(SqliteStoreTest, GraceNeverAppliesOnceTheSuccessorWasUsed) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  ASSERT_EQ(store_->rotate_refresh_token("r2", rotation("r3", 111, 10))->outcome,
            RotateOutcome::kRotated);
  // r1 again: the chain moved on, so this is not a lost response but a second holder.
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r4", 112, 10))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r3")->revoked);
}

TEST_F(SqliteStoreTest, ASpentTokenFromAnotherClientIsReuseNotARefusal) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 10))->outcome,
            RotateOutcome::kRotated);
  // Inside the window, but presented by another client: reuse, not a refusal.
  auto reused = store_->rotate_refresh_token("r1", rotation("r3", 111, 10, "other"));
  EXPECT_EQ(reused->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(reused->token.client_id, "c1");  // whose token it was, for the audit event
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
  EXPECT_FALSE(store_->find_refresh_token("r3").ok());
}

TEST_F(SqliteStoreTest, RotationShowsTheTokenAndGrantAndARefusalWritesNothing) {
  ASSERT_TRUE(issue_refresh("r1"));
  // Asking for a scope the token does not hold is a refusal by the policy.
  const auto wider = [](RefreshPolicy p) {
    p.requested_scope = ScopeSet::parse("streaming user-top-read");
    return p;
  };
  auto refused = store_->rotate_refresh_token("r1", wider(rotation("rx", 110, 5)));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->outcome, RotateOutcome::kRefused);
  EXPECT_EQ(refused->refusal, RefreshRefusal::kScopeExceeded);
  EXPECT_EQ(refused->token.user_id, "u1");
  EXPECT_EQ(refused->token.expires_at, 1000);
  EXPECT_EQ(refused->grant.id, "g1");
  EXPECT_EQ(refused->grant.created_at, 100);
  // Not spent: it still rotates, and with no grace a second use is a reuse.
  EXPECT_FALSE(store_->find_refresh_token("r1")->rotated_at.has_value());
  EXPECT_FALSE(store_->find_refresh_token("rx").ok());
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 111, 0))->outcome,
            RotateOutcome::kRotated);
  auto r2 = store_->find_refresh_token("r2");  // the successor keeps the chain's end
  EXPECT_EQ(r2->expires_at, 1000);
  EXPECT_EQ(r2->idle_expires_at, 1000);
  EXPECT_EQ(store_->rotate_refresh_token("r2", wider(rotation("r3", 112, 0)))->outcome,
            RotateOutcome::kRefused);
  EXPECT_EQ(store_->rotate_refresh_token("r9", wider(rotation("r3", 112, 0)))->outcome,
            RotateOutcome::kNotFound);
}

TEST_F(SqliteStoreTest, NoGraceMeansAnyReuseRevokesEvenWithinTheSameSecond) {
  ASSERT_TRUE(issue_refresh("r1"));
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 110, 0))->outcome,
            RotateOutcome::kRotated);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r3", 110, 0))->outcome,
            RotateOutcome::kReuseRevoked);
  EXPECT_TRUE(store_->find_refresh_token("r2")->revoked);
}

TEST_F(SqliteStoreTest, RefreshTokenOfRevokedGrantIsNotStored) {
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  EXPECT_FALSE(issue_refresh("r1"));
  EXPECT_FALSE(store_->find_refresh_token("r1").ok());
  // A new consent after revocation starts a fresh grant.
  auto g = store_->record_consent("u1", "c1", ScopeSet::parse("streaming"), "g9", 160);
  EXPECT_EQ(g->id, "g9");
}

TEST_F(SqliteStoreTest, UnusedCodeOfARevokedGrantIsRefused) {
  AuthorizationCode c{"c1", "g1", "c1", "u1", "https://app/cb", grant_.scope, "", 1000, {}};
  ASSERT_TRUE(store_->save_code(c).ok());
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  auto used = store_->redeem_code("c1", exchange("r1", 151));
  ASSERT_TRUE(used.ok());
  EXPECT_EQ(used->outcome, RedeemOutcome::kNotFound);
  EXPECT_FALSE(store_->find_refresh_token("r1").ok());
}

TEST_F(SqliteStoreTest, TokensOfARevokedGrantReadAsRevokedAndDoNotRotate) {
  ASSERT_TRUE(issue_refresh("r1"));
  ASSERT_TRUE(store_->revoke_grant("g1", 150).ok());
  EXPECT_TRUE(store_->find_refresh_token("r1")->revoked);
  EXPECT_EQ(store_->rotate_refresh_token("r1", rotation("r2", 151, 10))->outcome,
            RotateOutcome::kNotFound);
}

// Revocation reports whether it changed anything, so that the revocation endpoint writes one
// audit event per revocation, not one per request (a loop must not bury a person's log).
TEST_F(SqliteStoreTest, RevokingAGrantAgainReportsNoChange) {
  EXPECT_TRUE(*store_->revoke_grant("g1", 150));
  EXPECT_FALSE(*store_->revoke_grant("g1", 151));
  EXPECT_EQ(*store_->find_grant("g1")->revoked_at, 150);  // the first revocation stands
  EXPECT_FALSE(*store_->revoke_grant("no-such-grant", 152));
}

TEST_F(SqliteStoreTest, RevokingAnAccessTokenAgainReportsNoChange) {
  EXPECT_TRUE(*store_->revoke_access_token("j1", "c1", 1000, 150));
  EXPECT_FALSE(*store_->revoke_access_token("j1", "c1", 1000, 151));
  EXPECT_TRUE(*store_->revoke_access_token("j2", "c1", 1000, 152));
  auto since = store_->revoked_tokens_since(0);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(since->size(), 2u);
}

// A token the endpoint still accepts after its expiry (within the retention) keeps its row:
// revoking it again, even after other revocations purged the store, is still no change.
TEST_F(SqliteStoreTest, AnExpiredRevokedTokenWithinTheRetentionIsStillKnown) {
  const int64_t exp = 1000;
  EXPECT_TRUE(*store_->revoke_access_token("j1", "c1", exp, exp + 10));
  EXPECT_TRUE(*store_->revoke_access_token("j2", "c1", exp, exp + 20));  // purges expired rows
  EXPECT_FALSE(*store_->revoke_access_token("j1", "c1", exp, exp + 30));
  // Past the retention the row goes (the endpoint no longer accepts such a token).
  const int64_t later = exp + GrantStore::kRevokedTokenRetention + 1;
  EXPECT_TRUE(*store_->revoke_access_token("j3", "c1", later + 1000, later));
  auto since = store_->revoked_tokens_since(0);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].id, "j3");
}

// The client cache: a change made through other connections (another process: `stagepass
// admin`) is seen by the next lookup.
TEST_F(SqliteStoreTest, ClientChangesFromAnotherConnectionAreSeenAtOnce) {
  ASSERT_EQ(store_->find_client("c1")->secret_hash, "hash");  // now cached
  {
    SqliteStore other((dir_ / "db.sqlite").string(), 1);
    ASSERT_TRUE(other.set_client_secret_hash("c1", "rotated").ok());
  }
  EXPECT_EQ(store_->find_client("c1")->secret_hash, "rotated");
  {
    SqliteStore other((dir_ / "db.sqlite").string(), 1);
    ASSERT_TRUE(other.delete_client("c1", 200).ok());
  }
  auto gone = store_->find_client("c1");
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ErrorCode::kNotFound);
}

// issue15:abuse. A suspension is part of the client (seen through the cache at once), feeds
// the revocation log while it lasts, and is lifted without a trace in the log.
TEST_F(SqliteStoreTest, ASuspensionIsSeenAtOnceAndFeedsTheRevocationLogWhileItLasts) {
  ASSERT_EQ(store_->find_client("c1")->suspended_at, 0);  // now cached
  {
    SqliteStore other((dir_ / "db.sqlite").string(), 1);  // the admin CLI
    ASSERT_TRUE(other.set_client_suspension("c1", 500, "terms review").ok());
  }
  auto c = store_->find_client("c1");
  EXPECT_EQ(c->suspended_at, 500);
  EXPECT_EQ(c->suspended_reason, "terms review");
  auto since = store_->suspended_clients_since(400);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0], (std::pair<std::string, int64_t>{"c1", 500}));
  EXPECT_TRUE(store_->suspended_clients_since(501)->empty());
  ASSERT_TRUE(store_->set_client_suspension("c1", 0, "ignored").ok());
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  EXPECT_EQ(store_->find_client("c1")->suspended_reason, "");
  EXPECT_TRUE(store_->suspended_clients_since(0)->empty());
  EXPECT_EQ(store_->set_client_suspension("nope", 1, "").error().code, ErrorCode::kNotFound);
}

TEST_F(SqliteStoreTest, UsageBucketsAreReplacedKeptAndDroppedWhenOld) {
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1000, "a"}, {"c1", 3600, 600, "b"}}, 2000, 1500).ok());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1000, "a2"}}, 2000, 1500).ok());  // replaced
  auto rows = store_->load_usage(0);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 2u);
  auto bucket = std::find_if(rows->begin(), rows->end(), [](auto& r) { return r.span == 60; });
  EXPECT_EQ(bucket->data, "a2");
  ASSERT_TRUE(store_->save_usage({}, 2600, 1500).ok());  // both start before 2600 - 1500
  rows = store_->load_usage(0);
  ASSERT_EQ(rows->size(), 0u);
}

TEST_F(SqliteStoreTest, AppWarningsAreListedPerAppNewestFirst) {
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 10, "abuse_burst", "first"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c2", 11, "abuse_burst", "other app"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 12, "client_suspended", "second"}).ok());
  auto w = store_->app_warnings("c1", 10);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[0].detail, "second");
  EXPECT_EQ((*w)[1].type, "abuse_burst");
  EXPECT_EQ(store_->app_warnings("c1", 1)->size(), 1u);
}

// issue15-fix:abuse: a flood of findings cannot grow an app's warnings without bound, and a
// client id that names no app stores nothing.
TEST_F(SqliteStoreTest, AppWarningsAreBoundedPerAppAndOnlyForExistingApps) {
  for (int i = 0; i < UsageStore::kMaxWarningsPerApp + 30; ++i) {
    ASSERT_TRUE(store_->record_app_warning({0, "c1", i, "abuse_secret_guessing", "x"}).ok());
  }
  auto w = store_->app_warnings("c1", 1000);
  ASSERT_EQ(w->size(), static_cast<size_t>(UsageStore::kMaxWarningsPerApp));
  EXPECT_EQ((*w)[0].at, UsageStore::kMaxWarningsPerApp + 29);  // the newest kept
  EXPECT_EQ(w->back().at, 30);
  ASSERT_TRUE(store_->record_app_warning({0, "no-such-app", 1, "abuse_burst", "x"}).ok());
  EXPECT_TRUE(store_->app_warnings("no-such-app", 10)->empty());
}

// issue15-fix:abuse: deleting an app deletes its usage and warnings; a save racing the
// deletion does not bring its buckets back.
TEST_F(SqliteStoreTest, DeletingAnAppDeletesItsUsageAndWarnings) {
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1020, "a"}, {"c2", 60, 1020, "b"}}, 2000, 1500).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c1", 10, "abuse_burst", "w"}).ok());
  ASSERT_TRUE(store_->record_app_warning({0, "c2", 10, "abuse_burst", "w"}).ok());
  ASSERT_EQ(store_->load_app_usage("c1", 0)->size(), 1u);
  ASSERT_TRUE(store_->delete_client("c1", 3000).ok());
  EXPECT_TRUE(store_->load_app_usage("c1", 0)->empty());
  EXPECT_TRUE(store_->app_warnings("c1", 10)->empty());
  ASSERT_TRUE(store_->save_usage({{"c1", 60, 1080, "late"}}, 2000, 1500).ok());
  auto rows = store_->load_usage(0);
  ASSERT_EQ(rows->size(), 1u);  // c2's only
  EXPECT_EQ((*rows)[0].client_id, "c2");
  EXPECT_EQ(store_->app_warnings("c2", 10)->size(), 1u);
  EXPECT_TRUE(store_->load_app_usage("c2", 1021)->empty());  // since
}

TEST_F(SqliteStoreTest, SessionsKeepTheirLastUseAndEndAtTheirAbsoluteEnd) {
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

TEST_F(SqliteStoreTest, EndingSessionsKeepsOnlyTheOneAsked) {
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
TEST_F(SqliteStoreTest, ASignInThatCheckedTheOldPasswordCreatesNoSessionAfterAChange) {
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
TEST_F(SqliteStoreTest, ASignInThatBeganBeforeSignOutEverywhereCreatesNoSession) {
  auto read_at_sign_in = store_->find_user("u1");
  ASSERT_TRUE(read_at_sign_in.ok());
  ASSERT_TRUE(store_->create_session({"kept", "u1", 100, 1000, 100, 0}).ok());
  ASSERT_TRUE(store_->delete_user_sessions("u1", "kept").ok());
  Session late{"late", "u1", 100, 1000, 100, read_at_sign_in->credential_generation};
  EXPECT_FALSE(store_->create_session(late).ok());
  EXPECT_FALSE(store_->find_session("late", 101).ok());
  EXPECT_TRUE(store_->find_session("kept", 101).ok());
}

// A session of an older generation is refused even if it was written (e.g. by an older
// server process during an upgrade): find_session compares it with the person's.
TEST_F(SqliteStoreTest, FindSessionRefusesASessionOfAnOlderGeneration) {
  ASSERT_TRUE(store_->create_session({"s1", "u1", 100, 1000, 100, 0}).ok());
  ASSERT_TRUE(store_->find_session("s1", 101).ok());
  {
    // The person's credentials move on behind the session's back (no store method leaves a
    // session of an older generation behind).
    Connection db((dir_ / "db.sqlite").string());
    db.exec("UPDATE users SET credential_generation = credential_generation + 1 WHERE id = 'u1'");
  }
  EXPECT_FALSE(store_->find_session("s1", 101).ok());
}

// The same race on the change-password form: someone holding a stolen session and the old
// password keeps a change in flight (checked against the old password, hashing the new one);
// meanwhile the owner changes the password or signs out everywhere. The late change must
// write nothing: it would hand the account to whoever started it.
TEST_F(SqliteStoreTest, APasswordChangeThatCheckedTheOldPasswordLosesToALaterChange) {
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

// A password change that removes every app is ONE write: the hash and the generation move,
// every session ends, this browser's new session begins, every grant of the person (and so
// their refresh tokens) is revoked and shows in the revocation log; nobody else's is touched.
TEST_F(SqliteStoreTest, APasswordChangeEndsSessionsAndRevokesEveryGrantInOneWrite) {
  ASSERT_TRUE(issue_refresh("r1"));
  Client c2{"c2", "Other", false, "hash", {"https://o/cb"}, ScopeSet::parse("streaming"), {}, 1};
  ASSERT_TRUE(store_->create_client(c2).ok());
  ASSERT_TRUE(store_->record_consent("u1", "c2", ScopeSet::parse("streaming"), "g2", 100).ok());
  ASSERT_TRUE(store_->create_user({"u2", "b@example.com", "B", "h", "SE", "premium", 1}).ok());
  ASSERT_TRUE(store_->record_consent("u2", "c1", ScopeSet::parse("streaming"), "g3", 100).ok());
  for (const char* h : {"s1", "s2"}) ASSERT_TRUE(store_->create_session({h, "u1", 100, 1000}).ok());
  ASSERT_TRUE(store_->create_session({"other", "u2", 100, 1000}).ok());
  const auto writes_before = store_->group_stats().writes;

  Session fresh{"fresh", "someone-else", 400, 2000, 400, 42};  // person and generation: the store's
  auto done = store_->change_password(change("new-hash", 0, true, fresh));

  ASSERT_TRUE(done.ok()) << done.error().message;
  EXPECT_EQ(store_->group_stats().writes - writes_before, 1u);
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
TEST_F(SqliteStoreTest, APasswordChangeKeepsTheAppsUnlessAsked) {
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
TEST_F(SqliteStoreTest, APasswordChangeThatFailsPartWayWritesNothing) {
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

// ---- issue15:devmode: development mode and the allowlist

TEST_F(SqliteStoreTest, AnAppIsInExtendedModeUntilSetOtherwise) {
  EXPECT_FALSE(store_->find_client("c1")->development);
  ASSERT_TRUE(store_->set_client_mode("c1", true).ok());
  EXPECT_TRUE(store_->find_client("c1")->development);  // the cached copy is dropped
  EXPECT_TRUE(store_->list_clients()->front().development);
  EXPECT_EQ(store_->set_client_mode("nope", true).error().code, ErrorCode::kNotFound);
}

// The count and the insert are one write: the list never holds more than the limit, and
// adding someone listed already changes nothing (and takes no place).
TEST_F(SqliteStoreTest, TheAllowlistHoldsAtMostItsLimit) {
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
TEST_F(SqliteStoreTest, RemovingAPersonFromTheAllowlistRevokesTheirGrant) {
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
TEST_F(SqliteStoreTest, ExchangeAndRotationReadTheAllowlistWhenAsked) {
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
TEST_F(SqliteStoreTest, DeletingTheAppEmptiesItsAllowlist) {
  ASSERT_TRUE(*store_->add_to_allowlist("c1", "u1", 25, 10));
  ASSERT_TRUE(store_->delete_client("c1", 20).ok());
  Client again{"c1", "App", false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"),
               {},   30};
  ASSERT_TRUE(store_->create_client(again).ok());
  EXPECT_TRUE(store_->list_allowlist("c1")->empty());
}

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  ASSERT_TRUE(issue_refresh("r1"));
  store_ = std::make_unique<SqliteStore>((dir_ / "db.sqlite").string(), 1);
  EXPECT_EQ(store_->find_refresh_token("r1")->grant_id, "g1");
}

// issue15:dashboard - apps owned on the developer dashboard.
Client owned_app(std::string id, std::string owner, int64_t at = 5) {
  Client c{id, "App " + id, false, "hash", {"https://app/cb"}, ScopeSet::parse("streaming"),
           {}, at};
  c.owner_id = std::move(owner);
  c.description = "about ";
  c.description += id;
  return c;
}

TEST_F(SqliteStoreTest, OwnedAppsAreListedForTheirOwnerOnly) {
  ASSERT_TRUE(store_->create_owned_client(owned_app("a2", "u1"), 25).ok());
  ASSERT_TRUE(store_->create_owned_client(owned_app("a1", "u1"), 25).ok());
  ASSERT_TRUE(store_->create_owned_client(owned_app("b1", "u2"), 25).ok());
  auto mine = store_->list_owned_clients("u1");
  ASSERT_TRUE(mine.ok());
  ASSERT_EQ(mine->size(), 2u);
  EXPECT_EQ((*mine)[0].id, "a2");  // the order they were created in
  EXPECT_EQ((*mine)[1].id, "a1");
  EXPECT_EQ((*mine)[0].owner_id, "u1");
  EXPECT_EQ((*mine)[0].description, "about a2");
  // An operator's app (c1, no owner) is nobody's, even asked for with an empty owner.
  EXPECT_TRUE(store_->list_owned_clients("")->empty());
  EXPECT_EQ(store_->find_client("c1")->owner_id, "");
  EXPECT_FALSE(store_->create_owned_client(owned_app("x", ""), 25).ok());
}

TEST_F(SqliteStoreTest, TheAppLimitIsCountedInTheWrite) {
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(store_->create_owned_client(owned_app("a" + std::to_string(i), "u1"), 3).ok());
  auto fourth = store_->create_owned_client(owned_app("a3", "u1"), 3);
  ASSERT_FALSE(fourth.ok());
  EXPECT_EQ(fourth.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->find_client("a3").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->create_owned_client(owned_app("b0", "u2"), 3).ok());  // per owner
  auto taken = store_->create_owned_client(owned_app("b0", "u2"), 3);
  EXPECT_EQ(taken.error().code, ErrorCode::kConflict);
  ASSERT_TRUE(store_->delete_client("a0", 10).ok());
  EXPECT_TRUE(store_->create_owned_client(owned_app("a3", "u1"), 3).ok());
}

TEST_F(SqliteStoreTest, ParallelCreatesStopAtTheLimit) {
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      if (store_->create_owned_client(owned_app("p" + std::to_string(i), "u1"), 5).ok()) ++created;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(created.load(), 5);
  EXPECT_EQ(store_->list_owned_clients("u1")->size(), 5u);
}

TEST_F(SqliteStoreTest, OnlyTheOwnerUpdatesWhatAnOwnerMayEdit) {
  ASSERT_TRUE(store_->create_owned_client(owned_app("a1", "u1"), 25).ok());
  Client edit = *store_->find_client("a1");
  edit.name = "Renamed";
  edit.description = "new words";
  edit.redirect_uris = {"http://127.0.0.1/cb", "https://b/cb"};
  edit.web_origins = {"https://b"};
  edit.allowed_scopes = ScopeSet::parse("user-read-email user-top-read");
  edit.secret_hash = "other";  // not something an owner edits
  edit.is_public = true;
  Client thief = edit;
  thief.owner_id = "u2";
  thief.name = "Stolen";
  EXPECT_EQ(store_->update_owned_client(thief).error().code, ErrorCode::kNotFound);
  Client nobody = edit;
  nobody.owner_id = "";
  EXPECT_EQ(store_->update_owned_client(nobody).error().code, ErrorCode::kNotFound);
  ASSERT_TRUE(store_->update_owned_client(edit).ok());
  Client now = *store_->find_client("a1");  // through the cache: the update bumped its version
  EXPECT_EQ(now.name, "Renamed");
  EXPECT_EQ(now.description, "new words");
  EXPECT_EQ(now.redirect_uris, edit.redirect_uris);
  EXPECT_EQ(now.web_origins, edit.web_origins);
  EXPECT_EQ(now.allowed_scopes.str(), "user-read-email user-top-read");
  EXPECT_EQ(now.secret_hash, "hash");
  EXPECT_FALSE(now.is_public);
  EXPECT_EQ(now.owner_id, "u1");
  // An operator's app is never updated as someone's.
  Client op = *store_->find_client("c1");
  op.owner_id = "u1";
  EXPECT_EQ(store_->update_owned_client(op).error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace stagepass::sqlite
