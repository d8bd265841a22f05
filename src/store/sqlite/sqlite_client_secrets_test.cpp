// Client secrets in the SQLite store (issue15:secrets), on a real temporary file: what only
// SQLite shows - the upgrade that moves today's secret hashes into their own table, the rows
// a rotation, a reset and a deletion leave, the client cache's version, and the bound on
// tracked IPs counted in rows. Rotation, hard cuts and last-use figures as every backend
// keeps them are in the store conformance suite (conformance/secrets_conformance_test.cpp).
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/random.hpp"
#include "store/sqlite/change_signal.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace stagepass::sqlite {
namespace {

class ClientSecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sp-secrets-" + SystemRandom().id22());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string path() const { return (dir_ / "db.sqlite").string(); }
  void open() {
    store_ = std::make_unique<SqliteStore>(path(), 2);
    Client c;
    c.id = "c1";
    c.name = "App";
    c.secret_hash = "h1";
    c.redirect_uris = {"https://app/cb"};
    c.created_at = 50;
    ASSERT_TRUE(store_->create_client(c).ok());
  }
  // One number from the file, read over a connection of its own.
  int64_t count(const char* sql) {
    Connection db(path());
    auto s = db.prepare(sql);
    return s.step() ? s.i64(0) : -1;
  }
  std::vector<std::pair<std::string, int64_t>> secrets_of(const std::string& id) {
    std::vector<std::pair<std::string, int64_t>> out;
    auto client = store_->find_client(id);
    EXPECT_TRUE(client.ok()) << id;
    if (!client) return out;
    for (const auto& s : client->secrets) out.emplace_back(s.hash, s.expires_at);
    return out;
  }
  using Pairs = std::vector<std::pair<std::string, int64_t>>;

  std::filesystem::path dir_;
  std::unique_ptr<SqliteStore> store_;
};

// An existing deployment upgrades: every confidential client keeps its one secret, now in
// client_secrets, and the old column keeps no copy.
TEST_F(ClientSecretsTest, TheUpgradeMovesTodaysSecretHashesIntoTheirOwnTable) {
  {
    Connection db(path());
    migrate(db, migration_index("-- issue15:secrets"));
    db.exec(
        "INSERT INTO clients (id, name, is_public, secret_hash, redirect_uris, allowed_scopes, "
        "web_origins, created_at) VALUES "
        "('conf', 'Conf', 0, 'old-hash', 'https://a/cb', 'streaming', '', 10), "
        "('pub', 'Pub', 1, NULL, 'https://a/cb', 'streaming', '', 11)");
  }
  store_ = std::make_unique<SqliteStore>(path(), 1);
  auto conf = store_->find_client("conf");
  ASSERT_TRUE(conf.ok());
  EXPECT_EQ(conf->secret_hash, "old-hash");
  ASSERT_EQ(conf->secrets.size(), 1u);
  EXPECT_EQ(conf->secrets[0].expires_at, 0);
  EXPECT_EQ(conf->secrets[0].created_at, 10);
  EXPECT_TRUE(store_->find_client("pub")->secrets.empty());
  EXPECT_EQ(count("SELECT COUNT(*) FROM clients WHERE secret_hash IS NOT NULL"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secrets"), 1);
}

// The node's client cache (find_client) sees a rotation made through another connection (the
// admin CLI is another process) on the next lookup, and last-use writes do not empty it.
TEST_F(ClientSecretsTest, TheClientCacheSeesARotationFromAnotherProcessAtOnce) {
  open();
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h1", 0}}));  // cached now
  {
    SqliteStore other(path(), 1);
    ASSERT_TRUE(other.rotate_client_secret("c1", "h2", 100, 60).ok());
  }
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"h2", 0}, {"h1", 160}}));
  const int64_t version = count("SELECT v FROM clients_version");
  const int64_t id = store_->find_client("c1")->secrets[0].id;
  ASSERT_TRUE(store_->record_secret_usage({{id, "10.0.0.1", 120}}, 120).ok());
  EXPECT_EQ(count("SELECT v FROM clients_version"), version);
}

