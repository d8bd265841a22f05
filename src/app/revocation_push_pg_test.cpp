// Revocation pushed over PostgreSQL (issue16:revlog), against a real server: a node LISTENing
// on the revocations channel wakes when another connection revokes, and after its listening
// session is killed it reconnects and catches up on what it missed. Timings are never
// asserted: "woke before a generous timeout" only.
// Needs STAGEPASS_TEST_POSTGRESQL (scripts/pg-test-server.sh); skipped without it. Each case
// works in a database of its own, dropped at the end.
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "app/revocation_feed.hpp"
#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_migrations.hpp"
#include "store/postgresql/pg_notify_waker.hpp"
#include "store/postgresql/pg_pool.hpp"
#include "store/postgresql/pg_revocation_log.hpp"
#include "store/postgresql/pg_schema.hpp"
#include "store/postgresql/pg_test_support.hpp"

namespace stagepass {
namespace {

using namespace std::chrono_literals;
using postgresql::PgConnection;

constexpr auto kGenerous = 30s;  // never expected to be reached

class RevocationPushPgTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = postgresql::testing::test_server_url();
    STAGEPASS_PG_SKIP_UNLESS(!url_.empty(), "STAGEPASS_TEST_POSTGRESQL");
    auto made = db_.create(url_, "sp_push_");
    ASSERT_TRUE(made.ok()) << made.error().message;
    admin_ = db_.admin.get();
    auto c = PgConnection::connect(url_, db_.name);
    ASSERT_TRUE(c.ok());
    writer_ = std::move(*c);
    ASSERT_TRUE(postgresql::migrate(*writer_, postgresql::schema_migrations(), 1).ok());
    log_ = std::make_unique<postgresql::PgRevocationLog>(url_, 1, db_.name);
    feed_ = std::make_unique<RevocationFeed>(*log_, set_, clock_, 3700, 40);
  }
  void TearDown() override {
    feed_.reset();
    log_.reset();
    writer_.reset();
  }
  // What another node's RFC 7009 revocation writes (the trigger appends the log entry).
  void revoke_token(PgConnection& c, const std::string& jti) {
    auto r = c.query(
        "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, 'c1', "
        "$2, $3)",
        {jti, std::to_string(clock_.now() + 3600), std::to_string(clock_.now())});
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  bool refused(const std::string& jti) { return set_.covers("", "c1", jti, clock_.now()); }

  std::string url_;
  postgresql::testing::TempPgDatabase db_;  // declared first: dropped after the rest closes
  PgConnection* admin_ = nullptr;
  std::unique_ptr<PgConnection> writer_;
  ManualClock clock_{100000};
  RevocationSet set_{3700, 1000};
  std::unique_ptr<postgresql::PgRevocationLog> log_;
  std::unique_ptr<RevocationFeed> feed_;
};

// One transaction revoking several tokens sends one notification, and the waiting node
// reads the log then: every token is refused.
TEST_F(RevocationPushPgTest, AListeningNodeWakesWhenAnotherConnectionRevokes) {
  postgresql::PgNotifyWaker waker(url_, db_.name);
  ASSERT_TRUE(waker.wait(kGenerous));  // connected and listening: catch up
  feed_->poll();
  std::thread other([&] {
    std::this_thread::sleep_for(200ms);
    ASSERT_TRUE(writer_->exec("BEGIN").ok());
    revoke_token(*writer_, "j1");
    revoke_token(*writer_, "j2");
    ASSERT_TRUE(writer_->exec("COMMIT").ok());
  });
  const bool woke = waker.wait(kGenerous);
  other.join();
  ASSERT_TRUE(woke);
  feed_->poll();
  EXPECT_TRUE(refused("j1"));
  EXPECT_TRUE(refused("j2"));
  // A rolled-back revocation sends nothing and appends nothing.
  ASSERT_TRUE(writer_->exec("BEGIN").ok());
  revoke_token(*writer_, "j3");
  ASSERT_TRUE(writer_->exec("ROLLBACK").ok());
  EXPECT_FALSE(waker.wait(300ms));
  feed_->poll();
  EXPECT_FALSE(refused("j3"));
}

// The server ends the listening session (a restart, a failover, pg_terminate_backend): a
// revocation committed meanwhile sends a notification nobody hears; the waker reconnects by
// itself and wakes the node, whose read catches up.
TEST_F(RevocationPushPgTest, TheListenerReconnectsAfterItsSessionIsKilledAndCatchesUp) {
  postgresql::PgNotifyWaker waker(url_, db_.name);
  ASSERT_TRUE(waker.wait(kGenerous));
  feed_->poll();
  const int pid = waker.backend_pid();
  ASSERT_GT(pid, 0);
  auto killed = admin_->query("SELECT pg_terminate_backend($1)", {std::to_string(pid)});
  ASSERT_TRUE(killed.ok()) << killed.error().message;
  revoke_token(*writer_, "missed");
  ASSERT_TRUE(waker.wait(kGenerous));
  EXPECT_EQ(waker.connects(), 2u);
  EXPECT_NE(waker.backend_pid(), pid);
  feed_->poll();
  EXPECT_TRUE(refused("missed"));
  // And it listens again.
  std::thread other([&] {
    std::this_thread::sleep_for(200ms);
    revoke_token(*writer_, "after");
  });
  const bool woke = waker.wait(kGenerous);
  other.join();
  ASSERT_TRUE(woke);
  feed_->poll();
  EXPECT_TRUE(refused("after"));
}

// A transaction that revokes three tokens sends ONE notification, whose payload is the
// highest sequence number it wrote (pg_schema.cpp, migration 2).
TEST_F(RevocationPushPgTest, OneNotificationPerTransactionCarryingItsHighestSeq) {
  const std::string conninfo = url_;
  const char* keys[] = {"dbname", "dbname", nullptr};
  const char* values[] = {conninfo.c_str(), db_.name.c_str(), nullptr};
  PGconn* listener = PQconnectdbParams(keys, values, 1);
  ASSERT_EQ(PQstatus(listener), CONNECTION_OK);
  PQclear(PQexec(listener, "LISTEN stagepass_revocations"));
  ASSERT_TRUE(writer_->exec("BEGIN").ok());
  for (const char* jti : {"a", "b", "c"}) revoke_token(*writer_, jti);
  ASSERT_TRUE(writer_->exec("COMMIT").ok());
  auto seqs = log_->revocations_after(0, 10);
  ASSERT_TRUE(seqs.ok());
  ASSERT_EQ(seqs->size(), 3u);
  // Waits for the first notification, then lets the server deliver anything else queued
  // (one more round trip): a transaction's notifications are queued together at its commit.
  std::vector<std::string> payloads;
  auto drain = [&] {
    PQconsumeInput(listener);
    while (PGnotify* n = PQnotifies(listener)) {
      payloads.push_back(n->extra);
      PQfreemem(n);
    }
  };
  const auto until = std::chrono::steady_clock::now() + kGenerous;
  while (payloads.empty() && std::chrono::steady_clock::now() < until) {
    pollfd fd{PQsocket(listener), POLLIN, 0};
    ::poll(&fd, 1, 100);
    drain();
  }
  PQclear(PQexec(listener, "SELECT 1"));
  drain();
  PQfinish(listener);
  EXPECT_EQ(payloads, std::vector<std::string>{std::to_string(seqs->back().seq)});
}

// stop() ends a wait at once, from another thread.
TEST_F(RevocationPushPgTest, StopEndsAWait) {
  postgresql::PgNotifyWaker waker(url_, db_.name);
  ASSERT_TRUE(waker.wait(kGenerous));
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    waker.stop();
  });
  EXPECT_FALSE(waker.wait(kGenerous));
  stopper.join();
}

