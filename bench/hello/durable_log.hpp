// DurableLog: the writer of `stagepass-bench-hello --durable` (hello_server.cpp): stagepass's
// accounts writer alone. One thread takes every row queued while its previous transaction
// ran (at most the pool's group bound), inserts them in one transaction and commits it (group
// commit), then hands the transaction's completions to another thread in one call, as the
// product's writer wakes one caller of a group and the callers wake the rest. The connection
// has the product writer's settings (src/store/sqlite/writer_settings.hpp, and Connection's
// pragmas), the thread its name and raised priority, and the busy and COMMIT seconds are
// counted as the product counts them, so the harness reads both alike.
// Thread safety: append() and metrics() from any thread; set_waker() before the first append().
#pragma once

#include <pthread.h>
#include <sched.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iterator>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/writer_settings.hpp"

namespace stagepass::bench {

class DurableLog {
 public:
  using Done = std::function<void(bool committed)>;
  // Runs the Dones of one transaction (on another thread than the writer's).
  using Waker = std::function<void(std::vector<Done>, bool committed)>;

  // Opens or creates the database at `path` as stagepass's Connection does; throws
  // std::runtime_error when it cannot. `commit_delay`: a pause before every COMMIT, for the
  // smoke test only (an answer that did not wait for its commit then always comes first).
  DurableLog(const std::string& path, std::chrono::milliseconds commit_delay)
      : commit_delay_(commit_delay) {
    namespace settings = sqlite::writer_settings;
    if (sqlite3_open_v2(path.c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      fail("open");
    }
    // No busy timeout: nothing else writes this file, and a lock held by hand (the smoke
    // test) must fail a commit at once.
    if (query_text("PRAGMA journal_mode=WAL") != "wal") fail("journal_mode=WAL refused");
    exec("PRAGMA synchronous=FULL");
    exec(("PRAGMA wal_autocheckpoint=" + std::to_string(settings::kCheckpointPages)).c_str());
    exec(("PRAGMA cache_size=-" + std::to_string(settings::kCacheKiB)).c_str());
    exec("PRAGMA mmap_size=0");
    exec(
        "CREATE TABLE IF NOT EXISTS tokens (digest BLOB PRIMARY KEY, claims TEXT NOT NULL) "
        "WITHOUT ROWID");
    if (sqlite3_prepare_v2(db_, "INSERT INTO tokens (digest, claims) VALUES (?, ?)", -1, &insert_,
                           nullptr) != SQLITE_OK) {
      fail("prepare");
    }
    thread_ = std::thread([this] {
      ::pthread_setname_np(::pthread_self(), "sp-acct-writer");
      // As a node raises its writer by default (STAGEPASS_WRITER_PRIORITY), and as it does,
      // not with a single usable CPU; without the right to, it says so and runs level.
      cpu_set_t cpus;
      CPU_ZERO(&cpus);
      const bool one_cpu = ::sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) < 2;
      const auto tid = static_cast<id_t>(::gettid());
      errno = 0;
      const int nice = ::getpriority(PRIO_PROCESS, tid);
      if (!one_cpu && (errno != 0 || ::setpriority(PRIO_PROCESS, tid,
                                                   nice - settings::kDefaultPriorityStep) != 0)) {
        std::fprintf(stderr, "--durable: the writer's priority was not raised: %s\n",
                     std::strerror(errno));
      }
      run();
    });
  }
  DurableLog(const DurableLog&) = delete;
  DurableLog& operator=(const DurableLog&) = delete;
  ~DurableLog() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
  }

  // Set before the first append(): how the writer hands a transaction's Dones over.
  void set_waker(Waker waker) { waker_ = std::move(waker); }

