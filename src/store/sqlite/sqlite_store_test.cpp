// What only the SQLite store promises, on a real temporary file: the cases that look inside
// the file (SQL written behind the store's back) or at its group commit. Every behaviour of the
// roles is in the store conformance suite (src/store/conformance/), which runs against SQLite
// too; client secrets' upgrade and row bounds are in sqlite_client_secrets_test.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/random.hpp"
#include "store/refresh_family_test_keys.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/temp_store_test_support.hpp"
#include "store/write_batches.hpp"

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

// A flush of many grants' "last used" times goes to the writer in slices: in the order the
// grants' rows are stored (created), so that a slice shares pages instead of touching as many
// as it has rows. Every use stays, with its time; a grant that is not there goes last. One
// slice or less is left as it is (one transaction either way).
TEST_F(SqliteStoreTest, GrantUsageIsPutInTheOrderTheGrantsAreStored) {
  const int n = static_cast<int>(kRowsPerWrite) + 72;    // more than one slice
  std::vector<std::pair<std::string, int64_t>> created;  // g1 first (SetUp)
  created.emplace_back("g1", 1);
  for (int i = 0; i < n; ++i) {
    // Ids that do not sort as they were created (zz-200, zy-199, ...): the rowid is the order
    const std::string id =
        std::string{"z"} + static_cast<char>('z' - i % 26) + "-" + std::to_string(n - i);
    ASSERT_TRUE(store_
                    ->record_consent("u1", "c-" + std::to_string(i), ScopeSet::parse("streaming"),
                                     id, 200 + i)
                    .ok());
    created.emplace_back(id, 1000 + i);
  }
  std::vector<std::pair<std::string, int64_t>> uses(created.rbegin(), created.rend());
  uses.insert(uses.begin() + 7, {"no-such-grant", 6});
  store_->order_grant_usage(uses);
  auto expected = created;
  expected.emplace_back("no-such-grant", 6);
  EXPECT_EQ(uses, expected);

  std::vector<std::pair<std::string, int64_t>> few{{"zz-" + std::to_string(n), 5}, {"g1", 7}};
  const auto given = few;
  store_->order_grant_usage(few);
  EXPECT_EQ(few, given);
  ASSERT_TRUE(store_->record_grant_usage(uses).ok());
  EXPECT_EQ(*store_->find_grant(created.back().first)->last_used_at, created.back().second);
}

// ---- issue17:family: one row per refresh-token chain

class SqliteFamilyTest : public SqliteStoreTest {
 protected:
  // A token of chain `chain`, keyed as TokenIssuer keys family-shaped tokens.
  static std::string key(char chain, int n, char variant = 't') {
    return test_family_key(chain, n, variant);
  }
  static RefreshPolicy rotation(std::string next, int64_t now, int64_t grace = 0) {
    RefreshPolicy p;
    p.client_id = "c1";
    p.now = now;
    p.grace_seconds = grace;
    p.successor_hash = std::move(next);
    p.idle_ttl = 900;
    return p;
  }
  // Starts chain `chain` with token 0 through a code's redemption, as the server does.
  void issue(char chain) {
    const std::string code = std::string("code-") + chain;
    ASSERT_TRUE(store_
                    ->save_code({code,
                                 "g1",
                                 "c1",
                                 "u1",
                                 "https://app/cb",
                                 ScopeSet::parse("streaming"),
                                 "",
                                 160,
                                 {}})
                    .ok());
    CodePolicy p;
    p.client_id = "c1";
    p.redirect_uri = "https://app/cb";
    p.now = 100;
    p.refresh_hash = key(chain, 0);
    p.refresh_ttl = 900;
    p.refresh_idle_ttl = 900;
    ASSERT_EQ(store_->redeem_code(code, p)->outcome, RedeemOutcome::kRedeemed);
  }
  // The first column of `sql`'s first row, `param` bound to its one parameter if given.
  int64_t count(const std::string& sql, std::optional<std::string> param = std::nullopt) {
    Connection db(store_.path());
    auto s = db.prepare(sql.c_str());
    if (param) s.bind(1, *param);
    s.step();
    return s.i64(0);
  }
};