// The change signal: a process that commits a client change writes a new random value to a
// file beside the database that every process reads, so a cached client is served without a
// read transaction until then, and a suspension made by another process (the admin CLI) is
// seen on the next lookup.
TEST_F(ClientSecretsTest, AnotherProcessesSuspensionMovesTheSharedSignalAndIsSeenAtOnce) {
  open();
  ChangeSignal observer(path());
  ASSERT_TRUE(observer.available());
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);  // cached now
  const uint64_t before = observer.load();
  {
    SqliteStore other(path(), 1);
    ASSERT_TRUE(other.set_client_suspension("c1", 500, "abuse").ok());
  }
  EXPECT_NE(observer.load(), before);
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 500);
  // Writes that leave clients alone (a session, a last-use figure) do not move it.
  const uint64_t settled = observer.load();
  const int64_t id = store_->find_client("c1")->secrets[0].id;
  ASSERT_TRUE(store_->record_secret_usage({{id, "10.0.0.1", 120}}, 120).ok());
  EXPECT_EQ(observer.load(), settled);
}

// A program that writes the file without the signal (sqlite3 by hand) is seen within the
// cache's version check (one second), not never.
TEST_F(ClientSecretsTest, AChangeMadeWithoutTheSignalIsSeenWithinTheVersionCheck) {
  open();
  EXPECT_EQ(store_->find_client("c1")->name, "App");
  {
    Connection db(path());
    db.exec("UPDATE clients SET name = 'Renamed' WHERE id = 'c1'");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(store_->find_client("c1")->name, "Renamed");
}

// No signal (its file cannot be made: a directory is in the way) and the cache reads the
// database's version on every lookup, as before the signal.
TEST_F(ClientSecretsTest, WithoutTheSignalEveryLookupChecksTheVersion) {
  std::filesystem::create_directories(path() + "-changes");
  EXPECT_FALSE(ChangeSignal(path()).available());
  EXPECT_FALSE(ChangeSignal(":memory:").available());
  open();
  EXPECT_EQ(store_->find_client("c1")->name, "App");
  {
    Connection db(path());
    db.exec("UPDATE clients SET name = 'Renamed' WHERE id = 'c1'");
  }
  EXPECT_EQ(store_->find_client("c1")->name, "Renamed");
}

// The review's cases: a file cut short, the database opened through a symbolic link, the
// file deleted under a running server, a database in a directory that does not exist yet.
TEST_F(ClientSecretsTest, ACutShortSignalFileIsReadAsNoSignalNotACrash) {
  open();
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  ASSERT_TRUE(store_->find_client_in_memory("c1").has_value());
  std::filesystem::resize_file(path() + "-changes", 3);
  // Read as no signal: nothing from memory; the next lookup reads the database and writes a
  // new value, under which it caches, so the memory serves again.
  EXPECT_FALSE(store_->find_client_in_memory("c1").has_value());
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  EXPECT_EQ(std::filesystem::file_size(path() + "-changes"), 8u);
  EXPECT_TRUE(store_->find_client_in_memory("c1").has_value());
  // Zeroed (truncate -s 8 of a file cut to nothing): the same.
  std::filesystem::resize_file(path() + "-changes", 0);
  std::filesystem::resize_file(path() + "-changes", 8);
  EXPECT_FALSE(store_->find_client_in_memory("c1").has_value());
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  EXPECT_TRUE(store_->find_client_in_memory("c1").has_value());
  std::filesystem::resize_file(path() + "-changes", 0);
  {
    SqliteStore other(path(), 1);
    ASSERT_TRUE(other.set_client_suspension("c1", 500, "abuse").ok());
  }
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 500);
}

TEST_F(ClientSecretsTest, ADatabaseOpenedThroughASymlinkSharesTheSignal) {
  open();
  const std::string link = (dir_ / "link.sqlite").string();
  std::filesystem::create_symlink(path(), link);
  store_.reset();
  store_ = std::make_unique<SqliteStore>(link, 2);
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);  // cached now
  {
    SqliteStore other(path(), 1);
    ASSERT_TRUE(other.set_client_suspension("c1", 500, "abuse").ok());
  }
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 500);
}

