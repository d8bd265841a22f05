// ConnectionPool: the concurrency model shared by every SQLite-backed store: one writer
// connection (SQLite admits one writer at a time) and a pool of reader connections that
// read concurrently under WAL. read()/write() run a function on a connection and turn
// SqliteError into Result errors (kConflict for constraint violations, kIo otherwise).
//
// Group commit: one writer thread owns the writer connection. write() hands it the work
// and waits; the writer takes every write queued so far, runs each inside its own
// SAVEPOINT of one transaction, commits once, and wakes the callers: a write() returns only
// once its transaction is durable (synchronous=FULL), and while one COMMIT waits for the
// disk the next writes queue up to share the next one. A write whose function throws is
// rolled back alone (SqliteError becomes its error; other exceptions are rethrown to its
// caller); a failed COMMIT fails every write of its group.
// Thread safety: read() and write() may be called from any thread; they block, so call them
// from worker threads; a write function must not call write() again.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "store/sqlite/connection.hpp"
#include "store/sqlite/writer_settings.hpp"

namespace stagepass::sqlite {

inline Error to_error(const SqliteError& e) {
  if ((e.code & 0xff) == SQLITE_CONSTRAINT) return {ErrorCode::kConflict, e.what()};
  return {ErrorCode::kIo, e.what()};
}

// Called by the writer thread around each group: `begin` inside the transaction before the
// group's writes and `before` after them, just before COMMIT (both may read, neither may
// write), `after` once the COMMIT succeeded. Any may be empty.
struct CommitHooks {
  std::function<void(Connection&)> begin;
  std::function<void(Connection&)> before;
  std::function<void()> after;
};

// Who waits for a write. kRequest: a request being answered (a grant, a revocation, a
// sign-in). kBackground: nobody; the node's own chores ("last used" times, usage series,
// pruning), which run in batches every few seconds. The writer is raised
// (raise_writer_priority) only for groups with a request's write in them.
enum class Lane { kRequest, kBackground };

class ConnectionPool {
 public:
  // Opens (creating the file and its directory) the writer, runs `migrate` on it, then opens
  // `readers` reader connections. Throws on failure (startup only). `writer_name` names the
  // writer thread (at most 15 characters: Linux's limit) for top -H, perf and /proc.
  ConnectionPool(const std::string& path, int readers,
                 const std::function<void(Connection&)>& migrate, CommitHooks hooks = {},
                 const char* writer_name = "sp-writer");
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  template <class F>
  auto read(F&& f) -> decltype(f(std::declval<Connection&>())) {
    try {
      Lease lease(*this);
      return f(*lease.c);
    } catch (const SqliteError& e) {
      return fail(to_error(e));
    }
  }

  template <class F>
  auto write(F&& f, Lane lane = Lane::kRequest) -> decltype(f(std::declval<Connection&>())) {
    std::optional<decltype(f(std::declval<Connection&>()))> result;
    auto failed = in_group([&](Connection& c) { result.emplace(f(c)); }, lane);
    if (failed) return fail(std::move(*failed));
    return std::move(*result);
  }

  // Writes run so far, and the commits that ended their groups (durable, or failed), for
  // metrics and tests.
  // The writer's own time: busy, from taking a group to waking its callers; commit, the
  // COMMIT statements alone (the log written and synced, and the checkpoints SQLite runs
  // inside them). Every durable write waits for this one thread, so busy_seconds growing
  // by about a second a second means the node's durable writes are at their capacity.
  struct GroupStats {
    uint64_t writes = 0;
    uint64_t commits = 0;
    double busy_seconds = 0;
    double commit_seconds = 0;
  };
  GroupStats group_stats() const;

  // Runs the writer thread `steps` nice levels above the nice it started with, the other
  // threads' (Linux setpriority on the thread; 0 puts it back, a negative value lowers it;
  // nice stops at -20). Raising needs an RLIMIT_NICE that allows it or
  // CAP_SYS_NICE: without, the error says so and nothing changes. Why: under mixed load the
  // writer, the one thread every durable write waits for, lost its core to the request
  // threads in the middle of its commits (issue 17).
  // A raised writer goes back to its starting nice for a group of kBackground writes only
  // (none of a request queued with it or behind it), and is raised again when that group
  // ends, or as soon as a kRequest write is queued (by the thread that queues it, so a
  // request does not wait for a lowered writer to run its group): without that, the
  // batches of "last used" times of a load of many new grants took a core from the request
  // threads every flush (issue 17, cold /v1/me).
  Status<> raise_writer_priority(int steps);

 private:
  // Runs `work` on the writer inside the current group and waits until that group is
  // committed. nullopt: done and durable; otherwise why not.
  std::optional<Error> in_group(const std::function<void(Connection&)>& work, Lane lane);
  // The writer's nice between groups (raise_writer_priority): nothing to do unless it was
  // raised above its starting nice. Under group_mu_: raises it back if lowered; marks it
  // lowered for a group of background writes only, and returns whether lower_writer() (called
  // without the lock) must then lower it.
  void raise_writer_locked();
  bool mark_lowered_locked(bool background_only);
  void lower_writer();
  void set_raised_locked();  // setpriority to raised_nice_; on failure, raised_nice_ = base

  struct Lease {
    explicit Lease(ConnectionPool& p);
    ~Lease();
    ConnectionPool& pool;
    std::unique_ptr<Connection> c;
  };

  struct Job;
  void writer_loop();
  static void wake(Job* job) noexcept;  // a caller never woken would hang: fail loudly instead

  static constexpr size_t kMaxGroup = writer_settings::kMaxGroup;
  static constexpr int kCheckpointPages = writer_settings::kCheckpointPages;
  static constexpr int kWriterCacheKiB = writer_settings::kCacheKiB;

  mutable std::mutex group_mu_;
  std::condition_variable work_cv_;  // the writer thread waits for jobs
  std::vector<Job*> queue_;
  bool stopping_ = false;
  GroupStats stats_;
  std::unique_ptr<Connection> writer_;
  const CommitHooks hooks_;
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Connection>> readers_;
  // The writer's kernel id, known before the constructor returns, and its nice when it
  // started (the constructing thread's, which the other threads share).
  std::atomic<pid_t> writer_tid_{0};
  int base_nice_ = 0;
  // Under group_mu_: the nice raise_writer_priority set (base_nice_ until then, and again after
  // a raise failed), and whether the writer is marked lowered: at, or about to go to,
  // base_nice_ for a group of background writes.
  int raised_nice_ = 0;
  bool lowered_ = false;
  std::thread writer_thread_;  // last: starts after everything it uses exists
};

}  // namespace stagepass::sqlite