// A chain keeps one row however often it is rotated, and no per-token row.
TEST_F(SqliteFamilyTest, AChainIsOneRowRewrittenByEveryRotation) {
  issue('f');
  for (int n = 0; n < 9; ++n) {
    ASSERT_EQ(
        store_->rotate_refresh_token(key('f', n), rotation(key('f', n + 1), 110 + n))->outcome,
        RotateOutcome::kRotated);
  }
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families"), 1);
  EXPECT_EQ(count("SELECT count(*) FROM refresh_tokens"), 0);
  // The token digest is stored, never the family's secret part or the value.
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families WHERE hash = ? AND prev_hash IS NOT NULL",
                  std::string(42, 't') + "9"),
            1);
}

// Only holders of a chain's tokens know its family, so a digest the chain never had, of an
// earlier generation than its current one, came from one of them: reuse, like any spent
// token of the chain. Of the current generation it may be a token this store never issued
// (restored from a backup older than it): unknown, nothing revoked.
TEST_F(SqliteFamilyTest, AMadeUpDigestIsReuseOnlyBelowTheCurrentGeneration) {
  issue('f');
  ASSERT_EQ(store_->rotate_refresh_token(key('f', 0), rotation(key('f', 1), 110))->outcome,
            RotateOutcome::kRotated);
  auto unknown = store_->rotate_refresh_token(key('f', 1, 'x'), rotation(key('f', 2), 111));
  EXPECT_EQ(unknown->outcome, RotateOutcome::kNotFound);
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
  auto r = store_->rotate_refresh_token(key('f', 0, 'x'), rotation(key('f', 1), 112));
  EXPECT_EQ(r->outcome, RotateOutcome::kReuseRevoked);
  EXPECT_EQ(r->token.user_id, "u1");
  EXPECT_TRUE(store_->find_grant("g1")->revoked_at.has_value());
}

// The generation counter never wraps: the chain ends at the last one.
TEST_F(SqliteFamilyTest, AChainEndsAtTheLastGeneration) {
  issue('f');
  const std::string family = "00060a24181e4001" + std::string(43, 'f');
  const std::string last = family + ":ffffffff" + std::string(43, 'L');
  {
    Connection db(store_.path());
    db.prepare("UPDATE refresh_families SET generation = 4294967295, hash = ?")
        .bind(1, std::string_view(last).substr(last.size() - 43))
        .run();
  }
  ASSERT_TRUE(store_->find_refresh_token(last).ok());
  auto r = store_->rotate_refresh_token(last,
                                        rotation(family + ":00000000" + std::string(43, 'M'), 110));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->outcome, RotateOutcome::kRefused);
  EXPECT_EQ(r->refusal, RefreshRefusal::kExpired);
  EXPECT_FALSE(store_->find_refresh_token(last)->rotated_at.has_value());
  EXPECT_FALSE(store_->find_grant("g1")->revoked_at.has_value());
}

// The store keeps a chain in its row: a successor of another family, or not of the next
// generation, is a caller's bug, and nothing is written.
TEST_F(SqliteFamilyTest, ASuccessorOfAnotherFamilyIsRefused) {
  issue('f');
  auto r = store_->rotate_refresh_token(key('f', 0), rotation(key('g', 1), 110));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  auto other_shape = store_->rotate_refresh_token(key('f', 0), rotation("r1", 110));
  ASSERT_FALSE(other_shape.ok());
  auto skipped = store_->rotate_refresh_token(key('f', 0), rotation(key('f', 2), 110));
  ASSERT_FALSE(skipped.ok());
  EXPECT_EQ(skipped.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(store_->rotate_refresh_token(key('f', 0), rotation(key('f', 1), 110))->outcome,
            RotateOutcome::kRotated);
}

// The sweep deletes a chain once its current token is past its idle end and its last rotation
// is past the reuse window, and not before.
TEST_F(SqliteFamilyTest, TheSweepDeletesAChainOnlyWhenItCanNoLongerBeUsedOrReused) {
  issue('f');  // idle end 1000
  issue('g');
  ASSERT_EQ(store_->rotate_refresh_token(key('g', 0), rotation(key('g', 1), 500))->outcome,
            RotateOutcome::kRotated);  // idle end 1000 (the chain's end), rotated at 500
  auto swept = store_->sweep_refresh_tokens(1000, 0, 500);  // idle ends are not before 1000
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->expired, 0);
  EXPECT_TRUE(swept->wrapped);
  EXPECT_EQ(store_->sweep_refresh_tokens(1001, 500, 500)->expired, 1);  // f; g rotated at 500
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families"), 1);
  EXPECT_EQ(store_->sweep_refresh_tokens(1001, 501, 500)->expired, 1);
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families"), 0);
}