TEST_F(ClientSecretsTest, ADeletedSignalFileIsReopenedWithinTheVersionCheck) {
  open();
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 0);
  std::filesystem::remove(path() + "-changes");
  {
    SqliteStore other(path(), 1);  // makes a new file
    ASSERT_TRUE(other.set_client_suspension("c1", 400, "first").ok());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 400);  // the version check, and reopened
  {
    SqliteStore other(path(), 1);
    ASSERT_TRUE(other.set_client_suspension("c1", 600, "second").ok());
  }
  EXPECT_EQ(store_->find_client("c1")->suspended_at, 600);  // through the new file, at once
}

TEST_F(ClientSecretsTest, ADatabaseInANewDirectoryHasItsSignal) {
  const std::string nested = (dir_ / "new" / "dir" / "db.sqlite").string();
  SqliteStore store(nested, 1);
  EXPECT_TRUE(std::filesystem::is_regular_file(nested + "-changes"));
  EXPECT_TRUE(ChangeSignal(nested).available());
  EXPECT_NE(ChangeSignal(nested).load(), 0u);
}

TEST_F(ClientSecretsTest, ASignalFileOthersMayWriteIsNotTrusted) {
  const std::string db = path();
  {
    std::ofstream f(db + "-changes");
    f << "12345678";
  }
  std::filesystem::permissions(db + "-changes", std::filesystem::perms::group_write,
                               std::filesystem::perm_options::add);
  EXPECT_FALSE(ChangeSignal(db).available());
  open();  // and the store still answers, the slow way
  EXPECT_EQ(store_->find_client("c1")->name, "App");
}

// A secret used from a great many addresses holds at most kMaxTrackedIpsPerSecret rows (the
// figure then means "at least"); addresses not seen for a day give their place back.
TEST_F(ClientSecretsTest, TrackedIpsPerSecretAreBounded) {
  open();
  const int64_t id = store_->find_client("c1")->secrets[0].id;
  const int64_t cap = ClientStore::kMaxTrackedIpsPerSecret;
  std::vector<ClientSecretUse> uses;
  for (int64_t i = 0; i < cap + 50; ++i) uses.push_back({id, "10.1." + std::to_string(i), 100});
  ASSERT_TRUE(store_->record_secret_usage(uses, 100).ok());
  EXPECT_EQ(store_->list_live_secrets("c1", 100)->at(0).distinct_ips_last_day, cap);
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secret_ips"), cap);
  const int64_t next_day = 100 + 86400;
  ASSERT_TRUE(store_->record_secret_usage({{id, "192.0.2.1", next_day}}, next_day).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secret_ips"), 1);
  EXPECT_EQ(store_->list_live_secrets("c1", next_day)->at(0).distinct_ips_last_day, 1);
}

TEST_F(ClientSecretsTest, AResetReplacesEverySecretAndDeletionRemovesThem) {
  open();
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h2", 100, 3600).ok());
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h2b", 150, 3600).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secrets"), 2);  // at most two live
  ASSERT_TRUE(store_->set_client_secret_hash("c1", "demo").ok());
  EXPECT_EQ(secrets_of("c1"), (Pairs{{"demo", 0}}));
  EXPECT_EQ(store_->set_client_secret_hash("nope", "x").error().code, ErrorCode::kNotFound);
  const int64_t id = store_->find_client("c1")->secrets[0].id;
  ASSERT_TRUE(store_->record_secret_usage({{id, "10.0.0.1", 120}}, 120).ok());
  ASSERT_TRUE(store_->rotate_client_secret("c1", "h3", 130, 0).ok());
  ASSERT_TRUE(store_->delete_client("c1", 200).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secrets"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secret_ips"), 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_token_cuts"), 0);
}