  // The writer's counters, under stagepass's series names, one per line (Prometheus text).
  // COMMIT time is read first and added last, so it never reads above the busy time.
  std::string metrics() const {
    const auto commit_ns = commit_ns_.load();
    const auto busy_ns = busy_ns_.load();
    return "stagepass_store_writer_busy_seconds_total " +
           std::to_string(static_cast<double>(busy_ns) / 1e9) +
           "\nstagepass_store_commit_seconds_total " +
           std::to_string(static_cast<double>(commit_ns) / 1e9) +
           "\nstagepass_store_writes_total " + std::to_string(writes_.load()) +
           "\nstagepass_store_commits_total " + std::to_string(commits_.load()) + "\n";
  }

  // Queues the row (its key and its text); `done` runs, through the waker, once its
  // transaction ended.
  void append(std::string digest, std::string claims, Done done) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back({std::move(digest), std::move(claims), std::move(done)});
    }
    cv_.notify_one();
  }

 private:
  struct Item {
    std::string digest;
    std::string claims;
    Done done;
  };

  // Constructor only: closes what was opened, then throws.
  [[noreturn]] void fail(const char* what) {
    const std::string message =
        std::string("--durable: ") + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
    sqlite3_finalize(insert_);
    sqlite3_close(db_);
    throw std::runtime_error(message);
  }
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(sql);
  }
  // The first column of the first row `sql` returns, as text ("" when none).
  std::string query_text(const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) != SQLITE_OK) fail(sql);
    std::string text;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      if (const auto* p = sqlite3_column_text(stmt, 0)) text = reinterpret_cast<const char*>(p);
    }
    sqlite3_finalize(stmt);
    return text;
  }

  // Takes the rows queued (at most the group bound of stagepass's writer), commits them in one
  // transaction, answers them, repeats.
  void run() {
    using Clock = std::chrono::steady_clock;
    const auto ns = [](Clock::duration d) {
      return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    };
    std::vector<Item> batch;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, nothing left
        const auto n = static_cast<std::ptrdiff_t>(
            std::min(queue_.size(), sqlite::writer_settings::kMaxGroup));
        std::move(queue_.begin(), queue_.begin() + n, std::back_inserter(batch));
        queue_.erase(queue_.begin(), queue_.begin() + n);
      }
      const auto start = Clock::now();
      bool ok = sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
      for (auto& item : batch) {
        if (!ok) break;
        sqlite3_bind_blob(insert_, 1, item.digest.data(), static_cast<int>(item.digest.size()),
                          SQLITE_STATIC);
        sqlite3_bind_text(insert_, 2, item.claims.data(), static_cast<int>(item.claims.size()),
                          SQLITE_STATIC);
        ok = sqlite3_step(insert_) == SQLITE_DONE;
        sqlite3_reset(insert_);
      }
      sqlite3_clear_bindings(insert_);  // the rows' strings go with the batch
      if (commit_delay_.count() > 0) std::this_thread::sleep_for(commit_delay_);
      const auto commit_start = Clock::now();
      ok = ok && sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
      const auto commit_end = Clock::now();
      if (!ok) {
        std::fprintf(stderr, "--durable: rows not committed: %s\n", sqlite3_errmsg(db_));
        if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
      }
      // One hand-over per transaction, as stagepass's writer wakes one caller of a group and
      // the callers wake the rest: the wakes are not the writer's work.
      std::vector<Done> dones;
      dones.reserve(batch.size());
      for (auto& item : batch) dones.push_back(std::move(item.done));
      waker_(std::move(dones), ok);
      const auto end = Clock::now();
      if (ok) {
        writes_ += static_cast<std::int64_t>(batch.size());
        commits_ += 1;
      }
      busy_ns_ += ns(end - start);
      commit_ns_ += ns(commit_end - commit_start);
      batch.clear();
    }
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Item> queue_;
  bool stopping_ = false;
  const std::chrono::milliseconds commit_delay_;
  Waker waker_;
  std::atomic<std::int64_t> busy_ns_{0};
  std::atomic<std::int64_t> commit_ns_{0};
  std::atomic<std::int64_t> writes_{0};
  std::atomic<std::int64_t> commits_{0};
  std::thread thread_;
};

}  // namespace stagepass::bench