// A sweep round reads both tables to their ends in `limit`-sized steps, each once, and says
// `wrapped` only on the step that finishes the round.
TEST_F(SqliteFamilyTest, ASweepRoundCoversBothTablesOnce) {
  for (char c : {'a', 'b', 'c', 'd', 'e'}) issue(c);
  {
    Connection db(store_.path());  // three per-token rows, of the older key shapes
    for (const char* h : {"r1", "r2", "r3"}) {
      db.prepare(
            "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
            "expires_at, idle_expires_at) VALUES (?, 'g1', 'c1', 'u1', 'streaming', 100, 1000, "
            "1000)")
          .bind(1, std::string_view(h))
          .run();
    }
  }
  int steps = 0;
  int64_t expired = 0;
  for (;;) {
    auto step = store_->sweep_refresh_tokens(1001, 0, 2);
    ASSERT_TRUE(step.ok());
    ++steps;
    expired += step->expired;
    if (step->wrapped) break;
    ASSERT_LT(steps, 10);
  }
  EXPECT_EQ(expired, 8);
  EXPECT_EQ(steps, 3);  // families 2+2+1 beside tokens 2+1 (then done)
}

// A sweep step that finds nothing due in its ranges costs the writer nothing: the ranges are
// read on a reader, so a large store where nothing is due yet is swept without holding the
// group commits of the grants (issue 17: the mixed row's tail grew with the store).
TEST_F(SqliteFamilyTest, ASweepStepWithNothingDueDoesNotWrite) {
  for (char c : {'a', 'b', 'c'}) issue(c);  // idle ends 1000
  {
    Connection db(store_.path());  // per-token rows of the older key shapes, neither due yet:
    db.exec(                       // one never rotated (idle end 1000), one rotated at 500
        "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
        "expires_at, idle_expires_at, rotated_at) VALUES "
        "('r1', 'g1', 'c1', 'u1', 'streaming', 100, 1000, 1000, NULL), "
        "('r2', 'g1', 'c1', 'u1', 'streaming', 100, 1000, 1000, 500)");
  }
  const auto before = store_->group_stats();
  int steps = 0;
  for (;;) {
    auto step = store_->sweep_refresh_tokens(1000, 500, 2);  // nothing before 1000, or 500
    ASSERT_TRUE(step.ok());
    EXPECT_EQ(step->expired, 0);
    EXPECT_EQ(step->rotated, 0);
    ++steps;
    if (step->wrapped) break;
    ASSERT_LT(steps, 10);
  }
  EXPECT_EQ(steps, 2);  // families 2+1 beside tokens 2 (then done)
  EXPECT_EQ(store_->group_stats().writes, before.writes);
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families"), 3);
  EXPECT_EQ(count("SELECT count(*) FROM refresh_tokens"), 2);
  // Once due, the same sweep deletes them (through the writer).
  int64_t expired = 0, rotated = 0;
  for (steps = 0;; ++steps) {
    auto step = store_->sweep_refresh_tokens(1001, 501, 2);
    ASSERT_TRUE(step.ok());
    expired += step->expired;
    rotated += step->rotated;
    if (step->wrapped) break;
    ASSERT_LT(steps, 10);
  }
  EXPECT_EQ(expired, 4);  // three chains and r1
  EXPECT_EQ(rotated, 1);  // r2
  EXPECT_EQ(count("SELECT count(*) FROM refresh_tokens"), 0);
  EXPECT_GT(store_->group_stats().writes, before.writes);
  EXPECT_EQ(count("SELECT count(*) FROM refresh_families"), 0);
}