// issue16 review: a node that starts while a revoking transaction is still open, with only a
// LATER seq committed, must apply the open one when it commits (it used to start after it).
TEST_F(RevocationPushPgTest, ANodeStartingDuringAnOpenRevocationAppliesItWhenItCommits) {
  auto other = PgConnection::connect(url_, db_.name);
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE((*other)->exec("BEGIN").ok());
  revoke_token(**other, "jti-open");    // takes seq 1, not committed yet
  revoke_token(*writer_, "jti-later");  // seq 2, committed
  feed_->poll();                        // the node starts now
  EXPECT_TRUE(feed_->loaded());
  EXPECT_TRUE(refused("jti-later"));
  EXPECT_FALSE(refused("jti-open"));
  ASSERT_TRUE((*other)->exec("COMMIT").ok());
  feed_->poll();
  EXPECT_TRUE(refused("jti-open")) << "seq 1 committed after the node started: missed";
}

// Every pooled session (the store's, the revocation reader's) carries the server-side bound
// (pg_pool.hpp, kBoundedSession), and a URL's own `options` are kept beside it.
TEST_F(RevocationPushPgTest, PooledSessionsAreBoundedOnTheServer) {
  const std::string url =
      url_ + (url_.find('?') == std::string::npos ? "?" : "&") + "options=-c%20work_mem%3D5MB";
  postgresql::PgPool pool({url, db_.name, 1});
  auto shown = pool.run([](PgConnection& c) {
    return c.query(
        "SELECT current_setting('statement_timeout'), "
        "current_setting('idle_in_transaction_session_timeout'), "
        "current_setting('client_connection_check_interval'), current_setting('work_mem')");
  });
  ASSERT_TRUE(shown.ok()) << shown.error().message;
  EXPECT_EQ(shown->text(0, 0), "1500ms");
  EXPECT_EQ(shown->text(0, 1), "2s");
  EXPECT_EQ(shown->text(0, 2), "1s");
  EXPECT_EQ(shown->text(0, 3), "5MB");
  // Migrations lift the statement bound in their own transaction only.
  ASSERT_TRUE(pool.run([](PgConnection& c) {
                    return postgresql::migrate(c, postgresql::schema_migrations(), 1);
                  })
                  .ok());
  auto after = pool.run(
      [](PgConnection& c) { return c.query("SELECT current_setting('statement_timeout')"); });
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->text(0, 0), "1500ms");
}

