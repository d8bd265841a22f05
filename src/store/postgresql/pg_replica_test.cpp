// STAGEPASS_DATABASE_REPLICA against a real hot standby (scripts/pg-test-server.sh run
// --standby): the history reads (security log, audit export, usage charts) are served by the
// replica, everything else by the primary, and a replica that cannot answer is skipped.
// Which server answered is shown by pausing the standby's replay: what the primary wrote
// since then is missing from the replica's answers only.
// Needs STAGEPASS_TEST_POSTGRESQL and STAGEPASS_TEST_POSTGRESQL_REPLICA; skipped without them.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_store.hpp"
#include "store/postgresql/pg_test_support.hpp"

namespace stagepass::postgresql {
namespace {

using std::chrono::milliseconds;

class PgReplicaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    primary_ = testing::test_server_url();
    replica_ = testing::test_replica_url();
    STAGEPASS_PG_SKIP_UNLESS(!primary_.empty() && !replica_.empty(),
                             "STAGEPASS_TEST_POSTGRESQL and STAGEPASS_TEST_POSTGRESQL_REPLICA "
                             "(run --standby)");
    auto made = db_.create(primary_, "sp_replica_");
    ASSERT_TRUE(made.ok()) << made.error().message;
    admin_ = db_.admin.get();
  }
  void TearDown() override {
    store_.reset();
    if (standby_) (void)standby_->exec("SELECT pg_wal_replay_resume()");
    standby_.reset();
  }
  std::unique_ptr<PgStore> open_store(const std::string& replica_url) {
    auto store = std::make_unique<PgStore>(
        PgStore::Options{primary_, db_.name, 4, milliseconds(2000), replica_url});
    auto opened = store->open(1'700'000'000);
    EXPECT_TRUE(opened.ok()) << opened.error().message;
    return store;
  }
  // Waits (bounded) until the standby has replayed everything the primary wrote so far.
  bool replayed() {
    if (!standby_) {
      auto s = PgConnection::connect(replica_);
      if (!s) return false;
      standby_ = std::move(*s);
    }
    auto lsn = admin_->query("SELECT pg_current_wal_lsn()::text");
    if (!lsn) return false;
    for (int i = 0; i < 1000; ++i) {
      auto r = standby_->query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", {lsn->text(0, 0)});
      if (r && r->text(0, 0) == "t") return true;
      std::this_thread::sleep_for(milliseconds(10));
    }
    return false;
  }
  std::vector<std::string> types_in_log(const std::string& user_id) {
    std::vector<std::string> out;
    auto events = store_->user_events(user_id, 0, 10);
    EXPECT_TRUE(events.ok()) << events.error().message;
    if (events.ok()) {
      for (const auto& e : *events) out.push_back(e.type);
    }
    return out;
  }

  std::string primary_, replica_;
  testing::TempPgDatabase db_;  // declared before the store: dropped after it closes
  PgConnection* admin_ = nullptr;
  std::unique_ptr<PgConnection> standby_;
  std::unique_ptr<PgStore> store_;
};

TEST_F(PgReplicaTest, HistoryReadsGoToTheReplicaAndDecisionsToThePrimary) {
  store_ = open_store(replica_);
  ASSERT_TRUE(store_->record_event({0, 100, "sign_in", "ada", "", "", "", ""}).ok());
  ASSERT_TRUE(replayed());
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"sign_in"}));

  ASSERT_TRUE(standby_->exec("SELECT pg_wal_replay_pause()").ok());
  ASSERT_TRUE(store_->record_event({0, 200, "app_removed", "ada", "", "", "", ""}).ok());
  const User ada{"ada", "ada@example.com", "Ada", "x", "SE", "free", 1, 1};
  ASSERT_TRUE(store_->create_user(ada).ok());
  // A decision reads the primary: the person exists at once ...
  auto found = store_->find_user("ada");
  ASSERT_TRUE(found.ok()) << found.error().message;
  // ... while the security log, served by the paused replica, does not show the new event.
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"sign_in"}));
  // The audit export too.
  auto all = store_->events_since(0, 10);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);

  ASSERT_TRUE(standby_->exec("SELECT pg_wal_replay_resume()").ok());
  ASSERT_TRUE(replayed());
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"app_removed", "sign_in"}));
}

TEST_F(PgReplicaTest, AReplicaThatCannotAnswerIsSkippedAndThePrimaryAnswers) {
  // Nothing listens on port 1 of the loopback: connecting is refused at once.
  store_ = open_store("postgresql://stagepass@127.0.0.1:1/stagepass");
  ASSERT_TRUE(store_->record_event({0, 100, "sign_in", "ada", "", "", "", ""}).ok());
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"sign_in"}));
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"sign_in"}));  // while backing off
}

TEST_F(PgReplicaTest, WithoutAReplicaEverythingReadsThePrimary) {
  store_ = open_store("");
  ASSERT_TRUE(store_->record_event({0, 100, "sign_in", "ada", "", "", "", ""}).ok());
  EXPECT_EQ(types_in_log("ada"), (std::vector<std::string>{"sign_in"}));
}

}  // namespace
}  // namespace stagepass::postgresql
