// The PostgreSQL store's foundation against a real server: statements with parameters, error
// mapping, the bounded pool (waits, transactions, recovery from a lost connection) and
// migrations run once when several nodes start together.
// Needs STAGEPASS_TEST_POSTGRESQL (scripts/pg-test-server.sh); skipped without it. Each case
// works in a database of its own, dropped at the end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "store/postgresql/pg_connection.hpp"
#include "store/postgresql/pg_migrations.hpp"
#include "store/postgresql/pg_pool.hpp"
#include "store/postgresql/pg_test_support.hpp"

namespace stagepass::postgresql {
namespace {

class PgFoundationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::test_server_url();
    STAGEPASS_PG_SKIP_UNLESS(!url_.empty(), "STAGEPASS_TEST_POSTGRESQL");
    auto made = db_.create(url_, "sp_test_");
    ASSERT_TRUE(made.ok()) << made.error().message;
    admin_ = db_.admin.get();
  }
  std::unique_ptr<PgConnection> connect() {
    auto c = PgConnection::connect(url_, db_.name);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }
  int64_t number(const std::string& sql) {
    auto c = connect();
    auto r = c->query(sql);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() && r->rows() > 0 ? r->i64(0, 0) : -1;
  }
  PgPool::Options pool_options(int size, std::chrono::milliseconds timeout) {
    return {url_, db_.name, size, timeout};
  }

  std::string url_;
  testing::TempPgDatabase db_;
  PgConnection* admin_ = nullptr;
};

TEST_F(PgFoundationTest, ParametersTravelApartFromTheSqlAndNullIsNull) {
  auto c = connect();
  ASSERT_TRUE(c->exec("CREATE TABLE t (id text PRIMARY KEY, v text)").ok());
  const std::string hostile = "x'); DROP TABLE t; --";
  ASSERT_TRUE(c->prepared("ins", "INSERT INTO t (id, v) VALUES ($1, $2)", {hostile, {}}).ok());
  ASSERT_TRUE(c->prepared("ins", "INSERT INTO t (id, v) VALUES ($1, $2)", {"b", "2"}).ok());
  auto r = c->query("SELECT id, v FROM t ORDER BY id DESC");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rows(), 2);
  EXPECT_EQ(r->text(0, 0), hostile);
  EXPECT_TRUE(r->is_null(0, 1));
  EXPECT_EQ(r->i64(1, 1), 2);
  EXPECT_EQ(c->query("UPDATE t SET v = 'x'")->affected(), 2);
}

TEST_F(PgFoundationTest, ADuplicateKeyIsAConflictAndOtherFailuresAreIo) {
  auto c = connect();
  ASSERT_TRUE(c->exec("CREATE TABLE t (id text PRIMARY KEY)").ok());
  ASSERT_TRUE(c->query("INSERT INTO t VALUES ($1)", {"a"}).ok());
  auto dup = c->query("INSERT INTO t VALUES ($1)", {"a"});
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code, ErrorCode::kConflict);
  auto bad = c->query("SELECT * FROM no_such_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kIo);
  auto refused = PgConnection::connect(url_, "no_such_database_here");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kIo);
}