// A server and an `admin` command started together on a new file (the server's first open
// made it, in WAL mode): each migrates, and neither runs a migration the other applied ("table
// ... already exists"). Connections of their own on threads of their own, as two processes
// would have.
TEST(SqliteMigrationTest, MigratingTogetherAppliesEachMigrationOnce) {
  const auto dir = std::filesystem::temp_directory_path() / ("sp-migrate-" + SystemRandom().id22());
  std::filesystem::create_directories(dir);
  for (int round = 0; round < 5; ++round) {
    const std::string path = (dir / ("db" + std::to_string(round) + ".sqlite")).string();
    { Connection made(path); }
    std::vector<std::string> errors(4);
    std::vector<std::thread> openers;
    for (size_t i = 0; i < errors.size(); ++i) {
      openers.emplace_back([&, i] {
        try {
          Connection db(path);
          migrate(db);
        } catch (const std::exception& e) {
          errors[i] = e.what();
        }
      });
    }
    for (auto& t : openers) t.join();
    for (const auto& e : errors) EXPECT_EQ(e, "") << "round " << round;
    Connection db(path);
    auto version = db.prepare("PRAGMA user_version");
    ASSERT_TRUE(version.step());
    EXPECT_EQ(static_cast<size_t>(version.i64(0)), migration_index("-- no such marker"));
  }
  std::filesystem::remove_all(dir);
}

// An existing deployment upgrades: a refresh token stored before families (a row of its own,
// time-shaped key) still rotates, into a token of its own shape, and its spent self is reuse.
TEST(SqliteFamilyUpgradeTest, ATokenStoredBeforeFamiliesStillRotates) {
  const auto dir = std::filesystem::temp_directory_path() / ("sp-upgrade-" + SystemRandom().id22());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "db.sqlite").string();
  const std::string old_key = "00060a24181e4001." + std::string(43, 'o');
  const std::string next_key = "00060a24181e4002." + std::string(43, 'n');
  {
    Connection db(path);
    migrate(db, migration_index("-- issue17:family"));
    db.exec(
        "INSERT INTO users (id, email, display_name, password_hash, country, product, "
        "created_at) VALUES ('u1', 'a@x.test', 'A', 'h', 'SE', 'premium', 1)");
    db.exec(
        "INSERT INTO clients (id, name, is_public, redirect_uris, allowed_scopes, web_origins, "
        "created_at) VALUES ('c1', 'App', 0, 'https://app/cb', 'streaming', '', 1)");
    db.exec(
        "INSERT INTO grants (id, user_id, client_id, scope, created_at) "
        "VALUES ('g1', 'u1', 'c1', 'streaming', 100)");
    db.prepare(
          "INSERT INTO refresh_tokens (hash, grant_id, client_id, user_id, scope, created_at, "
          "expires_at, idle_expires_at) VALUES (?, 'g1', 'c1', 'u1', 'streaming', 100, 1000, "
          "1000)")
        .bind(1, old_key)
        .run();
  }
  {
    SqliteStore store(path, 1);
    RefreshPolicy p;
    p.client_id = "c1";
    p.now = 110;
    p.successor_hash = next_key;
    p.idle_ttl = 900;
    EXPECT_EQ(store.rotate_refresh_token(old_key, p)->outcome, RotateOutcome::kRotated);
    EXPECT_FALSE(store.find_refresh_token(next_key)->rotated_at.has_value());
    p.now = 120;
    p.successor_hash = "00060a24181e4003." + std::string(43, 'm');
    EXPECT_EQ(store.rotate_refresh_token(old_key, p)->outcome, RotateOutcome::kReuseRevoked);
    EXPECT_TRUE(store.find_grant("g1")->revoked_at.has_value());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace stagepass::sqlite
