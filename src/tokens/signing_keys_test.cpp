#include "tokens/signing_keys.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "store/sqlite/sqlite_store.hpp"
#include "tokens/access_token.hpp"

namespace stagepass {
namespace {

// A running accounts node's keys (SigningKeys on one SqliteStore) while `stagepass admin keys
// rotate` writes the same file through a second connection, as the CLI does from its own
// process; time from a manual clock.
class SigningKeysTest : public ::testing::Test {
 protected:
  SigningKeysTest()
      : dir_(std::filesystem::temp_directory_path() / ("sp-keys-" + random_.id22())),
        server_store_(path(), 1),
        cli_store_(path(), 1) {}
  ~SigningKeysTest() override { std::filesystem::remove_all(dir_); }
  std::string path() {
    std::filesystem::create_directories(dir_);
    return (dir_ / "db.sqlite").string();
  }
  std::unique_ptr<SigningKeys> start(int64_t rotation_period = 0) {
    return std::make_unique<SigningKeys>(server_store_, master_, random_, clock_,
                                         SigningKeys::Settings{kPolicy, rotation_period});
  }
  std::string token(const Keyring& keys) {
    const int64_t now = clock_.now();
    return mint_access_token(keys, {"iss", "u", "aud", "c", "", now, now + 100, "j", "g"});
  }
  bool verifies(const Keyring& keys, const std::string& token) {
    return verify_access_token(keys, token, {"iss", "aud", clock_.now(), 10}).ok();
  }
  bool published(const std::string& kid) {
    auto ring = keys_->current();
    return ring->jwks_json(clock_.now()).find("\"" + kid + "\"") != std::string::npos;
  }

  // Tokens live 100 s with 10 s of skew; the JWKS is cached 30 s.
  static constexpr KeyPolicy kPolicy{110, 30};
  SystemRandom random_;
  ManualClock clock_{1'700'000'000};
  const Secret master_{std::string(32, 'm')};
  std::filesystem::path dir_;
  sqlite::SqliteStore server_store_;
  sqlite::SqliteStore cli_store_;
  std::unique_ptr<SigningKeys> keys_;
};

TEST_F(SigningKeysTest, TheFirstStartCreatesAKeyThatSignsAtOnce) {
  keys_ = start();
  auto stored = cli_store_.list_signing_keys();
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, (*stored)[0].kid);
  EXPECT_EQ((*stored)[0].signs_from, clock_.now());
  // A second start (a restart) reuses it.
  auto again = start();
  EXPECT_EQ(again->current()->signing_key(clock_.now()).kid, (*stored)[0].kid);
}

TEST_F(SigningKeysTest, ARotationByAnotherProcessIsPublishedThenSignsThenRetiresWithoutRestart) {
  keys_ = start();
  const std::string old_kid = keys_->current()->signing_key(clock_.now()).kid;

  auto next = rotate_signing_key(cli_store_, master_, random_, clock_.now(), 30, kPolicy);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->signs_from, clock_.now() + 30 + kKeyPickupSeconds);
  EXPECT_FALSE(published(next->kid));  // not reread yet

  auto r = keys_->refresh();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->swapped);
  EXPECT_TRUE(published(next->kid));  // published as the next key...
  EXPECT_TRUE(published(old_kid));
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, old_kid);  // ...not signing yet
  EXPECT_FALSE(keys_->refresh()->swapped);                              // nothing changed since

  // The last token of the old key, minted just before the switch.
  clock_.advance(next->signs_from - clock_.now() - 1);
  const std::string last_old = token(*keys_->current());
  clock_.advance(1);
  // At signs_from the new key signs, with no reload needed.
  const std::string first_new = token(*keys_->current());
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, next->kid);
  EXPECT_TRUE(verifies(*keys_->current(), first_new));
  // The retiring key stays published, and its tokens verify until they expire.
  clock_.advance(100 + 10 - 1);
  EXPECT_TRUE(published(old_kid));
  EXPECT_TRUE(verifies(*keys_->current(), last_old));
  clock_.advance(2);
  EXPECT_FALSE(verifies(*keys_->current(), last_old));

  // At retire_at (signs_from + lifetime + skew + max-age) it leaves the JWKS and the next
  // refresh deletes it.
  clock_.advance(next->signs_from + kPolicy.retention() - clock_.now() - 1);
  EXPECT_TRUE(published(old_kid));
  clock_.advance(1);
  EXPECT_FALSE(published(old_kid));
  r = keys_->refresh();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->deleted, 1);
  auto stored = cli_store_.list_signing_keys();
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].kid, next->kid);
}

TEST_F(SigningKeysTest, OnlyOneNextKeyWaits) {
  keys_ = start();
  ASSERT_TRUE(rotate_signing_key(cli_store_, master_, random_, clock_.now(), 30, kPolicy).ok());
  auto second = rotate_signing_key(cli_store_, master_, random_, clock_.now(), 60, kPolicy);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kConflict);
  // The store refuses it too, whatever the caller planned (two rotations at once).
  SigningKey racing{"racing", "EdDSA", "p", "s", clock_.now(), clock_.now() + 100, 0};
  auto stored = server_store_.add_next_signing_key(racing, clock_.now(), 0);
  ASSERT_FALSE(stored.ok());
  EXPECT_EQ(stored.error().code, ErrorCode::kConflict);
  EXPECT_EQ(cli_store_.list_signing_keys()->size(), 2u);
}