// Eight nodes start at once on an empty database: the list is applied exactly once.
TEST_F(PgFoundationTest, MigrationsRunOnceWhenManyNodesStartTogether) {
  const std::vector<std::string_view> migrations = {
      "CREATE TABLE a (id integer PRIMARY KEY); INSERT INTO a VALUES (1)",
      "CREATE TABLE b (id integer PRIMARY KEY)",
      "INSERT INTO b VALUES (1); INSERT INTO a VALUES (2)",
  };
  constexpr int kNodes = 8;
  std::vector<std::unique_ptr<PgConnection>> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back(connect());
  std::atomic<int> applied{0}, failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      auto n = migrate(*nodes[i], migrations, 1000 + i);
      if (n.ok()) {
        applied += *n;
      } else {
        ++failed;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(applied.load(), 3);
  EXPECT_EQ(number("SELECT COUNT(*) FROM schema_migrations"), 3);
  EXPECT_EQ(number("SELECT COUNT(*) FROM a"), 2);
  EXPECT_EQ(number("SELECT COUNT(*) FROM b"), 1);
}

TEST_F(PgFoundationTest, ALaterBuildAppliesOnlyItsNewMigrationsAndAnOlderOneNone) {
  auto c = connect();
  std::vector<std::string_view> migrations = {"CREATE TABLE a (id integer)",
                                              "INSERT INTO a VALUES (1)"};
  EXPECT_EQ(*migrate(*c, migrations, 10), 2);
  EXPECT_EQ(*migrate(*c, migrations, 11), 0);
  migrations.push_back("INSERT INTO a VALUES (2)");
  EXPECT_EQ(*migrate(*c, migrations, 12), 1);
  migrations.pop_back();
  EXPECT_EQ(*migrate(*c, migrations, 13), 0);  // an older node during a rolling upgrade
  EXPECT_EQ(number("SELECT COUNT(*) FROM a"), 2);
  EXPECT_EQ(number("SELECT MAX(applied_at) FROM schema_migrations"), 12);
}

TEST_F(PgFoundationTest, AFailingMigrationLeavesTheDatabaseAsItWas) {
  auto c = connect();
  const std::vector<std::string_view> migrations = {"CREATE TABLE a (id integer)",
                                                    "INSERT INTO no_such_table VALUES (1)"};
  auto r = migrate(*c, migrations, 10);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  EXPECT_NE(r.error().message.find("migration 2"), std::string::npos) << r.error().message;
  EXPECT_EQ(number("SELECT COUNT(*) FROM pg_tables WHERE tablename IN ('a', 'schema_migrations')"),
            0);
  EXPECT_TRUE(c->healthy());
  EXPECT_EQ(*migrate(*c, {"CREATE TABLE a (id integer)"}, 11), 1);  // the connection still works
}

TEST_F(PgFoundationTest, ATransactionCommitsWhenItsWorkSucceedsAndRollsBackOtherwise) {
  PgPool pool(pool_options(2, std::chrono::milliseconds(2000)));
  ASSERT_TRUE(
      pool.run([](PgConnection& c) { return c.exec("CREATE TABLE t (id text PRIMARY KEY)"); })
          .ok());
  auto insert = [](const std::string& id) {
    return [id](PgConnection& c) -> Status<> {
      auto r = c.query("INSERT INTO t VALUES ($1)", {id});
      if (!r) return fail(std::move(r.error()));
      return Ok{};
    };
  };
  ASSERT_TRUE(pool.transaction(insert("a")).ok());
  // Work that fails part-way: its first row goes with it.
  auto failed = pool.transaction([&](PgConnection& c) -> Status<> {
    if (auto s = insert("b")(c); !s) return s;
    return insert("a")(c);  // a duplicate
  });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, ErrorCode::kConflict);
  // Work that ignores a failed statement and claims success is not committed either.
  auto ignored = pool.transaction([&](PgConnection& c) -> Status<> {
    (void)insert("c")(c);
    (void)insert("a")(c);
    return Ok{};
  });
  EXPECT_FALSE(ignored.ok());
  EXPECT_EQ(number("SELECT COUNT(*) FROM t"), 1);
}

// With every connection leased, a caller gets kIo once its wait is over, not a hang; the
// connection it waited for comes back to the pool and serves the next caller.
TEST_F(PgFoundationTest, ThePoolIsBoundedAndAWaitEndsInAnError) {
  PgPool pool(pool_options(1, std::chrono::milliseconds(200)));
  std::atomic<bool> held{false}, done{false};
  std::thread holder([&] {
    (void)pool.run([&](PgConnection&) -> Status<> {
      held = true;
      while (!done.load()) std::this_thread::yield();
      return Ok{};
    });
  });
  while (!held.load()) std::this_thread::yield();
  auto waited = pool.run([](PgConnection& c) { return c.exec("SELECT 1"); });
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.error().code, ErrorCode::kIo);
  EXPECT_EQ(pool.open_connections(), 1);
  done = true;
  holder.join();
  EXPECT_TRUE(pool.run([](PgConnection& c) { return c.exec("SELECT 1"); }).ok());
  EXPECT_EQ(pool.open_connections(), 1);
}

// A connection the server ended while it sat idle in the pool (a restart, a failover, an
// operator) is dropped when it is leased: the very next call already runs on a new
// connection, so a database restart costs no failed request.
TEST_F(PgFoundationTest, AConnectionLostWhileIdleIsReplacedBeforeItFailsACall) {
  PgPool pool(pool_options(2, std::chrono::milliseconds(2000)));
  auto pid = pool.run([](PgConnection& c) -> Result<int> { return c.backend_pid(); });
  ASSERT_TRUE(pid.ok());
  ASSERT_TRUE(admin_->query("SELECT pg_terminate_backend($1)", {std::to_string(*pid)}).ok());
  // pg_terminate_backend only signals: wait (bounded) until the session is gone.
  for (int i = 0; i < 500; ++i) {
    auto left = admin_->query("SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1",
                              {std::to_string(*pid)});
    if (left.ok() && left->i64(0, 0) == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // A real round trip: it fails on the dead connection, succeeds only on a new one.
  auto again = pool.run([](PgConnection& c) -> Result<int64_t> {
    auto r = c.query("SELECT pg_backend_pid()");
    if (!r) return fail(std::move(r.error()));
    return r->i64(0, 0);
  });
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_NE(*again, *pid);
  EXPECT_EQ(pool.open_connections(), 1);  // the dead one no longer counts
}

// A connection lost while leased (the statement was on its way) fails that call with kIo,
// never a hang, and is not returned to the pool: the next call runs on a new connection.
TEST_F(PgFoundationTest, AConnectionLostDuringACallFailsItAndIsReplaced) {
  PgPool pool(pool_options(1, std::chrono::milliseconds(2000)));
  auto lost = pool.run([&](PgConnection& c) -> Status<> {
    auto killed =
        admin_->query("SELECT pg_terminate_backend($1)", {std::to_string(c.backend_pid())});
    if (!killed) return fail(std::move(killed.error()));
    return c.exec("SELECT pg_sleep(5)");  // the server ends the session
  });
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.error().code, ErrorCode::kIo);
  EXPECT_TRUE(pool.run([](PgConnection& c) { return c.exec("SELECT 1"); }).ok());
}

// issue16:cluster. A server that stops answering without closing the connection (frozen, its
// host gone, a partition: nothing comes back) costs a call at most the answer timeout, then
// kIo, never a hang; the connection is given up and the next call runs on a new one.
TEST_F(PgFoundationTest, AStatementNotAnsweredInTimeFailsAndItsConnectionIsReplaced) {
  PgPool pool(pool_options(1, std::chrono::milliseconds(2000)));
  int first_pid = 0;
  const auto start = std::chrono::steady_clock::now();
  auto slow = pool.run([&](PgConnection& c) -> Status<> {
    first_pid = c.backend_pid();
    c.set_answer_timeout(std::chrono::milliseconds(300));
    auto s = c.exec("SELECT pg_sleep(5)");  // the server answers only after 5 s
    EXPECT_FALSE(c.healthy());
    return s;
  });
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, ErrorCode::kIo);
  EXPECT_LT(waited, std::chrono::seconds(4));  // it gave up before the server answered
  auto next = pool.run([](PgConnection& c) -> Result<int> {
    EXPECT_EQ(c.answer_timeout(), PgConnection::kAnswerTimeout);  // a new connection's default
    auto r = c.query("SELECT 1");
    if (!r) return fail(std::move(r.error()));
    return c.backend_pid();
  });
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_NE(*next, first_pid);
  EXPECT_EQ(pool.open_connections(), 1);
}

}  // namespace
}  // namespace stagepass::postgresql