// issue16 review: a revoking transaction left idle (a stalled node, a partition) past the
// bound is ended by the server: its revocation never commits, so no reader has to wait for
// it longer than its lookback. (Its caller was told it failed.)
TEST_F(RevocationPushPgTest, ARevokingTransactionLeftIdlePastTheBoundNeverCommits) {
  feed_->poll();  // the node is running
  auto stalled = PgConnection::connect(url_, db_.name, postgresql::kBoundedSession);
  ASSERT_TRUE(stalled.ok());
  const int pid = (*stalled)->backend_pid();
  ASSERT_TRUE((*stalled)->exec("BEGIN").ok());
  revoke_token(**stalled, "jti-stalled");  // seq 1, open
  revoke_token(*writer_, "jti-fast");      // seq 2, committed: seq 1 is a hole
  feed_->poll();
  // The server ends the idle session (waited for, never timed: up to a generous bound).
  const auto until = std::chrono::steady_clock::now() + kGenerous;
  bool gone = false;
  while (!gone && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(200ms);
    auto r = admin_->query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1",
                           {std::to_string(pid)});
    ASSERT_TRUE(r.ok());
    gone = r->i64(0, 0) == 0;
  }
  ASSERT_TRUE(gone) << "the server did not end a session idle in transaction";
  EXPECT_FALSE((*stalled)->exec("COMMIT").ok());
  clock_.advance(41);  // past the fixture's lookback of 40 s: the hole is given up
  feed_->poll();
  EXPECT_TRUE(refused("jti-fast"));
  EXPECT_FALSE(refused("jti-stalled"));
  auto row = writer_->query("SELECT count(*) FROM revocations WHERE id = 'jti-stalled'");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->i64(0, 0), 0) << "committed after every reader gave its number up";
}

// Whatever its statements, a revoking transaction whose COMMIT comes more than 20 s after it
// took its log number is rolled back at COMMIT (pg_schema.cpp, migration 3): readers wait
// 30 s for a skipped number, so nothing commits after they stopped. The time taken is
// backdated here rather than waited for.
TEST_F(RevocationPushPgTest, ARevokingTransactionCommittingTooLateIsRolledBack) {
  feed_->poll();
  ASSERT_TRUE(writer_->exec("BEGIN").ok());
  revoke_token(*writer_, "jti-late");
  auto taken = writer_->query("SELECT current_setting('stagepass.revlog_taken')::double precision");
  ASSERT_TRUE(taken.ok()) << taken.error().message;
  const std::string backdated = std::to_string(std::stod(taken->text(0, 0)) - 21);
  ASSERT_TRUE(writer_->exec("SET LOCAL stagepass.revlog_taken = '" + backdated + "'").ok());
  auto commit = writer_->exec("COMMIT");
  EXPECT_FALSE(commit.ok());
  if (!commit.ok()) {
    EXPECT_NE(commit.error().message.find("too slow"), std::string::npos);
  }
  auto row = writer_->query("SELECT count(*) FROM revocations WHERE id = 'jti-late'");
  ASSERT_TRUE(row.ok());
  EXPECT_EQ(row->i64(0, 0), 0);
  // 19 s is in time.
  ASSERT_TRUE(writer_->exec("BEGIN").ok());
  revoke_token(*writer_, "jti-in-time");
  taken = writer_->query("SELECT current_setting('stagepass.revlog_taken')::double precision");
  ASSERT_TRUE(taken.ok());
  ASSERT_TRUE(writer_
                  ->exec("SET LOCAL stagepass.revlog_taken = '" +
                         std::to_string(std::stod(taken->text(0, 0)) - 19) + "'")
                  .ok());
  ASSERT_TRUE(writer_->exec("COMMIT").ok());
  feed_->poll();
  EXPECT_TRUE(refused("jti-in-time"));
}

// A revoking transaction that commits late but inside the lookback is still applied.
TEST_F(RevocationPushPgTest, ALateCommitInsideTheLookbackIsApplied) {
  feed_->poll();
  auto slow = PgConnection::connect(url_, db_.name, postgresql::kBoundedSession);
  ASSERT_TRUE(slow.ok());
  ASSERT_TRUE((*slow)->exec("BEGIN").ok());
  revoke_token(**slow, "jti-slow");    // seq 1, open
  revoke_token(*writer_, "jti-fast");  // seq 2, committed
  feed_->poll();
  EXPECT_TRUE(refused("jti-fast"));
  EXPECT_FALSE(refused("jti-slow"));
  clock_.advance(30);  // within the fixture's lookback of 40 s
  feed_->poll();
  ASSERT_TRUE((*slow)->exec("COMMIT").ok());
  feed_->poll();
  EXPECT_TRUE(refused("jti-slow"));
}

}  // namespace
}  // namespace stagepass