// issue15-fix:secret-ids. The secret a hard cut makes never takes the id of the one it
// deleted, so the leaked secret's pending last use (flushed in batches, by id) never lands on
// the new one: the dashboard would say the new secret was used from the attacker's IP.
TEST_F(ClientSecretsTest, AHardCutsNewSecretGetsANewIdAndNoneOfTheOldOnesUse) {
  open();
  const int64_t leaked = store_->find_client("c1")->secrets[0].id;
  auto r = store_->rotate_client_secret("c1", "h2", 100, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->secret_id, leaked);
  // The use of the leaked secret, noted before the cut, flushed after it.
  ASSERT_TRUE(store_->record_secret_usage({{leaked, "203.0.113.9", 99}}, 105).ok());
  auto live = store_->list_live_secrets("c1", 105);
  ASSERT_TRUE(live.ok());
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].last_used_at, 0);
  EXPECT_EQ((*live)[0].distinct_ips_last_day, 0);
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secret_ips"), 0);
  // A use dated before a secret existed never counts for it (belt and braces).
  ASSERT_TRUE(store_->record_secret_usage({{r->secret_id, "198.51.100.1", 90}}, 105).ok());
  EXPECT_EQ(store_->list_live_secrets("c1", 105)->at(0).last_used_at, 0);
  ASSERT_TRUE(store_->record_secret_usage({{r->secret_id, "198.51.100.1", 101}}, 105).ok());
  EXPECT_EQ(store_->list_live_secrets("c1", 105)->at(0).last_used_at, 101);
  EXPECT_EQ(store_->list_live_secrets("c1", 105)->at(0).distinct_ips_last_day, 1);
}

// The upgrade to AUTOINCREMENT keeps every secret, its id, last use and IPs; after it, hard
// cuts in a row never hand out an id twice. (An id deleted before the upgrade may be used
// once more: nothing in memory refers to it when the upgrade runs, at startup.)
TEST_F(ClientSecretsTest, TheSecretIdUpgradeKeepsTheDataAndIdsAreNotReusedAfterIt) {
  {
    Connection db(path());
    migrate(db, migration_index("-- issue15-fix:secret-ids"));
    db.exec(
        "INSERT INTO clients (id, name, is_public, redirect_uris, allowed_scopes, web_origins, "
        "created_at) VALUES ('conf', 'Conf', 0, 'https://a/cb', 'streaming', '', 10);"
        "INSERT INTO client_secrets (id, client_id, hash, created_at, expires_at, last_used_at) "
        "VALUES (1, 'conf', 'a', 10, NULL, 40), (2, 'conf', 'b', 20, 999, NULL), "
        "(3, 'conf', 'c', 30, 999, NULL);"
        "INSERT INTO client_secret_ips VALUES (1, '10.0.0.1', 40);"
        "DELETE FROM client_secrets WHERE id = 3;");
  }
  store_ = std::make_unique<SqliteStore>(path(), 1);
  auto conf = store_->find_client("conf");
  ASSERT_TRUE(conf.ok());
  ASSERT_EQ(conf->secrets.size(), 2u);
  EXPECT_EQ(conf->secrets[0].id, 1);
  EXPECT_EQ(conf->secrets[0].hash, "a");
  EXPECT_EQ(conf->secrets[1].id, 2);
  EXPECT_EQ(store_->list_live_secrets("conf", 50)->at(0).last_used_at, 40);
  EXPECT_EQ(store_->list_live_secrets("conf", 50)->at(0).distinct_ips_last_day, 1);
  auto r = store_->rotate_client_secret("conf", "d", 60, 0);
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->secret_id, 2);
  auto again = store_->rotate_client_secret("conf", "e", 61, 0);
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->secret_id, r->secret_id);
  // The IPs still belong to the secrets table (a deletion cascades to them).
  ASSERT_TRUE(store_->delete_client("conf", 70).ok());
  EXPECT_EQ(count("SELECT COUNT(*) FROM client_secret_ips"), 0);
}

}  // namespace
}  // namespace stagepass::sqlite