namespace stagepass::postgresql {
namespace {

// A "database" that accepts TCP connections and never answers (a frozen server, a
// partition): each connect waits out connect_timeout. Counts the attempts it saw.
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 64) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      ADD_FAILURE() << "cannot listen on the loopback";
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0 || stopping_) {
          if (c >= 0) ::close(c);
          return;
        }
        held_.push_back(c);
        ++accepted_;
      }
    });
  }
  ~SilentServer() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : held_) ::close(c);
  }
  std::string url() const {
    return "postgresql://nobody@127.0.0.1:" + std::to_string(port_) + "/nothing";
  }
  int accepted() const { return accepted_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> accepted_{0};
  std::vector<int> held_;
  std::thread thread_;
};

// While the database does not answer connects, one caller at a time tries (after
// kProbeEvery) and every other caller fails at once with kIo (then 503), instead of each
// waiting out its own connect timeout: the attempts the server sees show it.
TEST(PgPoolOutage, AnUnreachableDatabaseIsProbedByOneCallerWhileTheOthersFailAtOnce) {
  SilentServer silent;
  PgPool pool({silent.url(), "", 4, std::chrono::milliseconds(1000)});
  auto select = [&] { return pool.run([](PgConnection& c) { return c.exec("SELECT 1"); }); };
  auto first = select();  // waits out connect_timeout
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.error().code, ErrorCode::kIo);
  EXPECT_EQ(silent.accepted(), 1);
  for (int i = 0; i < 5; ++i) {
    auto fast = select();
    ASSERT_FALSE(fast.ok());
    EXPECT_EQ(fast.error().code, ErrorCode::kIo);
  }
  EXPECT_EQ(silent.accepted(), 1) << "a caller tried to connect while connects were held back";

  std::this_thread::sleep_for(PgPool::kProbeEvery + std::chrono::milliseconds(100));
  std::thread probe([&] { EXPECT_FALSE(select().ok()); });
  for (int i = 0; i < 1000 && silent.accepted() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(silent.accepted(), 2) << "the probe never tried";
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(select().ok());  // while the probe waits
  probe.join();
  EXPECT_EQ(silent.accepted(), 2) << "only the probe may try";
}

}  // namespace
}  // namespace stagepass::postgresql

namespace stagepass::postgresql {
namespace {

// Connection errors are logged: no password reaches them, however the URL spells it, and a
// URL libpq cannot parse (a '/' in the password) gets a fixed message rather than libpq's,
// which quotes pieces of the URL. Nothing listens on port 1 of the loopback.
TEST(PgConnectionErrors, NameNoPasswordWhateverTheUrl) {
  for (const std::string url : {"postgresql://u:topsecretpw@127.0.0.1:1/db",
                                "postgresql://u@127.0.0.1:1/db?password=topsecretpw",
                                "host=127.0.0.1 port=1 user=u password=topsecretpw dbname=db",
                                "postgresql://u:top/secretpw@127.0.0.1:1/db"}) {
    auto c = PgConnection::connect(url);
    ASSERT_FALSE(c.ok()) << url;
    EXPECT_EQ(c.error().message.find("secretpw"), std::string::npos) << c.error().message;
    EXPECT_EQ(c.error().message.find("top"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace stagepass::postgresql