TEST_F(SigningKeysTest, TheScheduleRotatesFromInsideTheServer) {
  const int64_t period = 1000;
  keys_ = start(period);
  const std::string first = keys_->current()->signing_key(clock_.now()).kid;
  const int64_t lead = kPolicy.default_publish_ahead() + kKeyPickupSeconds;
  clock_.advance(period - lead - kKeyPickupSeconds - 1);  // due one tick early (key_schedule.hpp)
  auto r = keys_->refresh();
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->rotated);
  clock_.advance(1);
  r = keys_->refresh();
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->rotated);
  EXPECT_TRUE(r->swapped);
  const std::string second = r->rotated->kid;
  EXPECT_TRUE(published(second));
  EXPECT_FALSE(keys_->refresh()->rotated);  // one next key at a time
  clock_.advance(lead);                     // to period - 1
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, first);
  clock_.advance(1);  // the first key has signed for exactly one period
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, second);
}

TEST_F(SigningKeysTest, AKeySealedUnderAnotherMasterKeyLeavesTheCurrentKeysInForce) {
  keys_ = start();
  auto before = keys_->current();
  ASSERT_TRUE(rotate_signing_key(cli_store_, Secret(std::string(32, 'x')), random_, clock_.now(),
                                 30, kPolicy)
                  .ok());
  auto r = keys_->refresh();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalid);
  EXPECT_EQ(keys_->current(), before);
}

// issue15-fix:keys. `admin keys rotate` plans with the CLI's own settings; the server signs
// with the new key only once it has itself published it for its own max-age, and keeps the
// retiring key published and verifying for its own retention after that, even when the
// store (another process's maintenance) deleted it at the CLI's retire_at.
TEST_F(SigningKeysTest, TheServerAppliesItsOwnPolicyToARotationPlannedWithOtherSettings) {
  keys_ = start();
  const std::string old_kid = keys_->current()->signing_key(clock_.now()).kid;
  constexpr KeyPolicy kCliPolicy{20, 5};  // the CLI's environment: max-age 5, tokens 20 s
  const int64_t t0 = clock_.now();
  auto next = rotate_signing_key(cli_store_, master_, random_, t0, 5, kCliPolicy);
  ASSERT_TRUE(next.ok()) << next.error().message;
  ASSERT_EQ(next->signs_from, t0 + 5 + kKeyPickupSeconds);
  ASSERT_TRUE(keys_->refresh()->swapped);  // picked up (published) at t0
  EXPECT_TRUE(published(next->kid));
  // The stored signs_from has come, but the server published the key only 6 s ago.
  clock_.advance(next->signs_from - clock_.now());
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, old_kid);
  // Published during second t0: for a whole max-age from t0 + 1.
  clock_.advance(t0 + 1 + kPolicy.jwks_max_age - clock_.now() - 1);
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, old_kid);
  const std::string last_old = token(*keys_->current());
  clock_.advance(1);  // published for the server's whole max-age: it signs
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, next->kid);
  // The store says the old key retired (the CLI's retire_at) and another process deletes it.
  clock_.advance(10);
  ASSERT_GT(clock_.now(), next->signs_from + kCliPolicy.retention());
  ASSERT_EQ(*cli_store_.delete_retired_signing_keys(clock_.now()), 1);
  ASSERT_TRUE(keys_->refresh().ok());
  // Published and verifying until the server's own switch + its own retention.
  const int64_t own_retire = t0 + 1 + kPolicy.jwks_max_age + kPolicy.retention();
  clock_.advance(100 - 10 - 1);  // the last old token's last second (lifetime 100, skew 10)
  EXPECT_TRUE(published(old_kid));
  EXPECT_TRUE(verifies(*keys_->current(), last_old));
  clock_.advance(own_retire - clock_.now() - 1);
  EXPECT_TRUE(published(old_kid));
  clock_.advance(1);
  EXPECT_FALSE(published(old_kid));
  ASSERT_TRUE(keys_->refresh().ok());
  EXPECT_EQ(keys_->current()->find(old_kid), nullptr);  // dropped at the next reload
}

// issue15-fix:keys. A pickup later than the key's signs_from (a slow Background tick, a node
// that was busy) never signs with a key this node did not publish first: it signs a whole
// max-age after the pickup. The same holds for a node that starts while a next key waits.
TEST_F(SigningKeysTest, ALatePickupOrARestartPublishesTheNextKeyForAWholeMaxAgeFirst) {
  keys_ = start();
  const std::string old_kid = keys_->current()->signing_key(clock_.now()).kid;
  auto next = rotate_signing_key(cli_store_, master_, random_, clock_.now(), 30, kPolicy);
  ASSERT_TRUE(next.ok());
  clock_.advance(next->signs_from + 5 - clock_.now());  // no refresh until 5 s after
  ASSERT_TRUE(keys_->refresh()->swapped);
  const int64_t picked = clock_.now();
  EXPECT_TRUE(published(next->kid));
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, old_kid);
  clock_.advance(1 + kPolicy.jwks_max_age - 1);
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, old_kid);
  clock_.advance(1);
  EXPECT_EQ(keys_->current()->signing_key(clock_.now()).kid, next->kid);
  EXPECT_EQ(clock_.now(), picked + 1 + kPolicy.jwks_max_age);

  // A node starting while a next key waits publishes it from its start.
  auto third = rotate_signing_key(cli_store_, master_, random_, clock_.now(), 30, kPolicy);
  ASSERT_TRUE(third.ok());
  clock_.advance(20);
  auto restarted = start();
  const int64_t started = clock_.now();
  clock_.advance(third->signs_from - clock_.now());
  EXPECT_EQ(restarted->current()->signing_key(clock_.now()).kid, next->kid);
  clock_.advance(started + kPolicy.jwks_max_age - clock_.now());
  EXPECT_EQ(restarted->current()->signing_key(clock_.now()).kid, next->kid);
  clock_.advance(1);
  EXPECT_EQ(restarted->current()->signing_key(clock_.now()).kid, third->kid);
}

}  // namespace
}  // namespace stagepass
