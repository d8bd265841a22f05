#include "store/sqlite/connection_pool.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace stagepass::sqlite {
namespace {

class GroupCommitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("sp-pool-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "t.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  static void schema(Connection& c) {
    c.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  }
  Status<> insert(ConnectionPool& pool, int64_t id) {
    return pool.write([&](Connection& db) -> Status<> {
      db.prepare("INSERT INTO t (id, v) VALUES (?, 'x')").bind_all(id).run();
      return Ok{};
    });
  }
  int64_t count(const std::string& path) {
    ConnectionPool fresh(path, 1, schema);
    return *fresh.read([](Connection& db) -> Result<int64_t> {
      auto s = db.prepare("SELECT count(*) FROM t");
      s.step();
      return s.i64(0);
    });
  }
  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(GroupCommitTest, ConcurrentWritersShareCommitsAndAllLand) {
  constexpr int kThreads = 32, kEach = 50;
  ConnectionPool::GroupStats stats;
  {
    ConnectionPool pool(path_, 2, schema);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kEach; ++i) {
          if (insert(pool, int64_t{t} * 1000 + i)) ++ok;
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(ok, kThreads * kEach);
    stats = pool.group_stats();
  }
  // What write() reported as done is in the file, seen by a new connection.
  EXPECT_EQ(count(path_), kThreads * kEach);
  EXPECT_EQ(stats.writes, uint64_t{kThreads * kEach});
  EXPECT_LT(stats.commits, stats.writes) << "no two writes ever shared a commit";
  // The writer's time: every COMMIT took some, and is part of the groups' time, which also
  // holds BEGIN and each write's savepoint.
  EXPECT_GT(stats.commit_seconds, 0.0);
  EXPECT_LT(stats.commit_seconds, stats.busy_seconds);
  std::cout << "[ info ] " << stats.writes << " writes in " << stats.commits << " commits\n";
}

TEST_F(GroupCommitTest, AFailingWriteIsRolledBackAloneAndReported) {
  ConnectionPool pool(path_, 1, schema);
  ASSERT_TRUE(insert(pool, 1));
  std::atomic<int> conflicts{0}, ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        // Every writer also tries id 1 again: a constraint violation inside the group.
        auto dup = insert(pool, 1);
        if (!dup && dup.error().code == ErrorCode::kConflict) ++conflicts;
        if (insert(pool, 100 + t * 100 + i)) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(conflicts, 160);
  EXPECT_EQ(ok, 160);
  EXPECT_EQ(count(path_), 161);
}

// A committed group is woken as a tree, each caller waking the ones below it; a caller whose
// write threw (rethrown to it, not an Error) still wakes them before it rethrows.
TEST_F(GroupCommitTest, AWriteThatThrowsStillWakesTheRestOfItsGroup) {
  constexpr int kThreads = 24, kEach = 30;
  ConnectionPool pool(path_, 1, schema);
  std::atomic<int> thrown{0}, ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        if (i % 3 == 0) {
          try {
            (void)pool.write([](Connection&) -> Status<> { throw std::runtime_error("boom"); });
          } catch (const std::runtime_error&) {
            ++thrown;
          }
        } else if (insert(pool, int64_t{t} * 1000 + i)) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();  // a caller never woken hangs here (ctest's --timeout)
  const auto stats = pool.group_stats();
  EXPECT_LT(stats.commits, stats.writes) << "no group of more than one write was woken";
  EXPECT_EQ(thrown, kThreads * kEach / 3);
  EXPECT_EQ(ok, kThreads * kEach * 2 / 3);
  EXPECT_EQ(count(path_), kThreads * kEach * 2 / 3);
}

// The writer's page cache is 64 MiB (its pages stay valid between its transactions); the
// readers keep SQLite's default.
TEST_F(GroupCommitTest, TheWriterKeepsALargerPageCacheThanTheReaders) {
  ConnectionPool pool(path_, 1, schema);
  auto cache_size = [](Connection& db) -> Result<int64_t> {
    auto s = db.prepare("PRAGMA cache_size");
    s.step();
    return s.i64(0);
  };
  EXPECT_EQ(*pool.write(cache_size), -64 * 1024);
  EXPECT_EQ(*pool.read(cache_size), -2000);
}

TEST_F(GroupCommitTest, ATransactionInsideAWriteIsASavepoint) {
  ConnectionPool pool(path_, 1, schema);
  auto r = pool.write([&](Connection& db) -> Status<> {
    {
      Transaction tx(db);  // not committed: rolled back to its savepoint
      db.prepare("INSERT INTO t (id, v) VALUES (1, 'gone')").run();
    }
    Transaction tx(db);
    db.prepare("INSERT INTO t (id, v) VALUES (2, 'kept')").run();
    tx.commit();
    return Ok{};
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(count(path_), 1);
}

// The writer's own nice, asked on the writer thread (a write runs there).
int writer_nice(ConnectionPool& pool, Lane lane = Lane::kRequest) {
  int seen = 99;
  auto asked = pool.write(
      [&](Connection&) -> Status<> {
        seen = ::getpriority(PRIO_PROCESS, 0);
        return Ok{};
      },
      lane);
  EXPECT_TRUE(asked);
  return seen;
}

// The nice of this process's thread named `name`, read from outside it (99: no such thread).
int resting_nice(const std::string& name) {
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (!std::getline(comm, line) || line != name) continue;
    const auto tid = static_cast<id_t>(std::stol(task.path().filename().string()));
    return ::getpriority(PRIO_PROCESS, tid);
  }
  return 99;
}

// Levels count from the nice the writer started with; the thread that asks (this one) keeps
// its own. Lowering needs no privilege, so the targeting is checked everywhere.
TEST_F(GroupCommitTest, TheWriterAloneMovesByTheLevelsAsked) {
  ConnectionPool pool(path_, 2, schema);
  const int base = ::getpriority(PRIO_PROCESS, 0);
  ASSERT_EQ(writer_nice(pool), base);
  ASSERT_TRUE(pool.raise_writer_priority(-3));  // lower: always allowed
  EXPECT_EQ(writer_nice(pool), std::min(base + 3, 19));
  // Background writes go back to the starting nice only from a raised one, never above it.
  EXPECT_EQ(writer_nice(pool, Lane::kBackground), std::min(base + 3, 19));
  EXPECT_EQ(::getpriority(PRIO_PROCESS, 0), base) << "the calling thread moved";
  auto raised = pool.raise_writer_priority(7);
  if (!raised) {
    EXPECT_NE(raised.error().message.find("RLIMIT_NICE"), std::string::npos)
        << raised.error().message;
    GTEST_SKIP() << "may not raise a priority here: " << raised.error().message;
  }
  EXPECT_EQ(writer_nice(pool), std::max(base - 7, -20));
  EXPECT_EQ(::getpriority(PRIO_PROCESS, 0), base) << "the calling thread moved";
  ASSERT_TRUE(insert(pool, 1));  // and it still writes
  ASSERT_TRUE(pool.raise_writer_priority(0));
  EXPECT_EQ(writer_nice(pool), base);
}

// A raised writer runs the node's own chores (Lane::kBackground) at the nice it started with,
// so that they do not take a core from the request threads, and is raised again for the
// writes requests wait for: at once when one is queued behind a background group.
TEST_F(GroupCommitTest, BackgroundGroupsRunAtTheStartingNiceUntilARequestWrites) {
  ConnectionPool pool(path_, 2, schema, {}, "sp-test-writer");
  const int base = ::getpriority(PRIO_PROCESS, 0);
  auto raised = pool.raise_writer_priority(5);
  if (!raised) GTEST_SKIP() << "may not raise a priority here: " << raised.error().message;
  const int up = std::max(base - 5, -20);
  if (up == base) GTEST_SKIP() << "already at the highest priority";
  EXPECT_EQ(writer_nice(pool), up);
  EXPECT_EQ(writer_nice(pool, Lane::kBackground), base);
  EXPECT_EQ(resting_nice("sp-test-writer"), up) << "at rest, the writer is raised again";
  EXPECT_EQ(writer_nice(pool, Lane::kBackground), base);
  EXPECT_EQ(writer_nice(pool), up);

  // A background write that runs until the writer is raised again (or 10 s pass): the request
  // write queued meanwhile raises it while this group still runs.
  std::atomic<bool> started{false};
  int at_start = 99, at_end = 99;
  std::thread chore([&] {
    auto done = pool.write(
        [&](Connection&) -> Status<> {
          at_start = ::getpriority(PRIO_PROCESS, 0);
          started = true;
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
          while ((at_end = ::getpriority(PRIO_PROCESS, 0)) != up &&
                 std::chrono::steady_clock::now() < give_up) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
          }
          return Ok{};
        },
        Lane::kBackground);
    EXPECT_TRUE(done);
  });
  while (!started) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(insert(pool, 1));  // queued behind the chore's group; returns once both commit
  chore.join();
  EXPECT_EQ(at_start, base);
  EXPECT_EQ(at_end, up) << "a request queued behind a background group left the writer lowered";
  EXPECT_EQ(count(path_), 1);
}
}  // namespace
}  // namespace stagepass::sqlite
